package fallback

import (
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/prefault"
)

// newConv picks the kernel for a convolution: a GEMM for pointwise, the
// depthwise kernel for one channel per group, else the direct kernel.
func newConv(c *graph.Conv2D, in, out []int) kernel {
	switch {
	case c.Pointwise():
		return newPointwise(c, in)
	case c.Groups == c.InC && c.Groups == c.OutC:
		return newDepthwise(c, in, out)
	case c.Groups == 1:
		return newIm2col(c, in, out)
	}
	return newDirect(c, in, out)
}

// im2col is an ungrouped convolution (the stem) as a GEMM: a few output
// rows at a time, each output pixel's receptive field ([kh][kw][inC],
// zeros where it hangs over the padding) is gathered into a row of a
// scratch matrix, which is multiplied by the packed weights.
type im2col struct {
	inC, outC, h, w, oh, ow int
	kh, kw, sh, sw, dh, dw  int
	pt, pl                  int
	k                       int // kh·kw·inC
	rows                    int // output rows per GEMM
	b                       *packedB
	act                     graph.Activation
}

func newIm2col(cv *graph.Conv2D, in, out []int) *im2col {
	d := &im2col{inC: cv.InC, outC: cv.OutC, h: in[1], w: in[2], oh: out[1], ow: out[2], kh: cv.KH, kw: cv.KW,
		sh: cv.StrideH, sw: cv.StrideW, pt: cv.PadT, pl: cv.PadL, act: cv.Act}
	d.dh, d.dw = cv.Dilation()
	d.k = d.kh * d.kw * d.inC
	d.rows = max(1, min(d.oh, 16384/(d.ow*d.k)))
	// [outC][inC][kh][kw] -> [outC][kh][kw][inC]
	w := prefault.Slice(make([]float32, len(cv.Weight.Data)))
	for co := range d.outC {
		for ci := range d.inC {
			for y := range d.kh {
				for x := range d.kw {
					w[((co*d.kh+y)*d.kw+x)*d.inC+ci] = cv.Weight.Data[((co*d.inC+ci)*d.kh+y)*d.kw+x]
				}
			}
		}
	}
	var bias []float32
	if cv.Bias != nil {
		bias = cv.Bias.Data
	}
	d.b = packB(w, d.outC, d.k, bias, useISA)
	return d
}

func (d *im2col) run(y, x, _ []float32, batch int, scratch []float32) {
	inN, outN := d.h*d.w*d.inC, d.oh*d.ow*d.outC
	for b := range batch {
		xs, ys := x[b*inN:(b+1)*inN], y[b*outN:(b+1)*outN]
		if d.b.isa != isaGo && d.dw == 1 {
			d.runImplicit(ys, xs, scratch)
			continue
		}
		for oh0 := 0; oh0 < d.oh; oh0 += d.rows {
			oh1 := min(oh0+d.rows, d.oh)
			col := scratch[:(oh1-oh0)*d.ow*d.k]
			i := 0
			for oh := oh0; oh < oh1; oh++ {
				for ow := range d.ow {
					d.gather(col[i:i+d.k], xs, oh, ow)
					i += d.k
				}
			}
			gemm((oh1-oh0)*d.ow, col, d.b, ys[oh0*d.ow*d.outC:oh1*d.ow*d.outC], d.act)
		}
	}
}

// gather writes the receptive field of output pixel (oh, ow) to dst,
// [kh][kw][inC] with zeros for taps in the padding.
func (d *im2col) gather(dst, xs []float32, oh, ow int) {
	ci := d.inC
	seg := d.kw * ci
	iw0 := ow*d.sw - d.pl
	inside := d.dw == 1 && iw0 >= 0 && iw0+d.kw <= d.w
	for kh := range d.kh {
		ih := oh*d.sh - d.pt + kh*d.dh
		row := dst[kh*seg : (kh+1)*seg]
		switch {
		case ih < 0 || ih >= d.h:
			clear(row)
		case inside: // the kernel row is contiguous in x
			copy(row, xs[(ih*d.w+iw0)*ci:])
		default:
			for kw := range d.kw {
				iw := iw0 + kw*d.dw
				if iw < 0 || iw >= d.w {
					clear(row[kw*ci : (kw+1)*ci])
				} else {
					copy(row[kw*ci:(kw+1)*ci], xs[(ih*d.w+iw)*ci:])
				}
			}
		}
	}
}

