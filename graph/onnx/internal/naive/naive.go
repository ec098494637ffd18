// Package naive runs a graph.Graph with plain loops in float64
// accumulation. It is the test oracle of package onnx (and its ORT test)
// until the project's fallback backend exists; it is not meant to be fast.
package naive

import (
	"fmt"
	"math"

	"github.com/lcnet-go/lcnet/graph"
)

// Run evaluates g on batch samples stored back to back in in (NCHW) and
// returns the output, batch samples back to back.
func Run(g *graph.Graph, in []float32, batch int) ([]float32, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if len(in) != batch*graph.Numel(g.InputShape()) {
		return nil, fmt.Errorf("naive: input has %d values, want %d", len(in), batch*graph.Numel(g.InputShape()))
	}
	vals := make([][]float32, len(g.Values))
	vals[g.Input] = in
	for _, n := range g.Nodes {
		ins := make([][]float32, len(n.Inputs))
		shapes := make([][]int, len(n.Inputs))
		for k, v := range n.Inputs {
			ins[k], shapes[k] = vals[v], g.Values[v].Shape
		}
		out, err := eval(n.Op, ins, shapes, g.Values[n.Output].Shape, batch)
		if err != nil {
			return nil, fmt.Errorf("naive: node %q: %w", n.Name, err)
		}
		vals[n.Output] = out
	}
	return vals[g.Output], nil
}

func act(a graph.Activation, xs []float32) {
	if a.Kind == graph.ActNone {
		return
	}
	for k, x := range xs {
		xs[k] = a.Apply(x)
	}
}

func eval(op graph.Op, ins [][]float32, shapes [][]int, outShape []int, batch int) ([]float32, error) {
	x, xs := ins[0], shapes[0]
	per := graph.Numel(xs)
	outPer := graph.Numel(outShape)
	out := make([]float32, batch*outPer)
	switch o := op.(type) {
	case *graph.Conv2D:
		conv(o, x, xs, out, outShape, batch)
		act(o.Act, out)
	case *graph.BatchNorm:
		c := xs[0]
		hw := per / c
		for k := range out {
			ch := (k / hw) % c
			inv := float64(o.Scale.Data[ch]) / math.Sqrt(float64(o.Var.Data[ch])+float64(o.Eps))
			out[k] = float32((float64(x[k])-float64(o.Mean.Data[ch]))*inv + float64(o.Shift.Data[ch]))
		}
	case *graph.Act:
		copy(out, x)
		act(o.Act, out)
	case *graph.GlobalAvgPool:
		c := xs[0]
		hw := per / c
		for b := range batch {
			for ch := range c {
				s := 0.0
				for _, v := range x[b*per+ch*hw : b*per+(ch+1)*hw] {
					s += float64(v)
				}
				out[b*c+ch] = float32(s / float64(hw))
			}
		}
	case *graph.Mul:
		y, ys := ins[1], shapes[1]
		if graph.SameShape(xs, ys) {
			for k := range out {
				out[k] = x[k] * y[k]
			}
		} else {
			c := xs[0]
			hw := per / c
			for k := range out {
				b, ch := k/per, (k/hw)%c
				out[k] = x[k] * y[b*c+ch]
			}
		}
	case *graph.BiasAdd:
		c := xs[0]
		hw := per / c
		for k := range out {
			out[k] = x[k] + o.Bias.Data[(k/hw)%c]
		}
	case *graph.Scale:
		for k := range out {
			out[k] = x[k] * o.Factor
		}
	case *graph.Identity, *graph.Reshape:
		copy(out, x)
	case *graph.FC:
		for b := range batch {
			for j := range o.Out {
				s := 0.0
				if o.Bias != nil {
					s = float64(o.Bias.Data[j])
				}
				for i := range o.In {
					s += float64(o.Weight.Data[j*o.In+i]) * float64(x[b*o.In+i])
				}
				out[b*o.Out+j] = float32(s)
			}
		}
		act(o.Act, out)
	case *graph.Softmax:
		for b := range batch {
			row := x[b*per : (b+1)*per]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(v))
			}
			s := 0.0
			for _, v := range row {
				s += math.Exp(float64(v) - m)
			}
			for k, v := range row {
				out[b*per+k] = float32(math.Exp(float64(v)-m) / s)
			}
		}
	case *graph.SE:
		c := xs[0]
		hw := per / c
		for b := range batch {
			mean := make([]float64, c)
			for ch := range c {
				for _, v := range x[b*per+ch*hw : b*per+(ch+1)*hw] {
					mean[ch] += float64(v)
				}
				mean[ch] /= float64(hw)
			}
			mid := make([]float32, o.Reduce)
			for r := range o.Reduce {
				s := 0.0
				if o.B1 != nil {
					s = float64(o.B1.Data[r])
				}
				for ch := range c {
					s += float64(o.W1.Data[r*c+ch]) * mean[ch]
				}
				mid[r] = o.Act.Apply(float32(s))
			}
			for ch := range c {
				s := 0.0
				if o.B2 != nil {
					s = float64(o.B2.Data[ch])
				}
				for r := range o.Reduce {
					s += float64(o.W2.Data[ch*o.Reduce+r]) * float64(mid[r])
				}
				gate := o.Gate.Apply(float32(s))
				for k := b*per + ch*hw; k < b*per+(ch+1)*hw; k++ {
					out[k] = x[k] * gate
				}
			}
		}
	default:
		return nil, fmt.Errorf("op %s not supported", op.Type())
	}
	return out, nil
}

func conv(c *graph.Conv2D, x []float32, xs []int, out []float32, os []int, batch int) {
	ih, iw := xs[1], xs[2]
	oh, ow := os[1], os[2]
	dh, dw := c.Dilation()
	icg, ocg := c.InC/c.Groups, c.OutC/c.Groups
	for b := range batch {
		for oc := range c.OutC {
			g := oc / ocg
			for y := range oh {
				for xo := range ow {
					s := 0.0
					if c.Bias != nil {
						s = float64(c.Bias.Data[oc])
					}
					for ic := range icg {
						ch := g*icg + ic
						for ky := range c.KH {
							iy := y*c.StrideH - c.PadT + ky*dh
							if iy < 0 || iy >= ih {
								continue
							}
							for kx := range c.KW {
								ix := xo*c.StrideW - c.PadL + kx*dw
								if ix < 0 || ix >= iw {
									continue
								}
								s += float64(c.Weight.Data[((oc*icg+ic)*c.KH+ky)*c.KW+kx]) * float64(x[((b*c.InC+ch)*ih+iy)*iw+ix])
							}
						}
					}
					out[((b*c.OutC+oc)*oh+y)*ow+xo] = float32(s)
				}
			}
		}
	}
}
