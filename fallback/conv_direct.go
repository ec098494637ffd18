package fallback

import "github.com/lcnet-go/lcnet/graph"

// newConv picks the kernel for a convolution: a GEMM for pointwise, the
// depthwise kernel for one channel per group, else the direct kernel.
func newConv(c *graph.Conv2D, in, out []int) kernel {
	switch {
	case c.Pointwise():
		return newPointwise(c, in)
	case c.Groups == c.InC && c.Groups == c.OutC:
		return newDepthwise(c, in, out)
	}
	return newDirect(c, in, out)
}

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
	d.wt = make([]float32, len(cv.Weight.Data))
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
