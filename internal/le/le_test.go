package le

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFloat32s checks the fast path bit for bit against the element loop,
// on every length up to 67 and at every misalignment of the source.
func TestFloat32s(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4*67+3)
	for k := range buf {
		buf[k] = byte(r.Uint32())
	}
	// a quiet NaN with payload, a signalling NaN, -0, +Inf, a subnormal
	for k, v := range []uint32{0x7fc01234, 0x7f800001, 0x80000000, 0x7f800000, 0x00000001} {
		for b := range 4 {
			buf[4*k+b] = byte(v >> (8 * b))
		}
	}
	for off := range 4 {
		for n := 0; n <= 67 && 4*n+off <= len(buf); n++ {
			src := buf[off:]
			got, want := make([]float32, n), make([]float32, n)
			Float32s(got, src)
			float32sLoop(want, src)
			for k := range want {
				if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
					t.Fatalf("offset %d, n %d, [%d]: %#08x, want %#08x", off, n, k,
						math.Float32bits(got[k]), math.Float32bits(want[k]))
				}
			}
		}
	}
}

// TestFloat32sShort checks that a source shorter than the destination
// panics (the callers check sizes first) rather than reading past it.
func TestFloat32sShort(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for 7 bytes into 2 floats")
		}
	}()
	Float32s(make([]float32, 2), make([]byte, 7))
}

func BenchmarkFloat32s(b *testing.B) {
	src := make([]byte, 4<<20)
	dst := make([]float32, 1<<20)
	b.SetBytes(int64(len(src)))
	b.Run("impl=fast", func(b *testing.B) {
		for b.Loop() {
			Float32s(dst, src)
		}
	})
	b.Run("impl=loop", func(b *testing.B) {
		for b.Loop() {
			float32sLoop(dst, src)
		}
	})
}

// TestReadFloat32s checks the direct read against the buffered loop on
// lengths around the loop's 1024-value buffer, and that a short input is
// io.ErrUnexpectedEOF on both paths.
func TestReadFloat32s(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := make([]byte, 4*3000)
	for k := range src {
		src[k] = byte(r.Uint32())
	}
	for _, n := range []int{0, 1, 1023, 1024, 1025, 2048, 3000} {
		got, want := make([]float32, n), make([]float32, n)
		if err := ReadFloat32s(bytes.NewReader(src), got); err != nil {
			t.Fatalf("n %d: %v", n, err)
		}
		if err := readFloat32sLoop(bytes.NewReader(src), want); err != nil {
			t.Fatalf("n %d: loop: %v", n, err)
		}
		for k := range want {
			if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
				t.Fatalf("n %d, [%d]: %#08x, want %#08x", n, k, math.Float32bits(got[k]), math.Float32bits(want[k]))
			}
		}
	}
	for name, read := range map[string]func(io.Reader, []float32) error{"direct": ReadFloat32s, "loop": readFloat32sLoop} {
		if err := read(bytes.NewReader(src[:4*1500+2]), make([]float32, 2000)); err != io.ErrUnexpectedEOF {
			t.Errorf("%s: short input: %v, want io.ErrUnexpectedEOF", name, err)
		}
	}
}
