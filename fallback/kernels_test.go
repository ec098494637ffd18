package fallback

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
)

// runOne compiles a one-node graph (op on an input of the given shape) and
// runs it on in.
func runOne(t *testing.T, op graph.Op, shape []int, in []float32, batch int) (got, want []float32) {
	t.Helper()
	g := graph.New("one", "x", shape...)
	if _, err := g.Add("node", op, g.Input); err != nil {
		t.Fatal(err)
	}
	return runGraph(t, g, in, batch)
}

// runGraph runs g through Compile and through the reference interpreter.
func runGraph(t *testing.T, g *graph.Graph, in []float32, batch int) (got, want []float32) {
	t.Helper()
	p, err := Compile(g)
	if err != nil {
		t.Fatal(err)
	}
	got = make([]float32, batch*graph.Numel(p.OutputShape()))
	if err := p.NewInstance().Run(in, batch, got); err != nil {
		t.Fatal(err)
	}
	want, err = refRun(g, in, batch)
	if err != nil {
		t.Fatal(err)
	}
	return got, want
}

func closeTo(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestHandComputedConv(t *testing.T) {
	// 4×4 input 1..16, Sobel-x kernel, stride 2, pad 1: worked by hand.
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i + 1)
	}
	w, _ := graph.FromData([]float32{1, 0, -1, 2, 0, -2, 1, 0, -1}, 1, 1, 3, 3)
	conv := &graph.Conv2D{InC: 1, OutC: 1, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Groups: 1, Weight: w}
	got, _ := runOne(t, conv, []int{1, 4, 4}, x, 1)
	want := []float32{-10, -6, -40, -8}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sobel conv = %v, want %v", got, want)
		}
	}
	// The same conv as a 3-channel general conv: channel 1 and 2 zero weights.
	w3 := graph.NewTensor(1, 3, 3, 3)
	copy(w3.Data[9:18], w.Data)
	x3 := make([]float32, 48)
	copy(x3[16:32], x)
	conv3 := &graph.Conv2D{InC: 3, OutC: 1, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Groups: 1, Weight: w3, Bias: &graph.Tensor{Shape: []int{1}, Data: []float32{1}}}
	got, _ = runOne(t, conv3, []int{3, 4, 4}, x3, 1)
	for i := range want {
		if got[i] != want[i]+1 {
			t.Fatalf("3-channel sobel conv = %v, want %v + 1", got, want)
		}
	}
}

func TestHandComputedActivations(t *testing.T) {
	x := []float32{-4, -3, -1, 0, 1, 3, 4}
	cases := []struct {
		act  graph.Activation
		want []float32
	}{
		{graph.ReLU, []float32{0, 0, 0, 0, 1, 3, 4}},
		// x*clip(x/6+0.5, 0, 1)
		{graph.HardSwish, []float32{0, 0, -1.0 / 3, 0, 2.0 / 3, 3, 4}},
		// slope 1/6: clip(x/6+0.5)
		{graph.HardSigmoid(1.0/6, 0.5), []float32{0, 0, 1.0 / 3, 0.5, 2.0 / 3, 1, 1}},
		// slope 0.2 (legacy Paddle): clip(0.2x+0.5)
		{graph.HardSigmoid(0.2, 0.5), []float32{0, 0, 0.3, 0.5, 0.7, 1, 1}},
		{graph.Sigmoid, []float32{0.01798621, 0.04742587, 0.26894142, 0.5, 0.7310586, 0.95257413, 0.98201376}},
		{graph.NoAct, x},
	}
	for _, c := range cases {
		t.Run(c.act.String(), func(t *testing.T) {
			got, _ := runOne(t, &graph.Act{Act: c.act}, []int{7}, append([]float32(nil), x...), 1)
			for i := range got {
				if !closeTo(float64(got[i]), float64(c.want[i]), 1e-6) {
					t.Fatalf("%v = %v, want %v", c.act, got, c.want)
				}
			}
		})
	}
}

