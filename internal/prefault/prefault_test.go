package prefault

import (
	"testing"
)

func TestSliceKeepsContents(t *testing.T) {
	for _, n := range []int{0, 1, Min/4 - 1, Min / 4, Min/4 + 1, 3 << 20, 5<<20 + 3} {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(i%977) - 300
		}
		// an unaligned start: the page rounding must stay inside the slice
		for _, sub := range [][]float32{s, s[min(1, n):]} {
			got := Slice(sub)
			if len(got) != len(sub) || (len(sub) > 0 && &got[0] != &sub[0]) {
				t.Fatalf("n=%d: Slice returned another slice", n)
			}
		}
		for i := range s {
			if s[i] != float32(i%977)-300 {
				t.Fatalf("n=%d: s[%d] = %v, changed", n, i, s[i])
			}
		}
	}
}
