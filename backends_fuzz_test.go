package lcnet_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
)

// FuzzBackends builds a small random network from the fuzzer's bytes
// (convolutions of any kernel, stride, padding and grouping, activations,
// squeeze-excite, scale, pooling, FC, softmax) and checks that oneDNN and
// the Go kernels agree on it: same acceptance, and outputs within 1e-4 of
// the output's scale plus 3e-5. (The absolute part covers outputs made
// small by cancellation: in corpus entry 62aa392d7e0e8037, three FCs
// 1215 -> 13 -> 15 -> 1 give 0.00472 and both backends are 5-6e-6 from a
// float64 reference, on opposite sides.) The backends share no code below
// graph.Graph, so a disagreement is a bug in one of them (or in the
// planner's split).
func FuzzBackends(f *testing.F) {
	if lcnet.DNNLISA() == "" {
		f.Skip("built without oneDNN")
	}
	f.Add([]byte{3, 8, 8, 2, 0, 4, 1, 1, 1, 1, 0, 1, 1, 1}, uint64(1))
	f.Add([]byte{16, 12, 9, 4, 0, 16, 2, 2, 1, 2, 1, 2, 3, 1, 2, 8, 1, 0, 1, 1, 5, 0, 3, 1, 4}, uint64(2))
	f.Add([]byte{7, 5, 11, 3, 1, 0, 0, 2, 7, 9, 9, 9, 9, 9, 9, 9}, uint64(3))
	f.Add([]byte{1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0}, uint64(4))
	f.Fuzz(func(t *testing.T, spec []byte, seed uint64) {
		g, ok := fuzzGraph(spec, seed)
		if !ok {
			return
		}
		goM, goErr := lcnet.New(g, &lcnet.Options{Backend: lcnet.Go})
		dnM, dnErr := lcnet.New(g, &lcnet.Options{Backend: lcnet.DNNL})
		if goM != nil {
			defer goM.Close()
		}
		if dnM != nil {
			defer dnM.Close()
		}
		if (goErr == nil) != (dnErr == nil) {
			t.Fatalf("backends disagree on acceptance: go: %v; dnnl: %v", goErr, dnErr)
		}
		if goErr != nil {
			return
		}
		r := rand.New(rand.NewPCG(seed, 1))
		batch := 1 + int(seed%3)
		in := make([]float32, batch*graph.Numel(g.InputShape()))
		for i := range in {
			in[i] = float32(r.NormFloat64())
		}
		want, err := goM.Run(in, batch)
		if err != nil {
			t.Fatalf("go: %v", err)
		}
		got, err := dnM.Run(in, batch)
		if err != nil {
			t.Fatalf("dnnl: %v", err)
		}
		scale := 0.0
		for _, v := range want {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for i := range want {
			d := math.Abs(float64(got[i]) - float64(want[i]))
			if math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) || d > 1e-4*scale+3e-5 {
				t.Fatalf("output %d of %d: dnnl %v, go %v (scale %.3g)\n%s", i, len(want), got[i], want[i], scale, describe(g))
			}
		}
	})
}

// lastAct is the activation applied last to value v, looking through
// constant scales and identity activations: a conv's or FC's fused one,
// or an Act node's.
func lastAct(g *graph.Graph, v int) graph.Activation {
	for p := g.Producer(v); p >= 0; p = g.Producer(g.Nodes[p].Inputs[0]) {
		switch o := g.Nodes[p].Op.(type) {
		case *graph.Conv2D:
			return o.Act
		case *graph.FC:
			return o.Act
		case *graph.Act:
			if o.Act.Kind != graph.ActNone {
				return o.Act
			}
			continue
		case *graph.Scale:
			continue
		}
		break
	}
	return graph.NoAct
}

