package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Naive NCHW reference implementations of every layer kind, in float64,
// and helpers that build random networks (including PP-LCNet).

func refAct(a Act, x float64) float64 {
	switch a.Kind {
	case ActReLU:
		return math.Max(x, 0)
	case ActHardSwish:
		return x * math.Min(math.Max(x/6+0.5, 0), 1)
	case ActHardSigmoid:
		return math.Min(math.Max(float64(a.Alpha)*x+float64(a.Beta), 0), 1)
	case ActSigmoid:
		return 1 / (1 + math.Exp(-x))
	}
	return x
}

// refForward runs net on a batch of NCHW inputs.
func refForward(net *Net, in []float32, batch int) ([]float32, shape) {
	c, h, w := net.InC, net.InH, net.InW
	x := make([]float64, len(in))
	for i, v := range in {
		x[i] = float64(v)
	}
	for _, l := range net.Layers {
		var y []float64
		switch l.Kind {
		case LayerConv:
			g, sh, sw := or1(l.Groups), or1(l.StrideH), or1(l.StrideW)
			oh := (h+l.PadTop+l.PadBottom-l.KH)/sh + 1
			ow := (w+l.PadLeft+l.PadRight-l.KW)/sw + 1
			icg, ocg := c/g, l.OutC/g
			y = make([]float64, batch*l.OutC*oh*ow)
			for b := 0; b < batch; b++ {
				for oc := 0; oc < l.OutC; oc++ {
					gi := oc / ocg
					for yh := 0; yh < oh; yh++ {
						for yw := 0; yw < ow; yw++ {
							acc := 0.0
							if l.Bias != nil {
								acc = float64(l.Bias[oc])
							}
							for ic := 0; ic < icg; ic++ {
								for kh := 0; kh < l.KH; kh++ {
									ih := yh*sh - l.PadTop + kh
									if ih < 0 || ih >= h {
										continue
									}
									for kw := 0; kw < l.KW; kw++ {
										iw := yw*sw - l.PadLeft + kw
										if iw < 0 || iw >= w {
											continue
										}
										acc += x[((b*c+gi*icg+ic)*h+ih)*w+iw] *
											float64(l.Weight[((oc*icg+ic)*l.KH+kh)*l.KW+kw])
									}
								}
							}
							y[((b*l.OutC+oc)*oh+yh)*ow+yw] = refAct(l.Act, acc)
						}
					}
				}
			}
			c, h, w = l.OutC, oh, ow
		case LayerSE:
			r := l.SEReduce
			y = make([]float64, len(x))
			for b := 0; b < batch; b++ {
				p := make([]float64, c)
				for ch := range p {
					s := 0.0
					for i := 0; i < h*w; i++ {
						s += x[(b*c+ch)*h*w+i]
					}
					p[ch] = s / float64(h*w)
				}
				q := make([]float64, r)
				for j := range q {
					s := 0.0
					if l.B1 != nil {
						s = float64(l.B1[j])
					}
					for ch := 0; ch < c; ch++ {
						s += float64(l.W1[j*c+ch]) * p[ch]
					}
					q[j] = math.Max(s, 0)
				}
				for ch := 0; ch < c; ch++ {
					s := 0.0
					if l.B2 != nil {
						s = float64(l.B2[ch])
					}
					for j := 0; j < r; j++ {
						s += float64(l.W2[ch*r+j]) * q[j]
					}
					gate := refAct(l.Gate, s)
					for i := 0; i < h*w; i++ {
						y[(b*c+ch)*h*w+i] = x[(b*c+ch)*h*w+i] * gate
					}
				}
			}
		case LayerGlobalAvgPool:
			y = make([]float64, batch*c)
			for i := range y {
				s := 0.0
				for j := 0; j < h*w; j++ {
					s += x[i*h*w+j]
				}
				y[i] = s / float64(h*w)
			}
			h, w = 1, 1
		case LayerFC:
			in := c * h * w
			y = make([]float64, batch*l.OutC)
			for b := 0; b < batch; b++ {
				for o := 0; o < l.OutC; o++ {
					s := 0.0
					if l.Bias != nil {
						s = float64(l.Bias[o])
					}
					for i := 0; i < in; i++ {
						s += float64(l.Weight[o*in+i]) * x[b*in+i]
					}
					y[b*l.OutC+o] = refAct(l.Act, s)
				}
			}
			c, h, w = l.OutC, 1, 1
		case LayerSoftmax:
			y = make([]float64, len(x))
			for b := 0; b < batch; b++ {
				for i := 0; i < h*w; i++ {
					m := math.Inf(-1)
					for ch := 0; ch < c; ch++ {
						m = math.Max(m, x[(b*c+ch)*h*w+i])
					}
					s := 0.0
					for ch := 0; ch < c; ch++ {
						s += math.Exp(x[(b*c+ch)*h*w+i] - m)
					}
					for ch := 0; ch < c; ch++ {
						y[(b*c+ch)*h*w+i] = math.Exp(x[(b*c+ch)*h*w+i]-m) / s
					}
				}
			}
		case LayerScale:
			y = make([]float64, len(x))
			for i, v := range x {
				y[i] = v * float64(l.Factor)
			}
		case LayerActivation:
			y = make([]float64, len(x))
			for i, v := range x {
				y[i] = refAct(l.Act, v)
			}
		default:
			panic(fmt.Sprintf("refForward: kind %v", l.Kind))
		}
		x = y
	}
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out, shape{c, h, w}
}

