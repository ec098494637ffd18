package onnx

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/onnxtest"
)

// sharedModel is x[1,c,8,8] -> n ops reading the one initializer W (and B),
// each made by node(i, in, out).
func sharedModel(c int, inits []onnxtest.Tensor, n int, node func(i int, in, out string) onnxtest.Node) []byte {
	m := &onnxtest.Model{Opset: 13, Input: "x", InDims: []int64{1, int64(c), 8, 8}, Output: "y", Inits: inits}
	prev := "x"
	for i := range n {
		out := fmt.Sprintf("v%d", i)
		if i == n-1 {
			out = "y"
		}
		m.Nodes = append(m.Nodes, node(i, prev, out))
		prev = out
	}
	return m.Bytes()
}

func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// TestSharedInitializer: 1000 convs reading one weight and one bias share
// one converted tensor each, instead of a copy per node.
func TestSharedInitializer(t *testing.T) {
	const c, n = 64, 1000
	b := sharedModel(c, []onnxtest.Tensor{onnxtest.FloatT("W", 1, 0.01, c, c, 3, 3), onnxtest.FloatT("B", 2, 0.01, c)}, n,
		func(i int, in, out string) onnxtest.Node {
			return onnxtest.N("Conv", []string{in, "W", "B"}, out, onnxtest.Is("pads", 1, 1, 1, 1))
		})
	var g *graph.Graph
	var err error
	alloc := allocated(func() { g, err = Read(b, Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	var w, bias *graph.Tensor
	convs := 0
	for _, nd := range g.Nodes {
		cv, ok := nd.Op.(*graph.Conv2D)
		if !ok {
			continue
		}
		if convs++; w == nil {
			w, bias = cv.Weight, cv.Bias
		}
		if cv.Weight != w || cv.Bias != bias {
			t.Fatalf("conv %s has its own weight or bias", nd.Name)
		}
	}
	if convs != n {
		t.Fatalf("%d convs, want %d", convs, n)
	}
	// One copy of W is 147 KB; a copy per node would be 143 MB.
	if alloc > 32<<20 {
		t.Errorf("%.1f MB allocated for %d KB", float64(alloc)/(1<<20), len(b)>>10)
	}
	t.Logf("%d convs sharing one weight, %d KB: %.1f MB allocated", n, len(b)>>10, float64(alloc)/(1<<20))
}

// TestWeightBound: what nodes compute from a shared constant (each Gemm
// transposes its B) is bounded by a multiple of the file.
func TestWeightBound(t *testing.T) {
	const k, n = 1024, 1000
	m := &onnxtest.Model{Opset: 13, Input: "x", InDims: []int64{1, k}, Output: "y",
		Inits: []onnxtest.Tensor{onnxtest.FloatT("B", 1, 0.01, k, k)}}
	prev := "x"
	for i := range n {
		out := fmt.Sprintf("v%d", i)
		if i == n-1 {
			out = "y"
		}
		m.Nodes = append(m.Nodes, onnxtest.N("Gemm", []string{prev, "B"}, out))
		prev = out
	}
	b := m.Bytes()
	var err error
	alloc := allocated(func() { _, err = Read(b, Options{}) })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d Gemms transposing one %dx%d B: %v, want ErrTooLarge", n, k, k, err)
	}
	if limit := uint64(2*(maxWeightFactor*len(b)+maxWeightSlack) + 8*len(b)); alloc > limit {
		t.Errorf("%.1f MB allocated for %d KB (limit %d MB)", float64(alloc)/(1<<20), len(b)>>10, limit>>20)
	}
	t.Logf("%d Gemms, %d KB: %.1f MB allocated, %v", n, len(b)>>10, float64(alloc)/(1<<20), err)
}
