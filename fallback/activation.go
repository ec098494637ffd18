package fallback

import (
	"math"

	"github.com/lcnet-go/lcnet/graph"
)

// applyAct applies a in place to x with the semantics of
// graph.Activation.Apply; the switch is outside the loops so each case is a
// tight loop the compiler keeps in registers.
func applyAct(a graph.Activation, x []float32) {
	switch a.Kind {
	case graph.ActNone:
	case graph.ActReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case graph.ActHardSwish:
		for i, v := range x {
			t := v*(1.0/6) + 0.5
			if t < 0 {
				t = 0
			}
			if t > 1 {
				t = 1
			}
			x[i] = v * t
		}
	case graph.ActHardSigmoid:
		s, o := a.Slope, a.Offset
		for i, v := range x {
			t := s*v + o
			if t < 0 {
				t = 0
			}
			if t > 1 {
				t = 1
			}
			x[i] = t
		}
	case graph.ActSigmoid:
		for i, v := range x {
			x[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	default:
		for i, v := range x {
			x[i] = a.Apply(v)
		}
	}
}

// actKernel is a standalone activation node.
type actKernel struct{ act graph.Activation }

func (k *actKernel) run(y, x, _ []float32, _ int, _ []float32) {
	if &y[0] != &x[0] {
		copy(y, x)
	}
	applyAct(k.act, y)
}
func (*actKernel) scratch() int  { return 0 }
func (*actKernel) inPlace() bool { return true }
