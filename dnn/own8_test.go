//go:build cgo && !purego

package dnn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestInt8OwnMatchesDNNL compiles small int8 chains twice, with the
// library's own int8 kernels forced (lcn_st8 for the first conv, lcn_pw8
// for the 1x1 convs) and with oneDNN's, and compares the outputs: they may
// differ by one quantization step (rounding of v near .5) and rarely do.
func TestInt8OwnMatchesDNNL(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	if !st8VNNI() || !pw8VNNI() {
		t.Skip("lcn_st8 and lcn_pw8 are only used with AVX-512 VNNI")
	}
	defer setOwn8(-1)
	r := rand.New(rand.NewPCG(7, 8))
	rnd := func(n int, s float64) []float32 { return randSlice(r, n, s) }
	type tc struct {
		c, h, w, oc, k, s int
		act               ActKind
		fp32Last          bool // the 1x1 conv stays fp32: the stem writes fp32
	}
	for _, c := range []tc{
		{3, 33, 40, 16, 3, 2, ActHardSwish, false},
		{3, 20, 17, 24, 3, 2, ActReLU, false},
		{1, 16, 48, 8, 3, 1, ActNone, false},
		{3, 15, 15, 16, 5, 2, ActHardSwish, true},
	} {
		layers := []Layer{
			{Kind: LayerConv, Name: "stem", OutC: c.oc, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s,
				PadTop: c.k / 2, PadLeft: c.k / 2, PadBottom: c.k / 2, PadRight: c.k / 2, Groups: 1,
				Weight: rnd(c.oc*c.c*c.k*c.k, 0.5), Bias: rnd(c.oc, 0.3), Act: Act{Kind: c.act}},
			{Kind: LayerConv, Name: "pw", OutC: 32, KH: 1, KW: 1, Groups: 1,
				Weight: rnd(32*c.oc, 0.3), Bias: rnd(32, 0.2), Act: Act{Kind: ActHardSwish}},
		}
		fp := []bool{false, c.fp32Last}
		const batch = 2
		in := make([]float32, batch*c.c*c.h*c.w)
		for i := range in {
			in[i] = r.Float32()*4 - 2
		}
		q := &Int8Net{InC: c.c, InH: c.h, InW: c.w, InScale: 127 / maxAbs(in), Layers: layers, FP32: fp, NoTuning: true}
		calibrate(t, q, in)
		run := func(mode int) ([]float32, []string) {
			setOwn8(mode)
			return runInt8(t, q, Options{}, in, batch)
		}
		a, ia := run(1)
		b, ib := run(0)
		wantPW := "lcn_pw8:"
		if c.fp32Last {
			wantPW = "f32 " // an fp32 layer runs on oneDNN
		}
		if !strings.Contains(ia[0], "lcn_st8:") || !strings.Contains(ia[1], wantPW) ||
			strings.Contains(ib[0]+ib[1], "lcn_") {
			t.Fatalf("%+v: impls %q with own kernels, %q without", c, ia, ib)
		}
		// one output step of the last layer, plus what one step of the
		// stem's output moves the 1x1 conv by
		lim := 1.001 / float64(q.OutScales[1])
		if !c.fp32Last {
			lim += 1.001 / float64(q.OutScales[0]) * float64(32) * 0.3
		} else {
			lim = 1e-3 * float64(maxAbs(b))
		}
		nd := 0
		for i := range a {
			e := math.Abs(float64(a[i] - b[i]))
			if e > lim {
				t.Fatalf("%+v: output %d: own %g, oneDNN %g (limit %g)", c, i, a[i], b[i], lim)
			}
			if e > 1e-6/float64(q.OutScales[1]) {
				nd++
			}
		}
		if !c.fp32Last && nd > len(a)/50+1 { // fp32 outputs differ in float rounding
			t.Errorf("%+v: %d of %d outputs differ", c, nd, len(a))
		}
		t.Logf("%+v: %d of %d outputs differ (impls %q)", c, nd, len(a), ia)
	}
}