// TestKnownBackendBugs pins what FuzzBackends found in code this package
// does not own. An open bug is skipped, naming it, while it reproduces; a
// fixed one stays as a regression test.
func TestKnownBackendBugs(t *testing.T) {
	if lcnet.DNNLISA() == "" {
		t.Skip("built without oneDNN")
	}
	w := func(shape ...int) *graph.Tensor {
		x := graph.NewTensor(shape...)
		for i := range x.Data {
			x.Data[i] = float32(i%7)/7 - 0.3
		}
		return x
	}
	// oneDNN 2.6 runs a repeated eltwise post-op with the first one's
	// parameters, so conv(relu) -> relu -> scale lost the scale and
	// FC(relu) -> scale -> relu got it twice; csrc no longer fuses a
	// repeated algorithm.
	for _, tc := range []struct {
		name  string
		build func(g *graph.Graph) error
	}{
		{"conv relu, relu, scale", func(g *graph.Graph) error {
			v, _ := g.Add("conv", &graph.Conv2D{InC: 4, OutC: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: w(4, 4, 1, 1), Act: graph.ReLU}, g.Input)
			v, _ = g.Add("relu", &graph.Act{Act: graph.ReLU}, v)
			_, err := g.Add("scale", &graph.Scale{Factor: 0.25}, v)
			return err
		}},
		{"fc relu, scale, relu", func(g *graph.Graph) error {
			v, _ := g.Add("flat", &graph.Reshape{Shape: []int{-1}}, g.Input)
			v, _ = g.Add("fc", &graph.FC{In: 36, Out: 5, Weight: w(5, 36), Act: graph.ReLU}, v)
			v, _ = g.Add("scale", &graph.Scale{Factor: 0.25}, v)
			_, err := g.Add("relu", &graph.Act{Act: graph.ReLU}, v)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New("rrs", "x", 4, 3, 3)
			if err := tc.build(g); err != nil {
				t.Fatal(err)
			}
			in := make([]float32, 36)
			for i := range in {
				in[i] = float32(i%5) - 1
			}
			var outs [2][]float32
			for i, be := range []lcnet.Backend{lcnet.Go, lcnet.DNNL} {
				m, err := lcnet.New(g, &lcnet.Options{Backend: be})
				if err != nil {
					t.Fatal(err)
				}
				if outs[i], err = m.Run(in, 1); err != nil {
					t.Fatal(err)
				}
				m.Close()
			}
			for i := range outs[0] {
				if math.Abs(float64(outs[0][i]-outs[1][i])) > 1e-5 {
					t.Fatalf("value %d: dnnl %v, go %v", i, outs[1][i], outs[0][i])
				}
			}
		})
	}
	t.Run("kernel over the padded input", func(t *testing.T) {
		// A 3-row kernel on a 2-row input with stride 2 once gave
		// (2-2-1)/2+1 = 1 output row (Go's division truncates towards
		// zero); it must be a shape error.
		g := graph.New("k", "x", 1, 2, 8)
		_, err := g.Add("conv", &graph.Conv2D{InC: 1, OutC: 1, KH: 3, KW: 1, StrideH: 2, StrideW: 1, Groups: 1, Weight: w(1, 1, 3, 1)}, g.Input)
		if !errors.Is(err, graph.ErrShape) {
			t.Errorf("got %v (output %v), want a shape error", err, g.OutputShape())
		}
	})
}

