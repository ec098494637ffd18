package paddle

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates (the tests of this file run
// serially, so TotalAlloc is nearly f's alone).
func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// TestPickleMemoBound: one object memoised over and over is refused once
// the memo has more entries than the pickle has byte pairs, before it
// outgrows the input.
func TestPickleMemoBound(t *testing.T) {
	flood := append([]byte{opProto, 4, opEmptyDict}, bytes.Repeat([]byte{opMemoize}, 1100000)...)
	flood = append(flood, opStop)
	var err error
	n := allocated(func() { _, err = unpickle(flood) })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "memo") {
		t.Fatalf("MEMOIZE flood: %v, want ErrTooLarge about the memo", err)
	}
	if n > 16*uint64(len(flood)) {
		t.Errorf("MEMOIZE flood: %d MB allocated for %d KB", n>>20, len(flood)>>10)
	}
	t.Logf("MEMOIZE flood of %d KB: %.1f MB allocated, %v", len(flood)>>10, float64(n)/(1<<20), err)

	// Half as many MEMOIZEs as bytes is what a pickler can write: the
	// same object stored 1,000 times in 2 KB loads.
	p := hostilePickle(func(p *pickler) {
		p.op(opEmptyDict)
		for range 1000 {
			p.op(opMemoize, opPop, opBinGet, 0)
		}
		p.op(opStop)
	})
	if _, err := unpickle(p); err != nil {
		t.Fatalf("1000 MEMOIZEs in %d bytes: %v", len(p), err)
	}
	// Sparse BINPUT indices still work, and count against the bound.
	p = hostilePickle(func(p *pickler) {
		p.op(opEmptyDict, opLongBinPut, 0x10, 0, 0, 0, opMemoize, opLongBinGet, 0x10, 0, 0, 0, opBinGet, 1, opPop, opPop)
		p.op(opStop)
	})
	if v, err := unpickle(p); err != nil || pyType(v) != "dict" {
		t.Fatalf("sparse memo: %v, %v", v, err)
	}
}

// TestPickleDecodeBound: latin-1 text in the memo encoded again and again
// (a few opcode bytes each time) is refused.
func TestPickleDecodeBound(t *testing.T) {
	p := hostilePickle(func(p *pickler) {
		p.global("_codecs", "encode") // memo 2
		p.str(strings.Repeat("x", 32<<10))
		p.str("latin1")
		p.op(opTuple2)
		p.put() // memo 5
		p.op(opEmptyList)
		p.put() // memo 6
		for range 20000 {
			p.op(opBinGet, 2, opBinGet, 5, opReduce, opAppend)
		}
		p.op(opStop)
	})
	var err error
	n := allocated(func() { _, err = unpickle(p) })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("repeated _codecs.encode: %v, want ErrTooLarge", err)
	}
	if n > 16*uint64(len(p)) {
		t.Errorf("repeated _codecs.encode: %d MB allocated for %d KB", n>>20, len(p)>>10)
	}
	t.Logf("%d KB: %.1f MB allocated, %v", len(p)>>10, float64(n)/(1<<20), err)
}