func TestHandComputedSoftmax(t *testing.T) {
	// [0, ln 2] → [1/3, 2/3]; [1000, 1000.5] overflows exp unless the
	// maximum is subtracted first.
	got, _ := runOne(t, &graph.Softmax{}, []int{2}, []float32{0, float32(math.Ln2), 1000, 1000.5}, 2)
	e := math.Exp(0.5)
	want := []float32{1.0 / 3, 2.0 / 3, float32(1 / (1 + e)), float32(e / (1 + e))}
	for i := range want {
		if !closeTo(float64(got[i]), float64(want[i]), 1e-6) {
			t.Fatalf("softmax = %v, want %v", got, want)
		}
	}
}

func TestHandComputedPoolBNMul(t *testing.T) {
	// Two channels of 2×2: pool gives the means, BN (x-1)/sqrt(3+1)*2+1,
	// Mul by a per-channel gate.
	x := []float32{1, 2, 3, 6, 10, 20, 30, 40}
	got, _ := runOne(t, &graph.GlobalAvgPool{}, []int{2, 2, 2}, x, 1)
	if got[0] != 3 || got[1] != 25 {
		t.Fatalf("pool = %v, want [3 25]", got)
	}
	one := func(v ...float32) *graph.Tensor { return &graph.Tensor{Shape: []int{len(v)}, Data: v} }
	bn := &graph.BatchNorm{Scale: one(2, 2), Shift: one(1, 1), Mean: one(1, 1), Var: one(3, 3), Eps: 1}
	got, _ = runOne(t, bn, []int{2, 2, 2}, x, 1)
	want := []float32{1, 2, 3, 6, 10, 20, 30, 40}
	for i := range want {
		want[i] = want[i] - 1 + 1 // (x-1)/2*2 + 1
	}
	for i := range want {
		if !closeTo(float64(got[i]), float64(want[i]), 1e-6) {
			t.Fatalf("bn = %v, want %v", got, want)
		}
	}
	g := graph.New("mul", "x", 2, 2, 2)
	pool, _ := g.Add("pool", &graph.GlobalAvgPool{}, g.Input)
	if _, err := g.Add("mul", &graph.Mul{}, g.Input, pool); err != nil {
		t.Fatal(err)
	}
	got, _ = runGraph(t, g, x, 1)
	want = []float32{3, 6, 9, 18, 250, 500, 750, 1000}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("x*pool(x) = %v, want %v", got, want)
		}
	}
}

// convCase is a convolution shape for the cross-check table.
type convCase struct {
	inC, outC, groups int
	h, w              int
	kh, kw            int
	sh, sw            int
	pt, pl, pb, pr    int
	dh, dw            int
	bias              bool
	act               graph.Activation
}

func (c convCase) String() string {
	return fmt.Sprintf("c%d-%d_g%d_%dx%d_k%dx%d_s%dx%d_p%d%d%d%d_d%dx%d", c.inC, c.outC, c.groups, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.pt, c.pl, c.pb, c.pr, c.dh, c.dw)
}

