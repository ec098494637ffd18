package fallback

import (
	"math"

	"github.com/lcnet-go/lcnet/graph"
)

// channelAffine computes y = x*scale[c] + shift[c] on a channels-last
// value with c channels: a standalone batch norm (scale nil means 1) or a
// bias add.
type channelAffine struct {
	c            int
	scale, shift []float32
}

// newBatchNorm folds the statistics into one scale and shift per channel,
// in float64, as graph.FoldBatchNorm does.
func newBatchNorm(bn *graph.BatchNorm, in []int) *channelAffine {
	c, _ := channelsSpatial(in)
	k := &channelAffine{c: c, scale: make([]float32, c), shift: make([]float32, c)}
	for i := range c {
		inv := float64(bn.Scale.Data[i]) / math.Sqrt(float64(bn.Var.Data[i])+float64(bn.Eps))
		k.scale[i] = float32(inv)
		k.shift[i] = float32(float64(bn.Shift.Data[i]) - float64(bn.Mean.Data[i])*inv)
	}
	return k
}

func (k *channelAffine) run(y, x, _ []float32, _ int, _ []float32) {
	c := k.c
	shift := k.shift[:c]
	if k.scale == nil {
		for i := 0; i+c <= len(x); i += c {
			xr, yr := x[i:i+c], y[i:i+c]
			for j, v := range xr {
				yr[j] = v + shift[j]
			}
		}
		return
	}
	scale := k.scale[:c]
	for i := 0; i+c <= len(x); i += c {
		xr, yr := x[i:i+c], y[i:i+c]
		for j, v := range xr {
			yr[j] = v*scale[j] + shift[j]
		}
	}
}
func (*channelAffine) scratch() int  { return 0 }
func (*channelAffine) inPlace() bool { return true }

// scaleKernel multiplies by a constant (inference-mode dropout).
type scaleKernel struct{ f float32 }

func (k *scaleKernel) run(y, x, _ []float32, _ int, _ []float32) {
	f := k.f
	y = y[:len(x)]
	for i, v := range x {
		y[i] = v * f
	}
}
func (*scaleKernel) scratch() int  { return 0 }
func (*scaleKernel) inPlace() bool { return true }

// mulKernel multiplies its first input by its second, element-wise when
// both have the same shape, else broadcasting one value per channel (the
// second input is [C] or [C,1,1]) over the first's spatial extent.
type mulKernel struct {
	broadcast bool
	c, n      int // channels and per-sample size of the first input
}

func newMul(a, b []int) *mulKernel {
	c, _ := channelsSpatial(a)
	return &mulKernel{broadcast: !graph.SameShape(a, b), c: c, n: graph.Numel(a)}
}

func (k *mulKernel) run(y, x0, x1 []float32, batch int, _ []float32) {
	y = y[:len(x0)]
	if !k.broadcast {
		x1 = x1[:len(x0)]
		for i, v := range x0 {
			y[i] = v * x1[i]
		}
		return
	}
	c, n := k.c, k.n
	for b := range batch {
		g := x1[b*c : (b+1)*c]
		xs, ys := x0[b*n:(b+1)*n], y[b*n:(b+1)*n]
		for i := 0; i+c <= n; i += c {
			xr, yr := xs[i:i+c], ys[i:i+c]
			for j, v := range xr {
				yr[j] = v * g[j]
			}
		}
	}
}
func (*mulKernel) scratch() int  { return 0 }
func (*mulKernel) inPlace() bool { return true }

// reshapeKernel moves data between the channels-last layouts of two
// shapes with the same number of values, through the logical NCHW order.
type reshapeKernel struct {
	c0, s0, c1, s1 int
}

func newReshape(in, out []int) *reshapeKernel {
	k := &reshapeKernel{}
	k.c0, k.s0 = channelsSpatial(in)
	k.c1, k.s1 = channelsSpatial(out)
	return k
}

func (k *reshapeKernel) run(y, x, _ []float32, batch int, _ []float32) {
	n := k.c0 * k.s0
	for b := range batch {
		xs, ys := x[b*n:(b+1)*n], y[b*n:(b+1)*n]
		for l := range n { // l is the NCHW index
			src := (l%k.s0)*k.c0 + l/k.s0
			dst := (l%k.s1)*k.c1 + l/k.s1
			ys[dst] = xs[src]
		}
	}
}
func (*reshapeKernel) scratch() int  { return 0 }
func (*reshapeKernel) inPlace() bool { return false }
