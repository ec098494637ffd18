package fallback

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lcnet-go/lcnet/graph"
)

// This file is a naive NCHW interpreter for graphs, written for clarity
// (float64 accumulation, no layout tricks): the reference every kernel is
// checked against.

// refRun evaluates g on batch samples of NCHW input.
func refRun(g *graph.Graph, in []float32, batch int) ([]float32, error) {
	vals := make([][]float32, len(g.Values))
	vals[g.Input] = in
	shapes := make([][]int, len(g.Values))
	shapes[g.Input] = g.Values[g.Input].Shape
	for _, n := range g.Nodes {
		ins := make([][]int, len(n.Inputs))
		for i, v := range n.Inputs {
			ins[i] = shapes[v]
		}
		out, err := n.Op.InferShape(ins)
		if err != nil {
			return nil, err
		}
		shapes[n.Output] = out
		x := vals[n.Inputs[0]]
		s := ins[0]
		var y []float32
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			y = refConv(op, x, batch, s, out)
		case *graph.BatchNorm:
			c, sp := channelsSpatial(s)
			y = make([]float32, len(x))
			for i := range x {
				ch := (i / sp) % c
				inv := 1 / math.Sqrt(float64(op.Var.Data[ch])+float64(op.Eps))
				y[i] = float32((float64(x[i])-float64(op.Mean.Data[ch]))*inv*float64(op.Scale.Data[ch]) + float64(op.Shift.Data[ch]))
			}
		case *graph.Act:
			y = make([]float32, len(x))
			for i, v := range x {
				y[i] = op.Act.Apply(v)
			}
		case *graph.BiasAdd:
			c, sp := channelsSpatial(s)
			y = make([]float32, len(x))
			for i := range x {
				y[i] = x[i] + op.Bias.Data[(i/sp)%c]
			}
		case *graph.Scale:
			y = make([]float32, len(x))
			for i, v := range x {
				y[i] = v * op.Factor
			}
		case *graph.Mul:
			x1 := vals[n.Inputs[1]]
			y = make([]float32, len(x))
			if graph.SameShape(s, ins[1]) {
				for i := range x {
					y[i] = x[i] * x1[i]
				}
			} else {
				c, sp := channelsSpatial(s)
				for i := range x {
					b, ch := i/(c*sp), (i/sp)%c
					y[i] = x[i] * x1[b*c+ch]
				}
			}
		case *graph.Identity, *graph.Reshape:
			y = x
		case *graph.GlobalAvgPool:
			c, sp := channelsSpatial(s)
			y = make([]float32, batch*c)
			for i := range y {
				var sum float64
				for _, v := range x[i*sp : (i+1)*sp] {
					sum += float64(v)
				}
				y[i] = float32(sum / float64(sp))
			}
		case *graph.FC:
			y = make([]float32, batch*op.Out)
			for b := range batch {
				for o := range op.Out {
					sum := 0.0
					if op.Bias != nil {
						sum = float64(op.Bias.Data[o])
					}
					for i := range op.In {
						sum += float64(op.Weight.Data[o*op.In+i]) * float64(x[b*op.In+i])
					}
					y[b*op.Out+o] = op.Act.Apply(float32(sum))
				}
			}
		case *graph.Softmax:
			k := s[0]
			y = make([]float32, len(x))
			for b := range batch {
				row := x[b*k : (b+1)*k]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, float64(v))
				}
				sum := 0.0
				for _, v := range row {
					sum += math.Exp(float64(v) - m)
				}
				for i, v := range row {
					y[b*k+i] = float32(math.Exp(float64(v)-m) / sum)
				}
			}
		case *graph.SE:
			c, sp := channelsSpatial(s)
			y = make([]float32, len(x))
			for b := range batch {
				pool := make([]float64, c)
				for ch := range c {
					for _, v := range x[(b*c+ch)*sp : (b*c+ch+1)*sp] {
						pool[ch] += float64(v)
					}
					pool[ch] /= float64(sp)
				}
				hid := make([]float32, op.Reduce)
				for r := range op.Reduce {
					sum := 0.0
					if op.B1 != nil {
						sum = float64(op.B1.Data[r])
					}
					for ch := range c {
						sum += float64(op.W1.Data[r*c+ch]) * pool[ch]
					}
					hid[r] = op.Act.Apply(float32(sum))
				}
				for ch := range c {
					sum := 0.0
					if op.B2 != nil {
						sum = float64(op.B2.Data[ch])
					}
					for r := range op.Reduce {
						sum += float64(op.W2.Data[ch*op.Reduce+r]) * float64(hid[r])
					}
					gt := op.Gate.Apply(float32(sum))
					for i := (b*c + ch) * sp; i < (b*c+ch+1)*sp; i++ {
						y[i] = x[i] * gt
					}
				}
			}
		default:
			return nil, fmt.Errorf("reference: op %T", op)
		}
		vals[n.Output] = y
	}
	return vals[g.Output], nil
}

// refConv is a direct NCHW convolution with float64 accumulation.
func refConv(c *graph.Conv2D, x []float32, batch int, in, out []int) []float32 {
	H, W := in[1], in[2]
	OH, OW := out[1], out[2]
	dh, dw := c.Dilation()
	cgi, cgo := c.InC/c.Groups, c.OutC/c.Groups
	y := make([]float32, batch*c.OutC*OH*OW)
	for b := range batch {
		for co := range c.OutC {
			g := co / cgo
			for oh := range OH {
				for ow := range OW {
					sum := 0.0
					if c.Bias != nil {
						sum = float64(c.Bias.Data[co])
					}
					for ci := range cgi {
						for kh := range c.KH {
							ih := oh*c.StrideH - c.PadT + kh*dh
							if ih < 0 || ih >= H {
								continue
							}
							for kw := range c.KW {
								iw := ow*c.StrideW - c.PadL + kw*dw
								if iw < 0 || iw >= W {
									continue
								}
								wv := c.Weight.Data[((co*cgi+ci)*c.KH+kh)*c.KW+kw]
								xv := x[((b*c.InC+g*cgi+ci)*H+ih)*W+iw]
								sum += float64(wv) * float64(xv)
							}
						}
					}
					y[((b*c.OutC+co)*OH+oh)*OW+ow] = c.Act.Apply(float32(sum))
				}
			}
		}
	}
	return y
}

// randTensor returns a tensor of normal values with the given std.
func randTensor(r *rand.Rand, std float64, shape ...int) *graph.Tensor {
	t := graph.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64() * std)
	}
	return t
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// maxRelErr is max|a-b| / max(max|b|, tiny).
func maxRelErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
		if math.IsNaN(float64(a[i])) != math.IsNaN(float64(b[i])) {
			return math.Inf(1)
		}
	}
	if m < 1e-30 {
		return d
	}
	return d / m
}
