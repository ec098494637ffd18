package paddle

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
)

// realDir holds PaddleOCR's PP-LCNet_x0_25_textline_ori (Apache-2.0, see
// its NOTICE).
const realDir = "../../third_party/models/pplcnet_x0_25_textline_ori/paddle"

// realReference is Paddle's output for x[i] = sin(0.01 i), 1×3×80×160.
var realReference = []float32{0.09793915, 0.90206081}

func loadReal(t *testing.T) *graph.Graph {
	t.Helper()
	g, err := LoadPIR(filepath.Join(realDir, "inference.json"), filepath.Join(realDir, "inference.pdiparams"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRealPIRStructure(t *testing.T) {
	g := loadReal(t)
	if !graph.SameShape(g.InputShape(), []int{3, 80, 160}) || !graph.SameShape(g.OutputShape(), []int{2}) {
		t.Fatalf("input %v output %v, want [3 80 160] -> [2]", g.InputShape(), g.OutputShape())
	}
	var dw []*graph.Conv2D
	var gates []graph.Activation
	var scales []float32
	for _, n := range g.Nodes {
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			if op.Depthwise() {
				dw = append(dw, op)
			}
		case *graph.Act:
			if op.Act.Kind == graph.ActHardSigmoid {
				gates = append(gates, op.Act)
			}
		case *graph.Scale:
			scales = append(scales, op.Factor)
		}
	}
	if len(dw) != 13 {
		t.Fatalf("%d depthwise convs, want 13", len(dw))
	}
	kernels := []int{3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5}
	for i, c := range dw {
		want := [2]int{1, 1}
		switch i + 1 {
		case 2, 4, 6, 12:
			want = [2]int{2, 1}
		}
		if got := [2]int{c.StrideH, c.StrideW}; got != want {
			t.Errorf("block %d stride %v, want %v", i+1, got, want)
		}
		if c.KH != kernels[i] || c.KW != kernels[i] || c.PadT != kernels[i]/2 || c.PadR != kernels[i]/2 {
			t.Errorf("block %d kernel %dx%d pad %d, want %d", i+1, c.KH, c.KW, c.PadT, kernels[i])
		}
	}
	if len(gates) != 2 {
		t.Fatalf("%d hardsigmoid gates, want 2", len(gates))
	}
	for _, a := range gates {
		if math.Abs(float64(a.Slope)-1.0/6) > 1e-6 || a.Offset != 0.5 {
			t.Errorf("gate %v, want slope 1/6 offset 0.5", a)
		}
	}
	if len(scales) != 1 || math.Abs(float64(scales[0])-0.8) > 1e-6 {
		t.Errorf("scales %v, want one dropout scale 0.8", scales)
	}
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	var se, fc int
	for _, n := range o.Nodes {
		switch op := n.Op.(type) {
		case *graph.SE:
			se++
		case *graph.FC:
			fc++
			if op.In != 1280 || op.Out != 2 || op.Act.Kind != graph.ActNone {
				t.Errorf("fc %d->%d act %v", op.In, op.Out, op.Act)
			}
		}
	}
	if se != 2 || fc != 1 {
		t.Errorf("optimized: %d SE and %d FC nodes, want 2 and 1", se, fc)
	}
}

// realInput is x[i] = sin(0.01 i) over the flat NCHW index.
func realInput() []float32 {
	x := make([]float32, 3*80*160)
	for i := range x {
		x[i] = float32(math.Sin(0.01 * float64(i)))
	}
	return x
}
