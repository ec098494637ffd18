package fallback

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
)

// FuzzConvSIMDvsScalar compiles random convolutions (any groups, kernel,
// stride, padding, dilation, activation) with both kernel sets and wants
// the same outputs; it also checks them against the NCHW reference.
func FuzzConvSIMDvsScalar(f *testing.F) {
	f.Add(uint64(1), uint8(16), uint8(16), uint8(16), uint8(3), uint8(3), uint8(1), uint8(1), uint8(0x11), uint8(0), uint8(2))
	f.Add(uint64(2), uint8(3), uint8(16), uint8(1), uint8(3), uint8(3), uint8(2), uint8(2), uint8(0x11), uint8(0), uint8(2))
	f.Add(uint64(3), uint8(33), uint8(70), uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), uint8(0), uint8(0), uint8(1))
	f.Add(uint64(4), uint8(20), uint8(20), uint8(20), uint8(5), uint8(5), uint8(2), uint8(1), uint8(0x22), uint8(0x11), uint8(3))
	f.Fuzz(func(t *testing.T, seed uint64, inC, outC, groups, kh, kw, sh, sw, pad, dil, act uint8) {
		c := convCase{
			inC: int(inC%40) + 1, outC: int(outC%40) + 1, groups: int(groups%8) + 1,
			kh: int(kh%5) + 1, kw: int(kw%5) + 1, sh: int(sh%3) + 1, sw: int(sw%3) + 1,
			pt: int(pad & 3), pl: int(pad >> 2 & 3), pb: int(pad >> 4 & 3), pr: int(pad >> 6 & 3),
			dh: int(dil&1) + 1, dw: int(dil>>4&1) + 1, bias: seed&1 == 1,
		}
		if groups%3 == 0 { // depthwise
			c.outC, c.groups = c.inC, c.inC
		}
		if c.inC%c.groups != 0 || c.outC%c.groups != 0 {
			c.groups = 1
		}
		c.act = []graph.Activation{graph.NoAct, graph.ReLU, graph.HardSwish, graph.HardSigmoid(0.2, 0.5), graph.Sigmoid}[act%5]
		r := rand.New(rand.NewPCG(seed, 7))
		c.h, c.w = r.IntN(12)+1, r.IntN(12)+1
		conv := &graph.Conv2D{InC: c.inC, OutC: c.outC, KH: c.kh, KW: c.kw, StrideH: c.sh, StrideW: c.sw,
			PadT: c.pt, PadL: c.pl, PadB: c.pb, PadR: c.pr, DilH: c.dh, DilW: c.dw, Groups: c.groups, Act: c.act,
			Weight: randTensor(r, 1, c.outC, c.inC/c.groups, c.kh, c.kw)}
		if c.bias {
			conv.Bias = randTensor(r, 1, c.outC)
		}
		g := graph.New("fuzz", "x", c.inC, c.h, c.w)
		if _, err := g.Add("conv", conv, g.Input); err != nil {
			return // output would be empty: not a valid conv
		}
		batch := r.IntN(3) + 1
		in := randSlice(r, batch*c.inC*c.h*c.w)
		want, err := refRun(g, in, batch)
		if err != nil {
			t.Fatal(err)
		}
		// float32 sums drift from the float64 reference like sqrt(terms);
		// the error is relative to max|want| but at least to the O(1) size
		// of the terms (outputs that cancel to near zero would else fail).
		tol := 1e-5 * max(1, math.Sqrt(float64(c.inC/c.groups*c.kh*c.kw)/100))
		backends(t, func(t *testing.T) {
			got := compileRun(t, g, in, batch)
			if e := errAtLeastOne(got, want); e > tol {
				t.Fatalf("%v batch %d: rel err %g\ngot %v\nwant %v", c, batch, e, got, want)
			}
		})
	})
}

// errAtLeastOne is max|a-b| / max(max|b|, 1).
func errAtLeastOne(a, b []float32) float64 {
	var d, m float64 = 0, 1
	for i := range b {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = max(m, math.Abs(float64(b[i])))
		if math.IsNaN(float64(a[i])) {
			return math.Inf(1)
		}
	}
	return d / m
}