func convCases() []convCase {
	var cs []convCase
	hs := graph.HardSwish
	// Depthwise: channels × kernels × strides, symmetric and asymmetric pads.
	for _, c := range []int{1, 3, 7, 15, 16, 17, 33} {
		for _, k := range []int{3, 5} {
			for _, s := range [][2]int{{1, 1}, {2, 2}, {2, 1}} {
				p := k / 2
				cs = append(cs, convCase{inC: c, outC: c, groups: c, h: 9, w: 11, kh: k, kw: k, sh: s[0], sw: s[1], pt: p, pl: p, pb: p, pr: p, bias: c%2 == 1, act: hs})
			}
		}
		cs = append(cs, convCase{inC: c, outC: c, groups: c, h: 8, w: 7, kh: 3, kw: 3, sh: 2, sw: 1, pt: 0, pl: 1, pb: 2, pr: 0, act: graph.ReLU})
	}
	// Pointwise: channels in × out, with and without bias; 15 and 25
	// pixels per sample (GEMM row tails).
	for _, ci := range []int{1, 3, 7, 15, 16, 17, 33} {
		for _, co := range []int{1, 3, 7, 16, 17, 33, 48, 65} {
			cs = append(cs, convCase{inC: ci, outC: co, groups: 1, h: 5, w: 3 + 2*(co%2), kh: 1, kw: 1, sh: 1, sw: 1, bias: co%2 == 1, act: hs})
		}
	}
	for _, a := range []graph.Activation{graph.NoAct, graph.ReLU, graph.HardSigmoid(0.2, 0.5), graph.Sigmoid} {
		cs = append(cs,
			convCase{inC: 9, outC: 40, groups: 1, h: 4, w: 4, kh: 1, kw: 1, sh: 1, sw: 1, bias: true, act: a},
			convCase{inC: 20, outC: 20, groups: 20, h: 6, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1, bias: true, act: a})
	}
	// General: stem, strided and padded 1×1, groups, dilation, odd kernels.
	cs = append(cs,
		convCase{inC: 3, outC: 16, groups: 1, h: 17, w: 15, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1, act: hs},
		convCase{inC: 3, outC: 8, groups: 1, h: 10, w: 12, kh: 3, kw: 3, sh: 2, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1, act: hs},
		convCase{inC: 7, outC: 15, groups: 1, h: 6, w: 7, kh: 1, kw: 1, sh: 2, sw: 2, bias: true},
		convCase{inC: 4, outC: 6, groups: 1, h: 6, w: 7, kh: 1, kw: 1, sh: 1, sw: 1, pt: 1, pl: 0, pb: 0, pr: 2},
		convCase{inC: 6, outC: 9, groups: 3, h: 7, w: 8, kh: 3, kw: 3, sh: 1, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1, bias: true, act: graph.ReLU},
		convCase{inC: 4, outC: 8, groups: 4, h: 7, w: 8, kh: 3, kw: 5, sh: 1, sw: 1, pt: 1, pl: 2, pb: 1, pr: 2, act: hs},
		convCase{inC: 5, outC: 7, groups: 1, h: 11, w: 9, kh: 3, kw: 3, sh: 1, sw: 1, pt: 2, pl: 2, pb: 2, pr: 2, dh: 2, dw: 2},
		convCase{inC: 16, outC: 16, groups: 16, h: 11, w: 9, kh: 3, kw: 3, sh: 1, sw: 1, pt: 2, pl: 3, pb: 2, pr: 3, dh: 2, dw: 3, bias: true},
		convCase{inC: 17, outC: 17, groups: 17, h: 3, w: 2, kh: 5, kw: 5, sh: 2, sw: 1, pt: 2, pl: 2, pb: 2, pr: 2},
		convCase{inC: 2, outC: 3, groups: 1, h: 5, w: 5, kh: 5, kw: 5, sh: 3, sw: 3, pt: 0, pl: 0, pb: 0, pr: 0, act: graph.Sigmoid},
		// Padding wider than the kernel: whole output rows and columns see
		// only padding (bias and activation only).
		convCase{inC: 3, outC: 5, groups: 1, h: 2, w: 3, kh: 3, kw: 3, sh: 1, sw: 1, pt: 3, pl: 3, pb: 3, pr: 4, bias: true, act: hs},
		convCase{inC: 18, outC: 18, groups: 18, h: 2, w: 3, kh: 3, kw: 3, sh: 1, sw: 2, pt: 3, pl: 3, pb: 3, pr: 4, bias: true, act: hs},
		convCase{inC: 3, outC: 33, groups: 1, h: 9, w: 9, kh: 3, kw: 5, sh: 2, sw: 1, pt: 1, pl: 0, pb: 2, pr: 3, bias: true, act: hs},
	)
	return cs
}

