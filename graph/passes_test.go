package graph

import (
	"fmt"
	"math"
	"testing"
)

// TestFoldScaleIntoFC: x -> Scale -> Reshape -> FC (PP-LCNet's inference
// dropout before the classifier) becomes one FC whose weights are the
// factor times the old ones, bit for bit; a factor of 1 keeps the weight
// tensor as it is; and the source graph keeps its own tensors and nodes.
func TestFoldScaleIntoFC(t *testing.T) {
	for _, factor := range []float32{0.8, 1, -2.5} {
		t.Run(fmt.Sprint(factor), func(t *testing.T) {
			g := New("t", "x", 5, 1, 1)
			v, err := g.Add("drop", &Scale{Factor: factor}, g.Input)
			if err != nil {
				t.Fatal(err)
			}
			if v, err = g.Add("flat", &Reshape{Shape: []int{-1}}, v); err != nil {
				t.Fatal(err)
			}
			w := NewTensor(3, 5)
			for k := range w.Data {
				w.Data[k] = float32(math.Sin(float64(k) + 0.3))
			}
			src := append([]float32(nil), w.Data...)
			if _, err = g.Add("fc", &FC{In: 5, Out: 3, Weight: w, Bias: NewTensor(3)}, v); err != nil {
				t.Fatal(err)
			}
			o, err := Optimize(g)
			if err != nil {
				t.Fatal(err)
			}
			var fc *FC
			for _, n := range o.Nodes {
				switch op := n.Op.(type) {
				case *Scale:
					t.Fatalf("scale left in %v", o.Nodes)
				case *FC:
					fc = op
				}
			}
			if fc == nil {
				t.Fatal("no FC")
			}
			if factor == 1 && fc.Weight != w {
				t.Error("a factor of 1 made a new weight tensor")
			}
			for k, s := range src {
				if got, want := fc.Weight.Data[k], s*factor; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("weight[%d] = %g, want %g", k, got, want)
				}
				if w.Data[k] != s {
					t.Fatalf("the source graph's weight[%d] changed to %g", k, w.Data[k])
				}
			}
			if len(g.Nodes) != 3 {
				t.Fatalf("the source graph has %d nodes, want its 3", len(g.Nodes))
			}
		})
	}
}

// TestFoldBatchNormKeepsSource: folding a BatchNorm into the conv before
// it writes a new weight tensor, y = x·w·s with s = scale/sqrt(var+eps) in
// float64, and leaves the source graph's tensor as it was.
func TestFoldBatchNormKeepsSource(t *testing.T) {
	g := New("t", "x", 2, 4, 4)
	w := NewTensor(3, 2, 1, 1)
	for k := range w.Data {
		w.Data[k] = float32(k) - 2.5
	}
	src := append([]float32(nil), w.Data...)
	v, err := g.Add("conv", &Conv2D{InC: 2, OutC: 3, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: w}, g.Input)
	if err != nil {
		t.Fatal(err)
	}
	bn := &BatchNorm{Scale: NewTensor(3), Shift: NewTensor(3), Mean: NewTensor(3), Var: NewTensor(3), Eps: 1e-5}
	for c := range 3 {
		bn.Scale.Data[c], bn.Var.Data[c] = float32(c)+0.5, float32(c)+1
	}
	if _, err := g.Add("bn", bn, v); err != nil {
		t.Fatal(err)
	}
	o, err := Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Nodes) != 1 {
		t.Fatalf("%d nodes after folding, want 1", len(o.Nodes))
	}
	cv := o.Nodes[0].Op.(*Conv2D)
	for k, s := range src {
		c := k / 2
		sc := float64(bn.Scale.Data[c]) / math.Sqrt(float64(bn.Var.Data[c])+float64(bn.Eps))
		if got, want := cv.Weight.Data[k], float32(float64(s)*sc); got != want {
			t.Fatalf("folded weight[%d] = %g, want %g", k, got, want)
		}
		if w.Data[k] != s {
			t.Fatalf("the source graph's weight[%d] changed to %g", k, w.Data[k])
		}
	}
}
