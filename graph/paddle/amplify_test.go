package paddle

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
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

// TestStateDictSharedArrays: names sharing one array (through the memo)
// share its decoded tensor, and distinct arrays built from one memoised
// bytes object cannot decode to more than a multiple of the file.
func TestStateDictSharedArrays(t *testing.T) {
	// One 32 KiB array under 4000 names (the corpus'
	// pdparams/memo_amplify_4000.pdparams).
	data := make([]float32, 8<<10)
	p := &pickler{proto: 4}
	p.op(opProto, 4, opEmptyDict)
	p.put() // memo 0
	p.op(opMark)
	p.str("a0") // memo 1
	p.array([]int{len(data)}, data)
	p.put()
	arr := byte(p.memo - 1)
	for i := 1; i < 4000; i++ {
		p.op(opShortBinUni, byte(len("a")+len(itoa(i))))
		p.b.WriteString("a" + itoa(i))
		p.op(opBinGet, arr)
	}
	p.op(opSetItems, opStop)
	b := p.b.Bytes()
	var sd map[string]*graphTensor
	var err error
	n := allocated(func() { sd, err = readStateDict(b) })
	if err != nil {
		t.Fatalf("4000 names of one array: %v", err)
	}
	if len(sd) != 4000 || &sd["a1"].Data[0] != &sd["a3999"].Data[0] {
		t.Fatalf("4000 names of one array: %d entries, not sharing one tensor", len(sd))
	}
	if n > 32*uint64(len(b))+(1<<20) { // the names and maps; 125 MB when decoded per name
		t.Errorf("4000 names of one array: %.1f MB allocated for %d KB", float64(n)/(1<<20), len(b)>>10)
	}
	t.Logf("4000 names of one array, %d KB: %.1f MB allocated", len(b)>>10, float64(n)/(1<<20))

	// 4000 distinct arrays built on one memoised bytes object.
	p = &pickler{proto: 4}
	p.op(opProto, 4, opEmptyDict)
	p.put()
	p.op(opMark)
	p.str("a0")
	p.array([]int{len(data)}, data)
	// array() memoises, from base (2, after the dict and "a0"):
	// _reconstruct at +2, its arguments at +8, the array at +9 and its
	// BUILD state (with the data bytes) at +20. Rebuild new arrays from
	// the same arguments and state.
	const base = 2
	reconstruct, args, state := byte(base+2), byte(base+8), byte(base+20)
	for i := 1; i < 4000; i++ {
		p.op(opShortBinUni, byte(len("a")+len(itoa(i))))
		p.b.WriteString("a" + itoa(i))
		p.op(opBinGet, reconstruct, opBinGet, args, opReduce, opBinGet, state, opBuild)
	}
	p.op(opSetItems, opStop)
	b = p.b.Bytes()
	n = allocated(func() { _, err = readStateDict(b) })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("4000 arrays on one bytes object: %v, want ErrTooLarge", err)
	}
	if n > 32*uint64(len(b))+(1<<20) {
		t.Errorf("4000 arrays on one bytes object: %.1f MB allocated for %d KB", float64(n)/(1<<20), len(b)>>10)
	}
	t.Logf("4000 arrays on one bytes object, %d KB: %.1f MB allocated, %v", len(b)>>10, float64(n)/(1<<20), err)
}

type graphTensor = graph.Tensor

func itoa(i int) string { return strconv.Itoa(i) }
