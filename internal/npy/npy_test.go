package npy

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {5}, {2, 3}, {1, 3, 4, 2}, {0, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		a := &Array{Shape: shape, Data: make([]float32, n)}
		for i := range a.Data {
			a.Data[i] = float32(i)*0.5 - 3
		}
		var buf bytes.Buffer
		if err := Write(&buf, a); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-len(a.Data)*4)%64 != 0 {
			t.Errorf("shape %v: data does not start on a 64-byte boundary", shape)
		}
		b, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if diff := cmp.Diff(a.Data, b.Data); diff != "" || len(b.Shape) != len(shape) {
			t.Errorf("shape %v: got shape %v diff %s", shape, b.Shape, diff)
		}
	}
}

// Headers as NumPy writes them, and as a hostile file might.
func TestHeaders(t *testing.T) {
	mk := func(h string, data int) []byte {
		var b bytes.Buffer
		b.WriteString(magic)
		b.Write([]byte{1, 0, byte(len(h)), byte(len(h) >> 8)})
		b.WriteString(h)
		b.Write(make([]byte, data))
		return b.Bytes()
	}
	tests := []struct {
		name string
		file []byte
		ok   bool
	}{
		{"numpy", mk("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24), true},
		{"big-endian", mk("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8), true},
		{"float64", mk("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16), false},
		{"fortran", mk("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8), false},
		{"truncated data", mk("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20), false},
		{"huge shape", mk("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", 8), false},
		{"negative", mk("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }", 8), false},
		{"no shape", mk("{'descr': '<f4', 'fortran_order': False}", 8), false},
		{"junk", mk("hello", 8), false},
		{"dup key", mk("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4), false},
		{"wrong magic", []byte("PK\x03\x04 this is a zip"), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.file), int64(len(tt.file)))
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && (err == nil || !errors.Is(err, ErrFormat)) {
			t.Errorf("%s: got %v, want an ErrFormat error", tt.name, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	Write(&buf, &Array{Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}})
	f.Add(buf.Bytes())
	f.Add([]byte(magic + "\x01\x00\x10\x00{'shape': (1,)}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b), int64(len(b)))
		if err == nil {
			n := 1
			for _, d := range a.Shape {
				n *= d
			}
			if n != len(a.Data) {
				t.Fatalf("shape %v with %d values", a.Shape, len(a.Data))
			}
		}
	})
}