// backends runs f once per kernel set this build and CPU have: the pure-Go
// kernels and the AVX2 and AVX-512 assembly where available. It sets
// useISA, so tests using it must not run in parallel.
func backends(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, s := range supported {
		t.Run(s.String(), func(t *testing.T) {
			old := useISA
			useISA = s
			defer func() { useISA = old }()
			f(t)
		})
	}
}

func TestConvAgainstReference(t *testing.T) { backends(t, testConvAgainstReference) }

func testConvAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range convCases() {
		conv := &graph.Conv2D{InC: c.inC, OutC: c.outC, KH: c.kh, KW: c.kw, StrideH: c.sh, StrideW: c.sw,
			PadT: c.pt, PadL: c.pl, PadB: c.pb, PadR: c.pr, DilH: c.dh, DilW: c.dw, Groups: c.groups, Act: c.act,
			Weight: randTensor(r, 1, c.outC, c.inC/c.groups, c.kh, c.kw)}
		if c.bias {
			conv.Bias = randTensor(r, 1, c.outC)
		}
		for _, batch := range []int{1, 4} {
			t.Run(fmt.Sprintf("%v/batch=%d", c, batch), func(t *testing.T) {
				in := randSlice(r, batch*c.inC*c.h*c.w)
				got, want := runOne(t, conv, []int{c.inC, c.h, c.w}, in, batch)
				if e := maxRelErr(got, want); e > 1e-5 {
					t.Fatalf("rel err %g", e)
				}
			})
		}
	}
}

func TestOpsAgainstReference(t *testing.T) { backends(t, testOpsAgainstReference) }

func testOpsAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pos := func(n int) *graph.Tensor {
		t := randTensor(r, 1, n)
		for i := range t.Data {
			t.Data[i] = float32(math.Abs(float64(t.Data[i]))) + 0.1
		}
		return t
	}
	type opCase struct {
		name  string
		op    graph.Op
		shape []int
	}
	var cases []opCase
	for _, c := range []int{1, 3, 7, 15, 16, 17, 33} {
		sh := []int{c, 5, 3}
		cases = append(cases,
			opCase{"bn", &graph.BatchNorm{Scale: randTensor(r, 1, c), Shift: randTensor(r, 1, c), Mean: randTensor(r, 1, c), Var: pos(c), Eps: 1e-5}, sh},
			opCase{"bn_flat", &graph.BatchNorm{Scale: randTensor(r, 1, c), Shift: randTensor(r, 1, c), Mean: randTensor(r, 1, c), Var: pos(c), Eps: 1e-5}, []int{c}},
			opCase{"bias", &graph.BiasAdd{Bias: randTensor(r, 1, c)}, sh},
			opCase{"scale", &graph.Scale{Factor: 0.8}, sh},
			opCase{"identity", &graph.Identity{}, sh},
			opCase{"hardswish", &graph.Act{Act: graph.HardSwish}, sh},
			opCase{"hardsigmoid", &graph.Act{Act: graph.HardSigmoid(0.2, 0.5)}, sh},
			opCase{"pool", &graph.GlobalAvgPool{}, sh},
			opCase{"flatten", &graph.Reshape{Shape: []int{-1}}, sh},
			opCase{"reshape", &graph.Reshape{Shape: []int{3, c, 5}}, sh},
			opCase{"reshape_flat_to_chw", &graph.Reshape{Shape: []int{c, 1, 15}}, []int{15 * c}},
			opCase{"fc", &graph.FC{In: c, Out: 33, Weight: randTensor(r, 1, 33, c), Bias: randTensor(r, 1, 33), Act: graph.HardSwish}, []int{c}},
			opCase{"fc_chw", &graph.FC{In: c, Out: 7, Weight: randTensor(r, 1, 7, c)}, []int{c, 1, 1}},
			opCase{"fc_to_1", &graph.FC{In: c, Out: 1, Weight: randTensor(r, 1, 1, c), Bias: randTensor(r, 1, 1)}, []int{c}},
			opCase{"softmax", &graph.Softmax{}, []int{c}},
			opCase{"se", &graph.SE{C: c, Reduce: max(1, c/4), W1: randTensor(r, 1, max(1, c/4), c), B1: randTensor(r, 1, max(1, c/4)),
				W2: randTensor(r, 1, c, max(1, c/4)), B2: randTensor(r, 1, c), Act: graph.ReLU, Gate: graph.HardSigmoid(1.0/6, 0.5)}, sh},
			opCase{"se_nobias", &graph.SE{C: c, Reduce: 2, W1: randTensor(r, 1, 2, c), W2: randTensor(r, 1, c, 2), Act: graph.HardSwish, Gate: graph.Sigmoid}, sh},
		)
	}
	for _, c := range cases {
		for _, batch := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/%v/batch=%d", c.name, c.shape, batch), func(t *testing.T) {
				in := randSlice(r, batch*graph.Numel(c.shape))
				got, want := runOne(t, c.op, c.shape, in, batch)
				if e := maxRelErr(got, want); e > 1e-5 {
					t.Fatalf("rel err %g\ngot  %v\nwant %v", e, got, want)
				}
			})
		}
	}
}

