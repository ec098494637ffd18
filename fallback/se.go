package fallback

import "github.com/lcnet-go/lcnet/graph"

// seKernel is a recognised squeeze-and-excite block on a channels-last
// [S, C] value: pool → W1 (+B1) → act → W2 (+B2) → gate → scale x per
// channel. The two small layers run as GEMMs with one row per sample.
type seKernel struct {
	c, r, s   int
	w1, w2    *packedB // [r][c] and [c][r], with their biases
	act, gate graph.Activation
}

func newSE(o *graph.SE, in []int) *seKernel {
	var b1, b2 []float32
	if o.B1 != nil {
		b1 = o.B1.Data
	}
	if o.B2 != nil {
		b2 = o.B2.Data
	}
	return &seKernel{c: o.C, r: o.Reduce, s: in[1] * in[2], act: o.Act, gate: o.Gate,
		w1: packB(o.W1.Data, o.Reduce, o.C, b1, useISA), w2: packB(o.W2.Data, o.C, o.Reduce, b2, useISA)}
}

// scratch holds the pooled vector, the hidden vector and the gate.
func (k *seKernel) scratch() int { return 2*k.c + k.r }
func (*seKernel) inPlace() bool  { return true }

func (k *seKernel) run(y, x, _ []float32, batch int, scratch []float32) {
	c, r, n := k.c, k.r, k.c*k.s
	pool := scratch[:batch*c]
	hid := scratch[batch*c : batch*(c+r)]
	gate := scratch[batch*(c+r) : batch*(2*c+r)]
	for b := range batch {
		poolSample(pool[b*c:(b+1)*c], x[b*n:(b+1)*n], c)
	}
	gemm(batch, pool, k.w1, hid, k.act)
	gemm(batch, hid, k.w2, gate, k.gate)
	for b := range batch {
		xs, ys, g := x[b*n:(b+1)*n], y[b*n:(b+1)*n], gate[b*c:(b+1)*c]
		for i := 0; i+c <= n; i += c {
			xr, yr := xs[i:i+c], ys[i:i+c]
			for j, v := range xr {
				yr[j] = v * g[j]
			}
		}
	}
}
