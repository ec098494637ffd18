//go:build cgo && !purego

package dnn

import (
	"errors"
	"slices"
	"testing"
)

// TestSharedWorker runs an fp32 and an int8 instance of 2-thread plans on
// one Worker: the same outputs as on workers of their own, no allocation per
// Run, ErrClosed once the worker is closed, and the instances still close.
func TestSharedWorker(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	net, q, in := int8HeadFixed()
	p, err := Compile(net, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q8, err := CompileInt8(q, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer q8.Close()
	own := func() ([]float32, []float32) {
		a, err := p.NewInstance()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := q8.NewInstance()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		oa, ob := make([]float32, 10), make([]float32, 10)
		if err := a.Run(in, 1, oa); err != nil {
			t.Fatal(err)
		}
		if err := b.Run(in, 1, ob); err != nil {
			t.Fatal(err)
		}
		return oa, ob
	}
	wantA, wantB := own()

	w := NewWorker()
	a, err := p.NewInstanceOn(w)
	if err != nil {
		t.Fatal(err)
	}
	b, err := q8.NewInstanceOn(w)
	if err != nil {
		t.Fatal(err)
	}
	oa, ob := make([]float32, 10), make([]float32, 10)
	for range 3 {
		if err := a.Run(in, 1, oa); err != nil {
			t.Fatal(err)
		}
		if err := b.Run(in, 1, ob); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(oa, wantA) || !slices.Equal(ob, wantB) {
		t.Fatalf("shared worker: %v %v, own workers: %v %v", oa, ob, wantA, wantB)
	}
	if n := testing.AllocsPerRun(20, func() {
		_ = a.Run(in, 1, oa)
		_ = b.Run(in, 1, ob)
	}); n != 0 {
		t.Errorf("%v allocations per pair of runs on a shared worker", n)
	}
	b.Close() // one instance closed, the other still runs
	if err := a.Run(in, 1, oa); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w.Close()
	if err := a.Run(in, 1, oa); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after the worker closed: %v, want ErrClosed", err)
	}
	a.Close() // frees the C instance on this thread
	a.Close()
	if _, err := p.NewInstanceOn(w); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewInstanceOn a closed worker: %v, want ErrClosed", err)
	}
	// one thread: NewInstanceOn runs on the caller's thread, the worker is not used
	p1, err := Compile(net, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p1.Close()
	c, err := p1.NewInstanceOn(w)
	if err != nil {
		t.Fatalf("1-thread plan on a closed worker: %v", err)
	}
	defer c.Close()
	if err := c.Run(in, 1, oa); err != nil {
		t.Fatal(err)
	}
}
