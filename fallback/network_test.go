package fallback

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// netCase is a whole network for the end-to-end tests.
type netCase struct {
	name string
	cfg  pplcnet.Config
}

func netCases() []netCase {
	return []netCase{
		{"scale=0.25", pplcnet.Default(0.25)},
		{"scale=1.0", pplcnet.Default(1.0)},
		{"textline=0.25", pplcnet.TextLine(0.25)},
	}
}

func buildNet(t testing.TB, cfg pplcnet.Config) (raw, opt *graph.Graph) {
	t.Helper()
	raw, err := pplcnet.Build(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	opt, err = graph.Optimize(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, opt
}

func compileRun(t testing.TB, g *graph.Graph, in []float32, batch int) []float32 {
	t.Helper()
	p, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, batch*graph.Numel(p.OutputShape()))
	if err := p.NewInstance().Run(in, batch, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNetworkOptimizedMatchesRaw runs every op standalone (the raw graph:
// BN, Act, Scale, SE subgraphs with Mul) and the optimized graph (folded
// BN, fused activations, SE nodes) and wants the same outputs.
func TestNetworkOptimizedMatchesRaw(t *testing.T) { backends(t, testNetworkOptimizedMatchesRaw) }

func testNetworkOptimizedMatchesRaw(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, nc := range netCases() {
		raw, opt := buildNet(t, nc.cfg)
		// Compare logits too: softmax over 1000 classes squashes errors.
		rawLogits, optLogits := withoutLast(raw), withoutLast(opt)
		for _, batch := range []int{1, 3} {
			if raceEnabled && useISA == isaGo && batch > 1 && nc.cfg.Scale >= 1 {
				continue
			}
			t.Run(fmt.Sprintf("%s/batch=%d", nc.name, batch), func(t *testing.T) {
				in := randSlice(r, batch*graph.Numel(raw.InputShape()))
				pairs := [][2]*graph.Graph{{rawLogits, optLogits}}
				if batch == 1 {
					pairs = append(pairs, [2]*graph.Graph{raw, opt})
				}
				for _, pair := range pairs {
					a := compileRun(t, pair[0], in, batch)
					b := compileRun(t, pair[1], in, batch)
					if e := maxRelErr(b, a); e > 1e-5 {
						t.Fatalf("optimized vs raw (%v): rel err %g", pair[0].OutputShape(), e)
					}
				}
			})
		}
	}
}

// withoutLast returns a copy of g without its last node (the softmax).
func withoutLast(g *graph.Graph) *graph.Graph {
	c := g.Clone()
	c.Nodes = c.Nodes[:len(c.Nodes)-1]
	c.Output = c.Nodes[len(c.Nodes)-1].Output
	return c
}

// TestNetworkAgainstReference checks whole small networks, raw and
// optimized, against the naive NCHW interpreter run once on the raw graph.
func TestNetworkAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	type net struct {
		name     string
		raw, opt *graph.Graph
		in, want []float32
	}
	var nets []net
	for _, nc := range []netCase{netCases()[0], netCases()[2]} {
		raw, opt := buildNet(t, nc.cfg)
		in := randSlice(r, 2*graph.Numel(raw.InputShape()))
		want, err := refRun(raw, in, 2)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, net{nc.name, raw, opt, in, want})
	}
	backends(t, func(t *testing.T) {
		for _, n := range nets {
			for _, g := range []*graph.Graph{n.raw, n.opt} {
				if e := maxRelErr(compileRun(t, g, n.in, 2), n.want); e > 1e-5 {
					t.Fatalf("%s: rel err %g vs reference", n.name, e)
				}
			}
		}
	})
}

// TestSIMDMatchesScalar runs whole networks with every kernel set.
func TestSIMDMatchesScalar(t *testing.T) {
	if len(supported) == 1 {
		t.Skip("no assembly kernels in this build or on this CPU")
	}
	r := rand.New(rand.NewPCG(14, 15))
	defer func(old isa) { useISA = old }(useISA)
	for _, nc := range netCases() {
		_, opt := buildNet(t, nc.cfg)
		in := randSlice(r, 2*graph.Numel(opt.InputShape()))
		useISA = isaGo
		a := compileRun(t, opt, in, 2)
		for _, s := range supported[1:] {
			useISA = s
			b := compileRun(t, opt, in, 2)
			if e := maxRelErr(b, a); e > 1e-5 {
				t.Errorf("%s: %v vs pure Go: rel err %g", nc.name, s, e)
			}
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	_, opt := buildNet(t, pplcnet.Default(0.25))
	p, err := Compile(opt)
	if err != nil {
		t.Fatal(err)
	}
	inst := p.NewInstance()
	in := randSlice(rand.New(rand.NewPCG(1, 1)), 2*graph.Numel(p.InputShape()))
	out := make([]float32, 2*graph.Numel(p.OutputShape()))
	if err := inst.Run(in, 2, out); err != nil {
		t.Fatal(err)
	}
	inN, outN := graph.Numel(p.InputShape()), graph.Numel(p.OutputShape())
	for _, batch := range []int{2, 1} {
		n := testing.AllocsPerRun(3, func() {
			if err := inst.Run(in[:batch*inN], batch, out[:batch*outN]); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("batch %d: %v allocs per run, want 0", batch, n)
		}
	}
	ctx := context.Background()
	if n := testing.AllocsPerRun(3, func() { _ = inst.RunContext(ctx, in, 2, out) }); n != 0 {
		t.Errorf("RunContext: %v allocs per run, want 0", n)
	}
}

func TestConcurrentInstances(t *testing.T) {
	_, opt := buildNet(t, pplcnet.TextLine(0.25))
	p, err := Compile(opt)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	const workers, batch = 4, 2
	ins := make([][]float32, workers)
	want := make([][]float32, workers)
	for w := range workers {
		ins[w] = randSlice(r, batch*graph.Numel(p.InputShape()))
		want[w] = make([]float32, batch*graph.Numel(p.OutputShape()))
		if err := p.NewInstance().Run(ins[w], batch, want[w]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			inst := p.NewInstance()
			out := make([]float32, len(want[w]))
			for range 3 {
				if err := inst.Run(ins[w], batch, out); err != nil {
					errs[w] = err
					return
				}
				for i := range out {
					if out[i] != want[w][i] {
						errs[w] = fmt.Errorf("worker %d: output %d = %g, serial %g", w, i, out[i], want[w][i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBatchGrowAndShrink runs batches 1, 3, 2 on one instance and compares
// each sample with a batch-1 run.
func TestBatchGrowAndShrink(t *testing.T) {
	_, opt := buildNet(t, pplcnet.TextLine(0.25))
	p, err := Compile(opt)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	inN, outN := graph.Numel(p.InputShape()), graph.Numel(p.OutputShape())
	in := randSlice(r, 3*inN)
	single := make([]float32, 3*outN)
	one := p.NewInstance()
	for b := range 3 {
		if err := one.Run(in[b*inN:(b+1)*inN], 1, single[b*outN:(b+1)*outN]); err != nil {
			t.Fatal(err)
		}
	}
	inst := p.NewInstance()
	for _, batch := range []int{1, 3, 2} {
		out := make([]float32, batch*outN)
		if err := inst.Run(in[:batch*inN], batch, out); err != nil {
			t.Fatal(err)
		}
		if e := maxRelErr(out, single[:batch*outN]); e > 1e-6 {
			t.Fatalf("batch %d: rel err %g vs per-sample runs", batch, e)
		}
	}
}

type unknownOp struct{}

func (unknownOp) Type() string                         { return "mystery" }
func (unknownOp) InferShape(in [][]int) ([]int, error) { return in[0], nil }
func (unknownOp) Params() []graph.Param                { return nil }

func TestBadInput(t *testing.T) {
	g := graph.New("small", "x", 2, 3, 3)
	if _, err := g.Add("pool", &graph.GlobalAvgPool{}, g.Input); err != nil {
		t.Fatal(err)
	}
	p, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	inst := p.NewInstance()
	in, out := make([]float32, 18), make([]float32, 2)
	for _, c := range []struct {
		name    string
		in, out []float32
		batch   int
	}{
		{"batch 0", in[:0], out[:0], 0},
		{"batch -1", in, out, -1},
		{"short input", in[:17], out, 1},
		{"long input", make([]float32, 19), out, 1},
		{"short output", in, out[:1], 1},
		{"batch 2 with one sample", in, out, 2},
	} {
		if err := inst.Run(c.in, c.batch, c.out); !errors.Is(err, ErrInput) {
			t.Errorf("%s: err %v, want ErrInput", c.name, err)
		}
	}
	if err := inst.Run(in, 1, out); err != nil {
		t.Fatal(err)
	}

	bad := graph.New("bad", "x", 2, 3, 3)
	if _, err := bad.Add("strange", unknownOp{}, bad.Input); err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(bad); !errors.Is(err, ErrUnsupported) || !containsAll(err.Error(), "strange", "fallback:") {
		t.Errorf("unknown op: err %v, want ErrUnsupported naming the node", err)
	}
	if _, err := Compile(nil); err == nil {
		t.Error("nil graph compiled")
	}
	broken := graph.New("broken", "x", 2, 3, 3)
	broken.Nodes = append(broken.Nodes, &graph.Node{Name: "dangling", Op: &graph.Identity{}, Inputs: []int{5}, Output: 0})
	if _, err := Compile(broken); !errors.Is(err, graph.ErrGraph) || !containsAll(err.Error(), "dangling") {
		t.Errorf("dangling input: err %v", err)
	}
	// A conv whose weight no longer matches its declared shape.
	wrong := graph.New("wrong", "x", 2, 3, 3)
	conv := &graph.Conv2D{InC: 2, OutC: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: graph.NewTensor(2, 2, 1, 1)}
	if _, err := wrong.Add("pw", conv, wrong.Input); err != nil {
		t.Fatal(err)
	}
	conv.Weight = graph.NewTensor(3, 2, 1, 1)
	if _, err := Compile(wrong); !errors.Is(err, graph.ErrShape) || !containsAll(err.Error(), "pw") {
		t.Errorf("bad weight: err %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := inst.RunContext(ctx, in, 1, out); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err %v", err)
	}
}

// TestNoNodes runs a graph whose output is its input (NCHW round trip).
func TestNoNodes(t *testing.T) {
	g := graph.New("empty", "x", 3, 2, 2)
	in := randSlice(rand.New(rand.NewPCG(1, 2)), 24)
	out := compileRun(t, g, in, 2)
	for i := range in {
		if in[i] != out[i] {
			t.Fatalf("identity graph changed the data")
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		found := false
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func BenchmarkInfer(b *testing.B) {
	for _, scale := range []float64{0.25, 1.0} {
		_, opt := buildNet(b, pplcnet.Default(scale))
		p, err := Compile(opt)
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 4} {
			b.Run(fmt.Sprintf("scale=%s/batch=%d", scaleName(scale), batch), func(b *testing.B) {
				inst := p.NewInstance()
				in := randSlice(rand.New(rand.NewPCG(1, 1)), batch*graph.Numel(p.InputShape()))
				out := make([]float32, batch*graph.Numel(p.OutputShape()))
				if err := inst.Run(in, batch, out); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := inst.Run(in, batch, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}

// scaleName prints 1 as "1.0" and 0.25 as "0.25".
func scaleName(s float64) string {
	if s == float64(int(s)) {
		return fmt.Sprintf("%.1f", s)
	}
	return fmt.Sprintf("%g", s)
}

func TestKernelsName(t *testing.T) {
	backends(t, func(t *testing.T) {
		p, err := Compile(graph.New("empty", "x", 1, 2, 2))
		if err != nil {
			t.Fatal(err)
		}
		if p.Kernels() != useISA.String() {
			t.Fatalf("Kernels() = %q, want %q", p.Kernels(), useISA)
		}
	})
	if bestISA.String() == "" || supported[0] != isaGo {
		t.Fatalf("supported = %v", supported)
	}
}