// maxRelDiff returns max|got-want| / max|want|.
func maxRelDiff(got, want []float32) float64 {
	var md, mw float64
	for i := range want {
		md = math.Max(md, math.Abs(float64(got[i])-float64(want[i])))
		mw = math.Max(mw, math.Abs(float64(want[i])))
	}
	if mw == 0 {
		return md
	}
	return md / mw
}

func randSlice(r *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32((r.Float64()*2 - 1) * scale)
	}
	return s
}

// conv returns a random conv layer: k×k kernel, strides (sh, sw), pads
// (top, left, bottom, right).
func conv(r *rand.Rand, name string, inC, outC, kh, kw, sh, sw int, pads [4]int, groups int, bias bool, act Act) Layer {
	fan := float64(inC / groups * kh * kw)
	l := Layer{Kind: LayerConv, Name: name, InC: inC, OutC: outC, KH: kh, KW: kw, StrideH: sh, StrideW: sw,
		PadTop: pads[0], PadLeft: pads[1], PadBottom: pads[2], PadRight: pads[3], Groups: groups, Act: act,
		Weight: randSlice(r, outC*(inC/groups)*kh*kw, math.Sqrt(6/fan))}
	if bias {
		l.Bias = randSlice(r, outC, 0.1)
	}
	return l
}

func se(r *rand.Rand, name string, c, red int, gate Act, bias bool) Layer {
	l := Layer{Kind: LayerSE, Name: name, InC: c, SEReduce: red, Gate: gate,
		W1: randSlice(r, red*c, math.Sqrt(3/float64(c))), W2: randSlice(r, c*red, math.Sqrt(3/float64(red)))}
	if bias {
		l.B1, l.B2 = randSlice(r, red, 0.1), randSlice(r, c, 0.1)
	}
	return l
}

func fc(r *rand.Rand, name string, in, out int, bias bool, act Act) Layer {
	l := Layer{Kind: LayerFC, Name: name, InC: in, OutC: out, Act: act, Weight: randSlice(r, out*in, math.Sqrt(3/float64(in)))}
	if bias {
		l.Bias = randSlice(r, out, 0.1)
	}
	return l
}

// makeDivisible is PaddleClas' make_divisible(v, 8).
func makeDivisible(v float64) int {
	n := max(8, int(v+4)/8*8)
	if float64(n) < 0.9*v {
		n += 8
	}
	return n
}

var (
	hswish = Act{Kind: ActHardSwish}
	hsig6  = Act{Kind: ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}
	hsig5  = Act{Kind: ActHardSigmoid, Alpha: 0.2, Beta: 0.5}
	relu   = Act{Kind: ActReLU}
)

// ppLCNet builds PP-LCNet (PaddleClas semantics, BN folded, random weights)
// at the given scale for an inH×inW input: stem, 13 blocks, GAP, 1x1 conv to
// 1280 + hardswish, scale 0.8, FC 1280->classes, softmax.
func ppLCNet(r *rand.Rand, scale float64, inH, inW, classes int) *Net {
	blocks := []struct {
		k, in, out, s int
		se            bool
	}{
		{3, 16, 32, 1, false}, {3, 32, 64, 2, false}, {3, 64, 64, 1, false}, {3, 64, 128, 2, false},
		{3, 128, 128, 1, false}, {3, 128, 256, 2, false}, {5, 256, 256, 1, false}, {5, 256, 256, 1, false},
		{5, 256, 256, 1, false}, {5, 256, 256, 1, false}, {5, 256, 256, 1, false}, {5, 256, 512, 2, true},
		{5, 512, 512, 1, true},
	}
	net := &Net{InC: 3, InH: inH, InW: inW}
	add := func(l Layer) { net.Layers = append(net.Layers, l) }
	c0 := makeDivisible(16 * scale)
	add(conv(r, "stem", 3, c0, 3, 3, 2, 2, [4]int{1, 1, 1, 1}, 1, true, hswish))
	for i, b := range blocks {
		ci, co := makeDivisible(float64(b.in)*scale), makeDivisible(float64(b.out)*scale)
		p := b.k / 2
		add(conv(r, fmt.Sprintf("b%02d.dw", i+1), ci, ci, b.k, b.k, b.s, b.s, [4]int{p, p, p, p}, ci, true, hswish))
		if b.se {
			add(se(r, fmt.Sprintf("b%02d.se", i+1), ci, ci/4, hsig6, true))
		}
		add(conv(r, fmt.Sprintf("b%02d.pw", i+1), ci, co, 1, 1, 1, 1, [4]int{}, 1, true, hswish))
	}
	last := makeDivisible(512 * scale)
	add(Layer{Kind: LayerGlobalAvgPool, Name: "gap"})
	add(conv(r, "last_conv", last, 1280, 1, 1, 1, 1, [4]int{}, 1, false, hswish))
	add(Layer{Kind: LayerScale, Name: "dropout", Factor: 0.8})
	add(fc(r, "fc", 1280, classes, true, Act{}))
	add(Layer{Kind: LayerSoftmax, Name: "softmax"})
	return net
}