// TestMulBroadcastShapes covers Mul with [C], [C,1,1] and same-shape second
// inputs, on a graph whose second input is computed from the first.
func TestMulBroadcastShapes(t *testing.T) { backends(t, testMulBroadcastShapes) }

func testMulBroadcastShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []int{1, 3, 17} {
		for _, kind := range []string{"c11", "c", "same"} {
			g := graph.New("mul", "x", c, 4, 3)
			var v int
			switch kind {
			case "c11":
				v, _ = g.Add("pool", &graph.GlobalAvgPool{}, g.Input)
			case "c":
				p, _ := g.Add("pool", &graph.GlobalAvgPool{}, g.Input)
				v, _ = g.Add("flat", &graph.Reshape{Shape: []int{-1}}, p)
			case "same":
				v, _ = g.Add("act", &graph.Act{Act: graph.HardSwish}, g.Input)
			}
			if _, err := g.Add("mul", &graph.Mul{}, g.Input, v); err != nil {
				t.Fatal(err)
			}
			for _, batch := range []int{1, 4} {
				in := randSlice(r, batch*c*12)
				got, want := runGraph(t, g, in, batch)
				if e := maxRelErr(got, want); e > 1e-5 {
					t.Fatalf("c=%d %s batch %d: rel err %g", c, kind, batch, e)
				}
			}
		}
	}
}

// TestGEMMShapes checks gemm on a grid of sizes around the tile edges
// (12-row, 16- and 32-column tiles) against a float64 product.
func TestGEMMShapes(t *testing.T) { backends(t, testGEMMShapes) }

func testGEMMShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	for _, m := range []int{1, 2, 11, 12, 13, 25, 40} {
		for _, n := range []int{1, 5, 15, 16, 17, 31, 32, 33, 47, 64, 70} {
			for _, k := range []int{1, 2, 3, 16, 27, 64} {
				a, w, bias := randSlice(r, m*k), randSlice(r, n*k), randSlice(r, n)
				b := packB(w, n, k, bias, useISA)
				c := make([]float32, m*n+5)
				for i := range c {
					c[i] = 1234 // sentinel past the end
				}
				gemm(m, a, b, c[:m*n], graph.HardSwish)
				want := make([]float32, m*n)
				for i := range m {
					for j := range n {
						s := float64(bias[j])
						for p := range k {
							s += float64(a[i*k+p]) * float64(w[j*k+p])
						}
						want[i*n+j] = graph.HardSwish.Apply(float32(s))
					}
				}
				if e := maxRelErr(c[:m*n], want); e > 1e-5 {
					t.Fatalf("m=%d n=%d k=%d: rel err %g", m, n, k, e)
				}
				for _, v := range c[m*n:] {
					if v != 1234 {
						t.Fatalf("m=%d n=%d k=%d: wrote past C", m, n, k)
					}
				}
			}
		}
	}
}
