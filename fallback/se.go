package fallback

import "github.com/lcnet-go/lcnet/graph"

// seKernel is a recognised squeeze-and-excite block on a channels-last
// [S, C] value: pool → W1 (+B1) → act → W2 (+B2) → gate → scale x per
// channel.
type seKernel struct {
	c, r, s   int
	w1, b1    []float32 // [r][c], [r]
	w2, b2    []float32 // [c][r], [c]
	act, gate graph.Activation
}

func newSE(o *graph.SE, in []int) *seKernel {
	k := &seKernel{c: o.C, r: o.Reduce, s: in[1] * in[2], act: o.Act, gate: o.Gate,
		w1: append([]float32(nil), o.W1.Data...), w2: append([]float32(nil), o.W2.Data...),
		b1: make([]float32, o.Reduce), b2: make([]float32, o.C)}
	if o.B1 != nil {
		copy(k.b1, o.B1.Data)
	}
	if o.B2 != nil {
		copy(k.b2, o.B2.Data)
	}
	return k
}

// scratch holds the pooled vector, the hidden vector and the gate.
func (k *seKernel) scratch() int { return 2*k.c + k.r }
func (*seKernel) inPlace() bool  { return true }

func (k *seKernel) run(y, x, _ []float32, batch int, scratch []float32) {
	c, r, n := k.c, k.r, k.c*k.s
	pool, hid, gate := scratch[:c], scratch[c:c+r], scratch[c+r:2*c+r]
	for b := range batch {
		xs, ys := x[b*n:(b+1)*n], y[b*n:(b+1)*n]
		poolSample(pool, xs, c)
		matVec(hid, k.w1, pool, k.b1)
		applyAct(k.act, hid)
		matVec(gate, k.w2, hid, k.b2)
		applyAct(k.gate, gate)
		for i := 0; i+c <= n; i += c {
			xr, yr := xs[i:i+c], ys[i:i+c]
			for j, v := range xr {
				yr[j] = v * gate[j]
			}
		}
	}
}

// matVec computes y = W·x + b for W stored [len(y)][len(x)].
func matVec(y, w, x, b []float32) {
	n := len(x)
	b = b[:len(y)]
	for i := range y {
		row := w[i*n : (i+1)*n]
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= n; j += 4 {
			s0 += row[j] * x[j]
			s1 += row[j+1] * x[j+1]
			s2 += row[j+2] * x[j+2]
			s3 += row[j+3] * x[j+3]
		}
		for ; j < n; j++ {
			s0 += row[j] * x[j]
		}
		y[i] = (s0 + s1) + (s2 + s3) + b[i]
	}
}
