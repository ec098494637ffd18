package graph

import (
	"fmt"
	"testing"
)

// TestTranspose checks the tiled transpose element by element on shapes
// below, at and across its 32-wide tiles.
func TestTranspose(t *testing.T) {
	for _, s := range [][2]int{{1, 1}, {1, 7}, {7, 1}, {31, 33}, {32, 32}, {64, 96}, {70, 45}, {1280, 3}} {
		rows, cols := s[0], s[1]
		t.Run(fmt.Sprintf("%dx%d", rows, cols), func(t *testing.T) {
			src := make([]float32, rows*cols)
			for k := range src {
				src[k] = float32(k) + 0.5
			}
			dst := make([]float32, rows*cols)
			Transpose(dst, src, rows, cols)
			for r := range rows {
				for c := range cols {
					if got, want := dst[c*rows+r], src[r*cols+c]; got != want {
						t.Fatalf("[%d][%d] = %g, want %g", c, r, got, want)
					}
				}
			}
		})
	}
}
