package fallback

import "github.com/lcnet-go/lcnet/graph"

// depthwise is a k×k convolution with one input and one output channel per
// group (groups = C), any stride, padding and dilation. Channels-last lets
// every kernel tap be a multiply-add over C contiguous channels.
type depthwise struct {
	c, h, w, oh, ow int
	kh, kw          int
	sh, sw, dh, dw  int
	pt, pl          int
	pb, pr          int
	wt              []float32 // [kh][kw][c]
	bias            []float32 // [c], zero when the conv has none
	act             graph.Activation
	isa             isa
}

func newDepthwise(cv *graph.Conv2D, in, out []int) *depthwise {
	d := &depthwise{c: cv.InC, h: in[1], w: in[2], oh: out[1], ow: out[2], kh: cv.KH, kw: cv.KW,
		sh: cv.StrideH, sw: cv.StrideW, pt: cv.PadT, pl: cv.PadL, pb: cv.PadB, pr: cv.PadR, act: cv.Act, isa: useISA}
	d.dh, d.dw = cv.Dilation()
	d.wt = make([]float32, cv.KH*cv.KW*cv.InC)
	for ch := range cv.InC {
		for t := range cv.KH * cv.KW {
			d.wt[t*cv.InC+ch] = cv.Weight.Data[ch*cv.KH*cv.KW+t]
		}
	}
	d.bias = make([]float32, cv.InC)
	if cv.Bias != nil {
		copy(d.bias, cv.Bias.Data)
	}
	return d
}

// owRange returns the output columns [lo, hi) whose input column for tap
// offset off = kw·dw − pl lies inside [0, w).
func owRange(off, stride, w, ow int) (lo, hi int) {
	// iw = o·stride + off ∈ [0, w)
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if w-1-off < 0 {
		return 0, 0
	}
	hi = min(ow, (w-1-off)/stride+1)
	return lo, max(lo, hi)
}

func (d *depthwise) run(y, x, _ []float32, batch int, scratch []float32) {
	if d.isa != isaGo {
		d.runSIMD(y, x, batch, scratch)
		return
	}
	c := d.c
	inN, outN := d.h*d.w*c, d.oh*d.ow*c
	rowLen := d.ow * c
	for b := range batch {
		xs, ys := x[b*inN:(b+1)*inN], y[b*outN:(b+1)*outN]
		for oh := range d.oh {
			yrow := ys[oh*rowLen : (oh+1)*rowLen]
			for o := 0; o < rowLen; o += c {
				copy(yrow[o:o+c], d.bias)
			}
			for kh := range d.kh {
				ih := oh*d.sh - d.pt + kh*d.dh
				if ih < 0 || ih >= d.h {
					continue
				}
				xrow := xs[ih*d.w*c : (ih+1)*d.w*c]
				for kw := range d.kw {
					off := kw*d.dw - d.pl
					lo, hi := owRange(off, d.sw, d.w, d.ow)
					wk := d.wt[(kh*d.kw+kw)*c : (kh*d.kw+kw+1)*c]
					for o := lo; o < hi; o++ {
						iw := o*d.sw + off
						yo := yrow[o*c : (o+1)*c]
						xi := xrow[iw*c : (iw+1)*c]
						xi = xi[:len(yo)]
						wk := wk[:len(yo)]
						for j := range yo {
							yo[j] += xi[j] * wk[j]
						}
					}
				}
			}
			applyAct(d.act, yrow)
		}
	}
}

func (*depthwise) scratch() int  { return 0 }
func (*depthwise) inPlace() bool { return false }
