package filebuf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte("lcnet"), 1000)
	p := filepath.Join(dir, "m")
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(path string, limit int64, st os.FileInfo) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if st == nil {
			if st, err = f.Stat(); err != nil {
				t.Fatal(err)
			}
		}
		return Read(f, st, limit)
	}
	for _, tc := range []struct {
		name  string
		limit int64
		n     int // bytes back
	}{
		{"under-limit", 1 << 20, len(want)},
		{"at-limit", int64(len(want)), len(want)},
		// over the limit: the caller sees more than limit bytes
		{"over-limit", 100, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := read(p, tc.limit, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n || !bytes.Equal(got, want[:tc.n]) {
				t.Fatalf("%d bytes back, want the file's first %d", len(got), tc.n)
			}
		})
	}
	t.Run("shrunk-after-stat", func(t *testing.T) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		short := filepath.Join(dir, "short")
		if err := os.WriteFile(short, want[:10], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := read(short, 1<<20, st); err != io.ErrUnexpectedEOF {
			t.Fatalf("err %v, want io.ErrUnexpectedEOF", err)
		}
	})
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.Write(want); w.Close() }()
		defer r.Close()
		st, err := r.Stat()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Read(r, st, 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes, %v; want the %d written", len(got), err, len(want))
		}
	})
}