// fuzzGraph decodes spec into a graph: an input [C,H,W], then layers
// until the bytes run out, each chosen by one byte and shaped by the next.
func fuzzGraph(spec []byte, seed uint64) (*graph.Graph, bool) {
	pos := 0
	next := func(n int) int { // a value in [0, n)
		if pos >= len(spec) {
			return 0
		}
		b := spec[pos]
		pos++
		return int(b) % n
	}
	r := rand.New(rand.NewPCG(seed, 2))
	tensor := func(std float64, shape ...int) *graph.Tensor {
		t := graph.NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = float32(r.NormFloat64() * std)
		}
		return t
	}
	acts := func() graph.Activation {
		switch next(6) {
		case 1:
			return graph.ReLU
		case 2:
			return graph.HardSwish
		case 3:
			// Slope 0 is refused by oneDNN while Go runs it: a known
			// planner gap (see TestPlannerFallsBackForWhatDNNLRejects).
			return graph.HardSigmoid(float32(1+next(8))/8, 0.5)
		case 4:
			return graph.Sigmoid
		}
		return graph.NoAct
	}
	c, h, w := 1+next(17), 1+next(13), 1+next(13)
	g := graph.New("fuzz", "x", c, h, w)
	v := g.Input
	flat := false
	for layer := 0; pos < len(spec) && layer < 6; layer++ {
		shape := g.Values[v].Shape
		name := "l" + string(rune('a'+layer))
		var op graph.Op
		switch next(7) {
		case 0, 1: // convolution
			if flat {
				continue
			}
			inC := shape[0]
			kh, kw := 1+2*next(3), 1+2*next(3)
			groups := 1
			outC := 1 + next(17)
			switch next(3) {
			case 1: // depthwise
				groups, outC = inC, inC
			case 2: // a divisor of both
				for d := inC; d > 1; d-- {
					if inC%d == 0 && outC%d == 0 {
						groups = d
						break
					}
				}
			}
			conv := &graph.Conv2D{InC: inC, OutC: outC, KH: kh, KW: kw,
				StrideH: 1 + next(2), StrideW: 1 + next(2),
				PadT: next(kh/2 + 1), PadL: next(kw/2 + 1), PadB: next(kh/2 + 1), PadR: next(kw/2 + 1),
				Groups: groups, Weight: tensor(0.5, outC, inC/groups, kh, kw), Act: acts()}
			if next(2) == 1 {
				conv.Bias = tensor(0.1, outC)
			}
			op = conv
		case 2: // activation
			a := acts()
			// The same activation twice in a row and then a scale is
			// computed wrong by oneDNN (a known csrc bug, reported; see
			// TestKnownBackendBugs): left out so the fuzzer looks further.
			if last := lastAct(g, v); a.Kind != graph.ActNone && a.Kind == last.Kind {
				continue
			}
			op = &graph.Act{Act: a}
		case 3: // squeeze-excite
			if flat || shape[0] < 2 {
				continue
			}
			ch := shape[0]
			red := max(1, ch/4)
			op = &graph.SE{C: ch, Reduce: red, W1: tensor(0.5, red, ch), B1: tensor(0.1, red), W2: tensor(0.5, ch, red), B2: tensor(0.1, ch),
				Act: graph.ReLU, Gate: graph.HardSigmoid(1.0/6, 0.5)}
		case 4: // constant scale
			op = &graph.Scale{Factor: float32(1+next(8)) / 4}
		case 5: // global pooling then flatten
			if flat {
				continue
			}
			p, err := g.Add(name+".pool", &graph.GlobalAvgPool{}, v)
			if err != nil {
				return nil, false
			}
			if v, err = g.Add(name+".flat", &graph.Reshape{Shape: []int{shape[0]}}, p); err != nil {
				return nil, false
			}
			flat = true
			continue
		case 6: // fully connected (after flattening)
			in := graph.Numel(shape)
			if !flat {
				var err error
				if v, err = g.Add(name+".flat", &graph.Reshape{Shape: []int{in}}, v); err != nil {
					return nil, false
				}
				flat = true
			}
			out := 1 + next(17)
			fc := &graph.FC{In: in, Out: out, Weight: tensor(0.3, out, in), Act: acts()}
			if next(2) == 1 {
				fc.Bias = tensor(0.1, out)
			}
			op = fc
		}
		var err error
		if v, err = g.Add(name, op, v); err != nil {
			return nil, false // shapes that do not fit: not a network
		}
	}
	if flat && next(2) == 1 {
		if _, err := g.Add("softmax", &graph.Softmax{}, v); err != nil {
			return nil, false
		}
	}
	if graph.Numel(g.OutputShape()) > 1<<16 || len(g.Nodes) == 0 {
		return nil, false
	}
	return g, true
}

func describe(g *graph.Graph) string {
	s := fmt.Sprintf("input %v\n", g.InputShape())
	for _, n := range g.Nodes {
		s += fmt.Sprintf("%s %s %+v -> %v\n", n.Name, n.Op.Type(), brief(n.Op), g.Values[n.Output].Shape)
	}
	return s
}

// brief is an op without its weights.
func brief(op graph.Op) any {
	switch o := op.(type) {
	case *graph.Conv2D:
		c := *o
		c.Weight, c.Bias = nil, nil
		return c
	case *graph.FC:
		return fmt.Sprintf("%d->%d %v bias=%v", o.In, o.Out, o.Act, o.Bias != nil)
	case *graph.SE:
		return fmt.Sprintf("C=%d reduce=%d", o.C, o.Reduce)
	}
	return op
}
