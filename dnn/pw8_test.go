//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// q8Weights quantizes one output channel's weights as lcn_q8epi.h does:
// the scale 127/max|w| (1 when all zero) and the s8 weights.
func q8Weights(w []float32) (float32, []int32) {
	m := 0.0
	for _, v := range w {
		m = math.Max(m, math.Abs(float64(v)))
	}
	ws := float32(1)
	if m > 0 {
		ws = 127 / float32(m)
	}
	wq := make([]int32, len(w))
	for i, v := range w {
		wq[i] = int32(max(-128, min(127, math.RoundToEven(float64(v*ws)))))
	}
	return ws, wq
}

// q8EpiFormula is lcn_q8epi.h's epilogue written out in float64: the output
// of the int32 sum acc of a channel with weight scale ws and bias bo.
func q8EpiFormula(acc int32, ws float32, bo float64, act int, outF32 bool, sx, sy float32) float64 {
	s := float64(sy)
	if outF32 {
		s = 1
	}
	v := float64(acc)/(float64(sx)*float64(ws))*s + bo*s
	switch act {
	case 1: // relu
		v = math.Max(v, 0)
	case 2: // hardswish
		g := float64(acc)/(6*float64(sx)*float64(ws)) + bo/6 + 0.5
		v *= math.Min(math.Max(g, 0), 1)
	}
	if !outF32 {
		v = max(-128, math.RoundToEven(math.Min(v, 127)))
	}
	return v
}

// q8Output runs a kernel writing n outputs (fp32 or s8) and returns them as
// float64.
func q8Output(n int, f32 bool, run func(y unsafe.Pointer)) []float64 {
	res := make([]float64, n)
	if f32 {
		y := make([]float32, n)
		run(unsafe.Pointer(&y[0]))
		for i, v := range y {
			res[i] = float64(v)
		}
	} else {
		y := make([]int8, n)
		run(unsafe.Pointer(&y[0]))
		for i, v := range y {
			res[i] = float64(v)
		}
	}
	return res
}

// checkQ8Kernel checks an int8 kernel's outputs: its scalar reference
// (runRef) against the formula's want (s8: within one step; fp32: 1e-5
// relative), and, when vnni, the vector kernel (run, 1 and 2 threads)
// against the reference bit for bit. It returns the reference's outputs.
func checkQ8Kernel(t *testing.T, name string, want []float64, f32, vnni bool,
	runRef func(y unsafe.Pointer), run func(y unsafe.Pointer, nthr int)) []float64 {
	t.Helper()
	ref := q8Output(len(want), f32, runRef)
	for i := range want {
		d := math.Abs(ref[i] - want[i])
		if f32 && d > 1e-5*math.Max(1, math.Abs(want[i])) || !f32 && d > 1 {
			t.Fatalf("%s: ref[%d] = %g, formula %g", name, i, ref[i], want[i])
		}
	}
	if vnni {
		for _, thr := range []int{1, 2} {
			fast := q8Output(len(want), f32, func(y unsafe.Pointer) { run(y, thr) })
			if !slices.Equal(fast, ref) {
				i := 0
				for fast[i] == ref[i] {
					i++
				}
				t.Fatalf("%s threads=%d: vnni[%d] = %g, ref %g", name, thr, i, fast[i], ref[i])
			}
		}
	}
	return ref
}

// pw8Formula is lcn_pw8.h's semantics written out in Go (float64 epilogue):
// the independent reference the C scalar version is checked against.
func pw8Formula(x []int8, w, b []float32, k, oc, act int, outF32 bool, sx, sy float32) []float64 {
	npix := len(x) / k
	out := make([]float64, npix*oc)
	for o := range oc {
		ws, wq := q8Weights(w[o*k : (o+1)*k])
		bo := 0.0
		if b != nil {
			bo = float64(b[o])
		}
		for p := range npix {
			var acc int32
			for i := range k {
				acc += int32(x[p*k+i]) * wq[i]
			}
			out[p*oc+o] = q8EpiFormula(acc, ws, bo, act, outF32, sx, sy)
		}
	}
	return out
}

// TestPW8 checks the int8 1x1 kernel: the VNNI kernel gives the scalar
// reference's bits (1 and 2 threads, tails of pixels and channels), and the
// reference follows the formula (s8: within one step; fp32: 1e-5).
func TestPW8(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 8))
	acts := []int{0, 1, 2} // none, relu, hardswish
	actKind := make([]int, len(acts))
	for i, a := range []Act{{}, relu, hswish} {
		actKind[i] = int(cAct(a).kind)
	}
	for _, k := range []int{4, 12, 16, 32, 64, 128} {
		for _, oc := range []int{8, 16, 33, 64, 100, 128} {
			for _, npix := range []int{1, 5, 47, 48, 49, 200} {
				for ai := range acts {
					for _, f32 := range []bool{false, true} {
						name := fmt.Sprintf("k%d/oc%d/px%d/act%d/f32=%v", k, oc, npix, ai, f32)
						w := make([]float32, oc*k)
						for i := range w {
							w[i] = float32(r.NormFloat64())
						}
						if oc > 8 {
							for i := range k { // an all-zero output channel
								w[3*k+i] = 0
							}
						}
						var b []float32
						if ai != 1 {
							b = make([]float32, oc)
							for i := range b {
								b[i] = float32(r.NormFloat64())
							}
						}
						x := make([]int8, npix*k)
						for i := range x {
							x[i] = int8(r.IntN(256) - 128)
						}
						sx, sy := float32(20+r.Float64()*20), float32(5+r.Float64()*5)
						kern, err := newPW8(k, oc, actKind[ai], f32, 2, w, b, sx, sy)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						want := pw8Formula(x, w, b, k, oc, ai, f32, sx, sy)
						checkQ8Kernel(t, name, want, f32, pw8VNNI(),
							func(y unsafe.Pointer) { kern.runRef(x, y, npix) },
							func(y unsafe.Pointer, thr int) { kern.run(x, y, npix, thr) })
						kern.close()
					}
				}
			}
		}
	}
	if _, err := newPW8(6, 8, 0, false, 1, make([]float32, 48), nil, 1, 1); err == nil {
		t.Error("k = 6 (not a multiple of 4): no error")
	}
	if _, err := newPW8(8, 8, 0, false, 1, make([]float32, 64), nil, 0, 1); err == nil {
		t.Error("input scale 0: no error")
	}
}
