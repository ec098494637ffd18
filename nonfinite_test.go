package lcnet

import (
	"math"
	"testing"
)

func TestNonFinite(t *testing.T) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xff800001)}
	good := []float32{0, -0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
		math.Float32frombits(0x7f7fffff), math.Float32frombits(0x00800000), math.Float32frombits(0x80000001)}
	for _, n := range []int{0, 1, 2, 3, 511, 512, 513, 1000, 3 * 224 * 224} {
		x := make([]float32, n)
		for i := range x {
			x[i] = good[i%len(good)]
		}
		if got := nonFinite(x); got != -1 {
			t.Fatalf("n=%d finite input: nonFinite = %d", n, got)
		}
		for _, pos := range []int{0, n / 2, n - 1, n/2 + 1} {
			if pos < 0 || pos >= n {
				continue
			}
			for _, b := range bad {
				y := append([]float32(nil), x...)
				y[pos] = b
				if pos+3 < n {
					y[pos+3] = b // a later one must not win
				}
				if got := nonFinite(y); got != pos {
					t.Errorf("n=%d, %v at %d: nonFinite = %d", n, b, pos, got)
				}
			}
		}
	}
}

func BenchmarkNonFinite(b *testing.B) {
	x := make([]float32, 3*224*224)
	for i := range x {
		x[i] = float32(i%255) / 255
	}
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		if nonFinite(x) >= 0 {
			b.Fatal("finite input")
		}
	}
}
