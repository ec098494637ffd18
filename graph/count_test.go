package graph_test

import (
	"math"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// The paper's table at 224×224: exact parameter and MAC counts of a faithful
// re-implementation, and Paddle's FLOPs counter (which rounds to the paper's
// FLOPs column).
func TestCountPaperTable(t *testing.T) {
	tests := []struct {
		scale            float64
		params, macs, fl float64 // millions
		paperFLOPs       int
	}{
		{0.25, 1.521, 16.77, 18.25, 18},
		{0.35, 1.643, 27.36, 29.46, 29},
		{0.5, 1.880, 44.73, 47.28, 47},
		{0.75, 2.357, 94.79, 98.82, 99},
		{1.0, 2.953, 155.70, 160.81, 161},
		{1.5, 4.500, 334.19, 341.85, 342},
		{2.0, 6.522, 580.19, 590.41, 590},
		{2.5, 9.018, 893.72, 906.49, 906},
	}
	for _, tt := range tests {
		g, err := pplcnet.Build(pplcnet.Default(tt.scale), 1)
		if err != nil {
			t.Fatal(err)
		}
		c := graph.Count(g)
		if d := math.Abs(float64(c.Params)/1e6-tt.params) / tt.params; d > 0.001 {
			t.Errorf("x%g params %d, want %.3fM", tt.scale, c.Params, tt.params)
		}
		if d := math.Abs(float64(c.MACs)/1e6 - tt.macs); d > 0.006 {
			t.Errorf("x%g MACs %d, want %.2fM", tt.scale, c.MACs, tt.macs)
		}
		if d := math.Abs(float64(c.FLOPs)/1e6 - tt.fl); d > 0.006 {
			t.Errorf("x%g FLOPs %d, want %.2fM", tt.scale, c.FLOPs, tt.fl)
		}
		if got := int(math.Round(float64(c.FLOPs) / 1e6)); got != tt.paperFLOPs {
			t.Errorf("x%g FLOPs round to %dM, paper says %dM", tt.scale, got, tt.paperFLOPs)
		}
	}
}

func TestOptimizeStructure(t *testing.T) {
	g, err := pplcnet.Build(pplcnet.Default(1), 7)
	if err != nil {
		t.Fatal(err)
	}
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, n := range o.Nodes {
		counts[n.Op.Type()]++
	}
	// stem + 13 dw + 13 pw + last conv; 2 SE; pool; flatten; fc; softmax.
	want := map[string]int{"conv2d": 28, "squeeze_excite": 2, "global_avg_pool": 1, "reshape": 1, "fc": 1, "softmax": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("optimized graph has %d %s nodes, want %d (all: %v)", counts[k], k, v, counts)
		}
	}
	if len(o.Nodes) != 34 {
		t.Errorf("optimized graph has %d nodes, want 34: %v", len(o.Nodes), counts)
	}
	for _, n := range o.Nodes {
		if c, ok := n.Op.(*graph.Conv2D); ok {
			if n.Name != "last_conv" && c.Act.Kind != graph.ActHardSwish {
				t.Errorf("%s: activation %v not fused", n.Name, c.Act)
			}
			if c.Bias == nil && n.Name != "last_conv" {
				t.Errorf("%s: batch norm not folded into a bias", n.Name)
			}
		}
	}
	// The original is untouched.
	if c := graph.Count(g); c.Params < 2_950_000 {
		t.Errorf("Optimize changed its input: %d params", c.Params)
	}
}

// A conv with its bias as a separate add, then batch norm (Paddle's
// layout), folds completely whatever the order the passes meet it in.
func TestOptimizeBiasThenBatchNorm(t *testing.T) {
	g := graph.New("t", "x", 2, 3, 3)
	w, _ := graph.FromData([]float32{1, 2, 3, 4}, 2, 2, 1, 1)
	if _, err := g.Add("conv", &graph.Conv2D{InC: 2, OutC: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: w}, g.Input); err != nil {
		t.Fatal(err)
	}
	b, _ := graph.FromData([]float32{0.5, -1}, 2)
	if _, err := g.Add("add", &graph.BiasAdd{Bias: b}, g.Output); err != nil {
		t.Fatal(err)
	}
	one := func(v ...float32) *graph.Tensor { t, _ := graph.FromData(v, 2); return t }
	if _, err := g.Add("bn", &graph.BatchNorm{Scale: one(2, 3), Shift: one(1, 1), Mean: one(0, 1), Var: one(1, 4), Eps: 0}, g.Output); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Add("act", &graph.Act{Act: graph.HardSwish}, g.Output); err != nil {
		t.Fatal(err)
	}
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Nodes) != 1 {
		t.Fatalf("optimized to %d nodes, want 1 conv", len(o.Nodes))
	}
	c := o.Nodes[0].Op.(*graph.Conv2D)
	// channel 0: (x*1+..)+0.5 -> *2 +1 ; channel 1: ((..)-1 - 1)/2*3 + 1
	wantW := []float32{2, 4, 4.5, 6}
	wantB := []float32{2, -2}
	for i := range wantW {
		if c.Weight.Data[i] != wantW[i] {
			t.Errorf("weight %d = %g, want %g", i, c.Weight.Data[i], wantW[i])
		}
	}
	for i := range wantB {
		if c.Bias.Data[i] != wantB[i] {
			t.Errorf("bias %d = %g, want %g", i, c.Bias.Data[i], wantB[i])
		}
	}
	if c.Act.Kind != graph.ActHardSwish {
		t.Errorf("activation %v not fused", c.Act)
	}
}

func TestConvShapeErrors(t *testing.T) {
	w, _ := graph.FromData(make([]float32, 3), 1, 1, 3, 1)
	tests := []struct {
		name   string
		in     []int
		stride int
		pad    int
		ok     bool
		want   []int
	}{
		{"kernel over a 2-row input, stride 2", []int{1, 2, 8}, 2, 0, false, nil},
		{"kernel over a 2-row input, stride 1", []int{1, 2, 8}, 1, 0, false, nil},
		{"padded", []int{1, 2, 8}, 2, 1, true, []int{1, 1, 8}},
		{"exact fit", []int{1, 3, 4}, 1, 0, true, []int{1, 1, 4}},
	}
	for _, tt := range tests {
		c := &graph.Conv2D{InC: 1, OutC: 1, KH: 3, KW: 1, StrideH: tt.stride, StrideW: 1, PadT: tt.pad, PadB: tt.pad, Groups: 1, Weight: w}
		got, err := c.InferShape([][]int{tt.in})
		if (err == nil) != tt.ok || (tt.ok && !graph.SameShape(got, tt.want)) {
			t.Errorf("%s: got %v, %v; want ok=%v %v", tt.name, got, err, tt.ok, tt.want)
		}
	}
}
