package graph

import (
	"fmt"
	"testing"
)

// TestTranspose checks the tiled transpose element by element on shapes
// below, at and across its 32-wide tiles.
func TestTranspose(t *testing.T) {
	for _, s := range [][2]int{{1, 1}, {1, 7}, {7, 1}, {8, 8}, {9, 40}, {31, 33}, {32, 32}, {64, 96}, {70, 45}, {1280, 3}, {3, 1280}} {
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

// BenchmarkTranspose: a 1280 x 1000 FC weight ([In, Out] -> [Out, In], as
// Paddle's classifier), against the column-by-column loop it replaced.
//
//	go test ./graph -run '^$' -bench Transpose -benchtime 50x
func BenchmarkTranspose(b *testing.B) {
	const rows, cols = 1280, 1000
	src := make([]float32, rows*cols)
	dst := make([]float32, rows*cols)
	b.SetBytes(4 * rows * cols)
	b.Run("impl=tiled", func(b *testing.B) {
		for b.Loop() {
			Transpose(dst, src, rows, cols)
		}
	})
	b.Run("impl=naive", func(b *testing.B) {
		for b.Loop() {
			for r := range rows {
				for c := range cols {
					dst[c*rows+r] = src[r*cols+c]
				}
			}
		}
	})
}
