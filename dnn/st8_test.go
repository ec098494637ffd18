//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// st8Formula is lcn_st8.h's semantics written out in Go (float64
// epilogue): a direct convolution of n NHWC images, pads reading 0.
func st8Formula(s st8Shape, n int, x []int8, w, b []float32, act int, outF32 bool, sx, sy float32) []float64 {
	oh := (s.h+s.pt+s.pb-s.kh)/s.sh + 1
	ow := (s.w+s.pl+s.pr-s.kw)/s.sw + 1
	taps := s.c * s.kh * s.kw
	out := make([]float64, n*oh*ow*s.oc)
	for o := range s.oc {
		ws, wq := q8Weights(w[o*taps : (o+1)*taps])
		bo := 0.0
		if b != nil {
			bo = float64(b[o])
		}
		for img := range n {
			for oy := range oh {
				for ox := range ow {
					var acc int32
					for c := range s.c {
						for ky := range s.kh {
							iy := oy*s.sh - s.pt + ky
							if iy < 0 || iy >= s.h {
								continue
							}
							for kx := range s.kw {
								ix := ox*s.sw - s.pl + kx
								if ix < 0 || ix >= s.w {
									continue
								}
								acc += int32(x[((img*s.h+iy)*s.w+ix)*s.c+c]) * wq[(c*s.kh+ky)*s.kw+kx]
							}
						}
					}
					out[((img*oh+oy)*ow+ox)*s.oc+o] = q8EpiFormula(acc, ws, bo, act, outF32, sx, sy)
				}
			}
		}
	}
	return out
}

// TestST8 checks the int8 small-channel convolution kernel: the reference
// follows the formula (s8: within one step; fp32: 1e-5) and the VNNI kernel
// gives the reference's bits (1 and 2 threads, pixel and channel tails,
// strides, asymmetric pads, batches).
func TestST8(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 9))
	actKind := make([]int, 3)
	for i, a := range []Act{{}, relu, hswish} {
		actKind[i] = int(cAct(a).kind)
	}
	shapes := []st8Shape{
		{c: 3, h: 32, w: 37, oc: 16, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1}, // the stem
		{c: 3, h: 9, w: 20, oc: 8, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1},
		{c: 3, h: 17, w: 23, oc: 40, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1},
		{c: 1, h: 12, w: 30, oc: 24, kh: 3, kw: 3, sh: 1, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1},
		{c: 4, h: 15, w: 15, oc: 33, kh: 3, kw: 4, sh: 1, sw: 2, pt: 0, pl: 2, pb: 2, pr: 0},
		{c: 2, h: 11, w: 40, oc: 70, kh: 5, kw: 5, sh: 2, sw: 3, pt: 2, pl: 2, pb: 1, pr: 1},
		{c: 3, h: 6, w: 6, oc: 16, kh: 1, kw: 1, sh: 2, sw: 2},
		{c: 8, h: 7, w: 9, oc: 16, kh: 2, kw: 2, sh: 1, sw: 1, pb: 1, pr: 1},
		{c: 3, h: 1, w: 1, oc: 16, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1},
	}
	for _, s := range shapes {
		if !st8Fits(s) {
			t.Fatalf("%+v: does not fit", s)
		}
		taps := s.c * s.kh * s.kw
		for ai := range 3 {
			for _, f32 := range []bool{false, true} {
				n := 1 + r.IntN(2)
				name := fmt.Sprintf("%+v/n%d/act%d/f32=%v", s, n, ai, f32)
				w := make([]float32, s.oc*taps)
				for i := range w {
					w[i] = float32(r.NormFloat64())
				}
				for i := range taps { // an all-zero output channel
					w[3*taps+i] = 0
				}
				var b []float32
				if ai != 1 {
					b = make([]float32, s.oc)
					for i := range b {
						b[i] = float32(r.NormFloat64())
					}
				}
				x := make([]int8, n*s.h*s.w*s.c)
				for i := range x {
					x[i] = int8(r.IntN(256) - 128)
				}
				sx, sy := float32(20+r.Float64()*20), float32(2+r.Float64()*3)
				kern, err := newST8(s, actKind[ai], f32, 2, w, b, sx, sy)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				oh, ow := kern.outShape()
				if wantH, wantW := (s.h+s.pt+s.pb-s.kh)/s.sh+1, (s.w+s.pl+s.pr-s.kw)/s.sw+1; oh != wantH || ow != wantW {
					t.Fatalf("%s: out shape %dx%d, want %dx%d", name, oh, ow, wantH, wantW)
				}
				want := st8Formula(s, n, x, w, b, ai, f32, sx, sy)
				ref := checkQ8Kernel(t, name, want, f32, st8VNNI(),
					func(y unsafe.Pointer) { kern.runRef(x, y, n) },
					func(y unsafe.Pointer, thr int) { kern.run(x, y, n, thr) })
				distinct := map[float64]bool{}
				for _, v := range ref {
					distinct[v] = true
				}
				if len(want) > 100 && len(distinct) < 10 {
					t.Fatalf("%s: only %d distinct outputs: the problem tests nothing", name, len(distinct))
				}
				kern.close()
			}
		}
	}
	for _, s := range []st8Shape{
		{c: 6, h: 8, w: 8, oc: 8, kh: 3, kw: 3, sh: 1, sw: 1}, // a kernel row of 18 bytes
		{c: 3, h: 8, w: 8, oc: 8, kh: 17, kw: 1, sh: 1, sw: 1},
		{c: 3, h: 2, w: 8, oc: 8, kh: 3, kw: 3, sh: 1, sw: 1}, // no output row
		{c: 3, h: 8, w: 8, oc: 8, kh: 3, kw: 3, sh: 0, sw: 1},
	} {
		if st8Fits(s) {
			t.Errorf("%+v: fits", s)
		}
		if _, err := newST8(s, 0, false, 1, make([]float32, s.oc*s.c*max(1, s.kh*s.kw)), nil, 1, 1); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	if _, err := newST8(shapes[0], 0, false, 1, make([]float32, 16*27), nil, 0, 1); err == nil {
		t.Error("input scale 0: no error")
	}
}

// BenchmarkST8 times lcn_st8 on PP-LCNet's stem (3x3/2, 3->16, 224x224,
// hardswish, s8 output), one thread.
func BenchmarkST8(b *testing.B) {
	s := st8Shape{c: 3, h: 224, w: 224, oc: 16, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1}
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, s.oc*27)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	kern, err := newST8(s, int(cAct(hswish).kind), false, 1, w, nil, 40, 5)
	if err != nil {
		b.Fatal(err)
	}
	defer kern.close()
	x := make([]int8, s.h*s.w*s.c)
	for i := range x {
		x[i] = int8(r.IntN(256) - 128)
	}
	oh, ow := kern.outShape()
	y := make([]int8, oh*ow*s.oc)
	for b.Loop() {
		kern.run(x, unsafe.Pointer(&y[0]), 1, 1)
	}
}
