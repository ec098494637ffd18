package onnx

import (
	"math"
	"os"
	"testing"

	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/naive"
)

const realModel = "/work/shared/models/pplcnet_x0_25_textline_ori/model.onnx"

// sinInput is x[i] = sin(0.01*i) over the flat NCHW index.
func sinInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(0.01 * float64(i)))
	}
	return x
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func loadReal(t testing.TB) *graph.Graph {
	t.Helper()
	if _, err := os.Stat(realModel); err != nil {
		t.Skipf("real model not present: %v", err)
	}
	g, err := Load(realModel, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRealModel(t *testing.T) {
	g := loadReal(t)
	if got := g.InputShape(); !graph.SameShape(got, []int{3, 80, 160}) {
		t.Errorf("input shape %v", got)
	}
	if got := g.OutputShape(); !graph.SameShape(got, []int{2}) {
		t.Errorf("output shape %v", got)
	}
	var dw, s21, hswish, scale08, gates int
	for _, n := range g.Nodes {
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			if op.Depthwise() {
				dw++
				if op.StrideH == 2 && op.StrideW == 1 {
					s21++
				}
			}
		case *graph.Act:
			switch op.Act.Kind {
			case graph.ActHardSwish:
				hswish++
			case graph.ActHardSigmoid:
				gates++
				if math.Abs(float64(op.Act.Slope)-1.0/6) > 1e-6 || op.Act.Offset != 0.5 {
					t.Errorf("gate %v", op.Act)
				}
			}
		case *graph.Scale:
			if math.Abs(float64(op.Factor)-0.8) < 1e-7 {
				scale08++
			}
		}
	}
	if dw != 13 || s21 != 4 || hswish != 28 || gates != 2 || scale08 != 1 {
		t.Errorf("depthwise %d (want 13), (2,1)-strided %d (want 4), hardswish %d (want 28), gates %d (want 2), Scale 0.8 %d (want 1)", dw, s21, hswish, gates, scale08)
	}
	in := sinInput(3 * 80 * 160)
	want := []float32{0.09793964, 0.90206039}
	out, err := naive.Run(g, in, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported: %v (max diff %.2g)", out, maxDiff(out, want))
	if d := maxDiff(out, want); d > 1e-5 {
		t.Errorf("output %v, want %v (diff %g)", out, want, d)
	}
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := naive.Run(o, in, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("optimized (%d nodes): %v (max diff %.2g)", len(o.Nodes), out2, maxDiff(out2, want))
	if d := maxDiff(out2, want); d > 1e-5 {
		t.Errorf("optimized output %v, want %v (diff %g)", out2, want, d)
	}
	p, err := fallback.Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	out3 := make([]float32, 2)
	if err := p.NewInstance().Run(in, 1, out3); err != nil {
		t.Fatal(err)
	}
	t.Logf("fallback backend: %v (max diff %.2g)", out3, maxDiff(out3, want))
	if d := maxDiff(out3, want); d > 1e-5 {
		t.Errorf("fallback output %v, want %v (diff %g)", out3, want, d)
	}
}
