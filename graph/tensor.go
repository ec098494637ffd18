package graph

import (
	"fmt"

	"github.com/lcnet-go/lcnet/internal/prefault"
)

// Tensor is a dense float32 constant held by an op: a weight, a bias, a
// batch-norm statistic. Data is row-major (C order) over Shape.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: prefault.Slice(make([]float32, Numel(shape)))}
}

// FromData wraps data as a tensor of the given shape. It returns an error
// when the element count does not match.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	if n := Numel(shape); n != len(data) {
		return nil, fmt.Errorf("graph: tensor of shape %v needs %d values, got %d", shape, n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len is the number of elements; a nil tensor has none.
func (t *Tensor) Len() int {
	if t == nil {
		return 0
	}
	return len(t.Data)
}

// Clone returns a deep copy (nil for nil).
func (t *Tensor) Clone() *Tensor {
	if t == nil {
		return nil
	}
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Transpose sets dst, a [cols][rows] matrix, to the transpose of src, a
// [rows][cols] one: weights between [In, Out] and [Out, In]. It goes in
// 32 x 32 tiles, eight source rows at a time, so that each column of a
// tile is written as one run of eight values and the lines read and
// written stay in L1 (a 1280 x 1000 FC weight: ~0.9 ms; ~2.5 one element
// at a time through the same tiles, ~4.4 column by column). dst and src
// must hold rows*cols values and not overlap.
func Transpose(dst, src []float32, rows, cols int) {
	const tile = 32
	dst, src = dst[:rows*cols], src[:rows*cols]
	for r0 := 0; r0 < rows; r0 += tile {
		r1 := min(r0+tile, rows)
		for c0 := 0; c0 < cols; c0 += tile {
			c1 := min(c0+tile, cols)
			r := r0
			for ; r+8 <= r1; r += 8 {
				s := src[r*cols : (r+8)*cols]
				s0, s1, s2, s3 := s[:cols], s[cols:2*cols], s[2*cols:3*cols], s[3*cols:4*cols]
				s4, s5, s6, s7 := s[4*cols:5*cols], s[5*cols:6*cols], s[6*cols:7*cols], s[7*cols:]
				for c := c0; c < c1; c++ {
					d := dst[c*rows+r : c*rows+r+8]
					d[0], d[1], d[2], d[3] = s0[c], s1[c], s2[c], s3[c]
					d[4], d[5], d[6], d[7] = s4[c], s5[c], s6[c], s7[c]
				}
			}
			for ; r < r1; r++ {
				row := src[r*cols : (r+1)*cols]
				for c := c0; c < c1; c++ {
					dst[c*rows+r] = row[c]
				}
			}
		}
	}
}

// Numel is the product of the dimensions (1 for a scalar shape).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