// runImplicit computes one sample without gathering the interior: for an
// output row, the pixels whose kernel rows lie inside x read, for each
// kernel row kh, kw·inC contiguous floats every sw·inC floats, which is a
// strided A matrix. The row is the sum over kh of such GEMMs against the
// kh-th block of packed weight rows (the first adds the bias, the last
// applies the activation). Border pixels are gathered.
func (d *im2col) runImplicit(ys, xs []float32, scratch []float32) {
	ci, co := d.inC, d.outC
	seg := d.kw * ci
	owLo := min(d.ow, (d.pl+d.sw-1)/d.sw)
	owHi := owLo
	if d.w-d.kw+d.pl >= 0 {
		owHi = max(owLo, min(d.ow, (d.w-d.kw+d.pl)/d.sw+1))
	}
	for oh := range d.oh {
		yrow := ys[oh*d.ow*co : (oh+1)*d.ow*co]
		khLo, khHi := d.kh, 0
		for kh := range d.kh {
			if ih := oh*d.sh - d.pt + kh*d.dh; ih >= 0 && ih < d.h {
				khLo, khHi = min(khLo, kh), kh+1
			}
		}
		lo, hi := owLo, owHi
		if khLo >= khHi {
			lo, hi = d.ow, d.ow // no kernel row inside: gather everything
		}
		if hi > lo {
			for kh := khLo; kh < khHi; kh++ {
				ih := oh*d.sh - d.pt + kh*d.dh
				flags, act := gemmFlagAccumulate, graph.NoAct
				if kh == khLo {
					flags = 0
				}
				if kh == khHi-1 {
					act = d.act
				}
				a := xs[(ih*d.w+lo*d.sw-d.pl)*ci:]
				gemmSIMDStrided(hi-lo, seg, a, d.sw*ci, d.b, kh*seg, yrow[lo*co:], co, flags, act)
			}
		}
		for _, r := range [2][2]int{{0, lo}, {hi, d.ow}} {
			n := r[1] - r[0]
			if n <= 0 {
				continue
			}
			col := scratch[:n*d.k]
			for i := range n {
				d.gather(col[i*d.k:(i+1)*d.k], xs, oh, r[0]+i)
			}
			gemm(n, col, d.b, yrow[r[0]*co:r[1]*co], d.act)
		}
	}
}

// scratch holds the gathered rows of one GEMM.
func (d *im2col) scratch() int { return d.rows * d.ow * d.k }
func (*im2col) inPlace() bool  { return false }

// direct is a general grouped, strided, padded, dilated convolution on
// channels-last data (the stem: 3×3 stride 2 on 3 channels). For each output
// pixel and group it accumulates, over the taps and input channels, a
// multiply-add across the group's contiguous output channels.
type direct struct {
	inC, outC, groups, cgi, cgo int
	h, w, oh, ow                int
	kh, kw, sh, sw, dh, dw      int
	pt, pl                      int
	wt                          []float32 // [g][kh][kw][cgi][cgo]
	bias                        []float32 // [outC]
	act                         graph.Activation
}

func newDirect(cv *graph.Conv2D, in, out []int) *direct {
	d := &direct{inC: cv.InC, outC: cv.OutC, groups: cv.Groups, cgi: cv.InC / cv.Groups, cgo: cv.OutC / cv.Groups,
		h: in[1], w: in[2], oh: out[1], ow: out[2], kh: cv.KH, kw: cv.KW, sh: cv.StrideH, sw: cv.StrideW,
		pt: cv.PadT, pl: cv.PadL, act: cv.Act}
	d.dh, d.dw = cv.Dilation()
	d.wt = prefault.Slice(make([]float32, len(cv.Weight.Data)))
	for g := range d.groups {
		for co := range d.cgo {
			for ci := range d.cgi {
				for y := range d.kh {
					for x := range d.kw {
						src := (((g*d.cgo+co)*d.cgi+ci)*d.kh+y)*d.kw + x
						dst := (((g*d.kh+y)*d.kw+x)*d.cgi+ci)*d.cgo + co
						d.wt[dst] = cv.Weight.Data[src]
					}
				}
			}
		}
	}
	d.bias = make([]float32, cv.OutC)
	if cv.Bias != nil {
		copy(d.bias, cv.Bias.Data)
	}
	return d
}

func (d *direct) run(y, x, _ []float32, batch int, _ []float32) {
	inN, outN := d.h*d.w*d.inC, d.oh*d.ow*d.outC
	cgi, cgo := d.cgi, d.cgo
	for b := range batch {
		xs, ys := x[b*inN:(b+1)*inN], y[b*outN:(b+1)*outN]
		for oh := range d.oh {
			for ow := range d.ow {
				pix := ys[(oh*d.ow+ow)*d.outC : (oh*d.ow+ow+1)*d.outC]
				copy(pix, d.bias)
				for g := range d.groups {
					yo := pix[g*cgo : (g+1)*cgo]
					for kh := range d.kh {
						ih := oh*d.sh - d.pt + kh*d.dh
						if ih < 0 || ih >= d.h {
							continue
						}
						for kw := range d.kw {
							iw := ow*d.sw - d.pl + kw*d.dw
							if iw < 0 || iw >= d.w {
								continue
							}
							base := (ih*d.w+iw)*d.inC + g*cgi
							xi := xs[base : base+cgi]
							wk := d.wt[((g*d.kh+kh)*d.kw+kw)*cgi*cgo:]
							for ci, xv := range xi {
								wr := wk[ci*cgo : (ci+1)*cgo]
								wr = wr[:len(yo)]
								for j := range yo {
									yo[j] += xv * wr[j]
								}
							}
						}
					}
				}
				applyAct(d.act, pix)
			}
		}
	}
}
func (*direct) scratch() int  { return 0 }
func (*direct) inPlace() bool { return false }
