package onnx

import (
	"fmt"
	"math"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/naive"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/onnxtest"
)

// TestGemmValues checks what Gemm and MatMul import to against ONNX's
// definition computed here in float64 (Y = alpha·A·op(B) + beta·C, op(B)
// = Bᵀ when transB=1), for both layouts of B, alpha and beta other than 1,
// a broadcast C, typed float_data and sizes that are not multiples of the
// importer's 32-wide transpose tiles.
func TestGemmValues(t *testing.T) {
	for _, tc := range []struct {
		op          string
		k, m        int
		transB      int64
		alpha, beta float32
		c           int // elements of C: 0 (none), 1 or m
		typed       bool
	}{
		{"Gemm", 37, 45, 0, 1, 1, 0, false},
		{"Gemm", 70, 33, 0, 0.5, 2, 33, false},
		{"Gemm", 64, 96, 1, 1, 1, 96, false},
		{"Gemm", 45, 37, 1, -1.5, 0.25, 1, true},
		{"Gemm", 1, 1, 0, 3, 1, 1, false},
		{"MatMul", 53, 29, 0, 1, 1, 0, false},
		{"MatMul", 40, 40, 0, 1, 1, 0, true},
	} {
		name := fmt.Sprintf("%s/k=%d/m=%d/transB=%d/alpha=%g/beta=%g/c=%d/typed=%v",
			tc.op, tc.k, tc.m, tc.transB, tc.alpha, tc.beta, tc.c, tc.typed)
		t.Run(name, func(t *testing.T) {
			bDims := []int64{int64(tc.k), int64(tc.m)}
			if tc.transB != 0 {
				bDims = []int64{int64(tc.m), int64(tc.k)}
			}
			B := onnxtest.FloatT("B", 3, 0.5, bDims...)
			B.Typed = tc.typed
			inits := []onnxtest.Tensor{B}
			ins := []string{"x", "B"}
			var attrs []onnxtest.Attr
			if tc.op == "Gemm" {
				attrs = []onnxtest.Attr{onnxtest.F("alpha", tc.alpha), onnxtest.F("beta", tc.beta), onnxtest.I("transB", tc.transB)}
				if tc.c > 0 {
					inits = append(inits, onnxtest.FloatT("C", 4, 0.2, int64(tc.c)))
					ins = append(ins, "C")
				}
			}
			m := &onnxtest.Model{Opset: 13, Input: "x", InDims: []int64{1, int64(tc.k)}, Output: "y", Inits: inits,
				Nodes: []onnxtest.Node{onnxtest.N(tc.op, ins, "y", attrs...)}}
			g, err := Read(m.Bytes(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			x := onnxtest.Weights(tc.k, 7, 1)
			got, err := naive.Run(g, x, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.m {
				t.Fatalf("%d outputs, want %d", len(got), tc.m)
			}
			for o := range tc.m {
				s := 0.0
				for i := range tc.k {
					bv := B.Floats[i*tc.m+o]
					if tc.transB != 0 {
						bv = B.Floats[o*tc.k+i]
					}
					s += float64(x[i]) * float64(bv)
				}
				want := float64(tc.alpha) * s
				if tc.c > 0 {
					want += float64(tc.beta) * float64(inits[1].Floats[min(o, tc.c-1)])
				}
				if d := math.Abs(float64(got[o]) - want); d > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("y[%d] = %g, want %g", o, got[o], want)
				}
			}
			// The imported FC holds weights as [out, in] whatever B's layout.
			var fc *graph.FC
			for _, n := range g.Nodes {
				if f, ok := n.Op.(*graph.FC); ok {
					fc = f
				}
			}
			if fc == nil || !graph.SameShape(fc.Weight.Shape, []int{tc.m, tc.k}) {
				t.Fatalf("no FC of weight shape [%d %d] in %v", tc.m, tc.k, g.Nodes)
			}
		})
	}
}
