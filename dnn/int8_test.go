//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// int8Chain is a small PP-LCNet-like chain: dw 3x3 + hardswish, pw + hardswish,
// dw stride 2 + relu, pw without activation.
func int8Chain(r *rand.Rand) *Net {
	rnd := func(n int, s float32) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = (r.Float32()*2 - 1) * s
		}
		return w
	}
	c := 32
	return &Net{InC: c, InH: 14, InW: 14, Layers: []Layer{
		{Kind: LayerConv, Name: "dw1", OutC: c, KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: c,
			Weight: rnd(c*9, 0.5), Bias: rnd(c, 0.2), Act: Act{Kind: ActHardSwish}},
		{Kind: LayerConv, Name: "pw1", OutC: 64, KH: 1, KW: 1, Weight: rnd(64*c, 0.3), Bias: rnd(64, 0.2), Act: Act{Kind: ActHardSwish}},
		{Kind: LayerConv, Name: "dw2", OutC: 64, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 64,
			Weight: rnd(64*9, 0.5), Bias: rnd(64, 0.2), Act: Act{Kind: ActReLU}},
		{Kind: LayerConv, Name: "pw2", OutC: 48, KH: 1, KW: 1, Weight: rnd(48*64, 0.2), Bias: rnd(48, 0.1)},
	}}
}

func runFP32(t *testing.T, net *Net, in []float32) []float32 {
	t.Helper()
	p, inst := compileInstance(t, net, Options{})
	s := p.OutputShape()
	out := make([]float32, s[0]*s[1]*s[2]*(len(in)/(net.InC*net.InH*net.InW)))
	if err := inst.Run(in, len(in)/(net.InC*net.InH*net.InW), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// calibrate sets q's output scales to 127 / max |x| of every layer's fp32
// output on in (prefixes of the chain run in fp32) and returns the whole
// chain's fp32 output.
func calibrate(t *testing.T, q *Int8Net, in []float32) []float32 {
	t.Helper()
	var ref []float32
	q.OutScales = q.OutScales[:0]
	for k := 1; k <= len(q.Layers); k++ {
		ref = runFP32(t, &Net{InC: q.InC, InH: q.InH, InW: q.InW, Layers: q.Layers[:k]}, in)
		q.OutScales = append(q.OutScales, 127/maxAbs(ref))
	}
	return ref
}

// runInt8 compiles q (options opt), runs in (batch images) once and
// returns the output and the layers' implementation names.
func runInt8(t *testing.T, q *Int8Net, opt Options, in []float32, batch int) ([]float32, []string) {
	t.Helper()
	p, inst := compileInt8Instance(t, q, opt)
	s := p.OutputShape()
	out := make([]float32, batch*s[0]*s[1]*s[2])
	if err := inst.Run(in, batch, out); err != nil {
		t.Fatal(err)
	}
	return out, p.LayerImpls()
}

func maxAbs(x []float32) float32 {
	var m float32
	for _, v := range x {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

// int8Head extends int8Chain with what the int8 segment of PP-LCNet also
// covers: squeeze-excite, the global pool, the head 1x1 conv and the FC.
func int8Head(r *rand.Rand) *Net {
	net := int8Chain(r)
	rnd := func(n int, s float32) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = (r.Float32()*2 - 1) * s
		}
		return w
	}
	net.Layers = append(net.Layers,
		Layer{Kind: LayerSE, Name: "se", InC: 48, SEReduce: 12, W1: rnd(12*48, 0.3), B1: rnd(12, 0.1),
			W2: rnd(48*12, 0.3), B2: rnd(48, 0.1), Gate: Act{Kind: ActHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5}},
		Layer{Kind: LayerConv, Name: "pw3", OutC: 64, KH: 1, KW: 1, Weight: rnd(64*48, 0.2), Bias: rnd(64, 0.1), Act: Act{Kind: ActHardSwish}},
		Layer{Kind: LayerGlobalAvgPool, Name: "gap"},
		Layer{Kind: LayerConv, Name: "head", OutC: 96, KH: 1, KW: 1, Weight: rnd(96*64, 0.2), Act: Act{Kind: ActHardSwish}},
		Layer{Kind: LayerFC, Name: "fc", InC: 96, OutC: 10, Weight: rnd(10*96, 0.2), Bias: rnd(10, 0.1)},
	)
	return net
}

func TestInt8MatchesFP32(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	t.Run("convs", func(t *testing.T) { testInt8Net(t, int8Chain(rand.New(rand.NewPCG(1, 2))), nil, 0.05) })
	t.Run("se-head", func(t *testing.T) { testInt8Net(t, int8Head(rand.New(rand.NewPCG(1, 2))), nil, 0.05) })
}

// TestInt8MixedMatchesFP32 runs chains where some convolutions stay fp32
// inside the int8 chain (s8 <-> f32 conversions in NHWC), a softmax ends
// it, and an fp32 layer has an activation int8 does not take.
func TestInt8MixedMatchesFP32(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	head := func() *Net { return int8Head(rand.New(rand.NewPCG(1, 2))) }
	for _, tc := range []struct {
		name  string
		net   func() *Net
		fp32  []string
		limit float64 // max |int8 - fp32| as a fraction of the output range
	}{
		{"first-fp32", head, []string{"dw1"}, 0.05},
		{"middle-fp32", head, []string{"pw1", "dw2"}, 0.05},
		{"se-input-fp32", head, []string{"pw2"}, 0.05},
		{"tail-fp32", head, []string{"pw3", "head", "fc"}, 0.05},
		{"alternating", head, []string{"dw1", "dw2", "pw3", "fc"}, 0.05},
		{"softmax", func() *Net {
			n := head()
			n.Layers = append(n.Layers, Layer{Kind: LayerSoftmax, Name: "softmax"})
			return n
		}, []string{"head"}, 0.05},
		{"hardsigmoid-fp32", func() *Net {
			n := int8Chain(rand.New(rand.NewPCG(1, 2)))
			n.Layers[1].Act = Act{Kind: ActHardSigmoid, Alpha: 0.2, Beta: 0.5}
			return n
		}, []string{"pw1"}, 0.05},
		// every conv fp32: no quantization at all, so fp32 accuracy
		{"all-fp32", head, []string{"dw1", "pw1", "dw2", "pw2", "pw3", "head", "fc"}, 1e-5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := tc.net()
			fp := make([]bool, len(net.Layers))
			for _, name := range tc.fp32 {
				found := false
				for i, l := range net.Layers {
					if l.Name == name {
						fp[i], found = true, true
					}
				}
				if !found {
					t.Fatalf("no layer %q", name)
				}
			}
			testInt8Net(t, net, fp, tc.limit)
		})
	}
}

func testInt8Net(t *testing.T, net *Net, fp32 []bool, limit float64) {
	r := rand.New(rand.NewPCG(3, 4))
	const batch = 2
	in := make([]float32, batch*net.InC*net.InH*net.InW)
	for i := range in {
		in[i] = r.Float32()*4 - 2
	}
	// calibrate: max |x| of every layer's output (prefix chains in fp32)
	q := &Int8Net{InC: net.InC, InH: net.InH, InW: net.InW, InScale: 127 / maxAbs(in), Layers: net.Layers, FP32: fp32}
	ref := calibrate(t, q, in)
	p, err := CompileInt8(q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Logf("impls: %v", p.LayerImpls())
	inst, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	for _, b := range []int{batch, 1, batch} {
		out := make([]float32, b*len(ref)/batch)
		if err := inst.Run(in[:b*len(in)/batch], b, out); err != nil {
			t.Fatal(err)
		}
		// error budget: a few quantization steps of the output range
		rng := maxAbs(ref)
		var worst float64
		for i, v := range out {
			worst = max(worst, math.Abs(float64(v-ref[i])))
		}
		t.Logf("batch %d: max |int8 - fp32| = %.4g (output range %.3f, %.3g%%)", b, worst, rng, 100*worst/float64(rng))
		if worst > limit*float64(rng) {
			t.Errorf("batch %d: max error %.4g over %g of the output range %.3f", b, worst, limit, rng)
		}
	}
	in1 := in[:len(in)/batch]
	out1 := make([]float32, len(ref)/batch)
	if a := testing.AllocsPerRun(50, func() {
		if err := inst.Run(in1, 1, out1); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%v allocs per Run, want 0", a)
	}
}

func TestInt8Invalid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	net := int8Chain(r)
	q := &Int8Net{InC: net.InC, InH: net.InH, InW: net.InW, InScale: 1, Layers: net.Layers, OutScales: []float32{1, 1, 1}}
	if _, err := CompileInt8(q, Options{}); err == nil {
		t.Error("wrong number of scales accepted")
	}
	q.OutScales = []float32{1, 1, 1, 1}
	layers := q.Layers
	q.Layers = append([]Layer{{Kind: LayerScale, Factor: 2}}, layers[1:]...)
	if _, err := CompileInt8(q, Options{}); err == nil {
		t.Error("scale layer accepted")
	}
	q.Layers = layers
	q.FP32 = []bool{true}
	if _, err := CompileInt8(q, Options{}); err == nil {
		t.Error("1 FP32 flag for 4 layers accepted")
	}
	q.Layers[1].Act = Act{Kind: ActHardSigmoid, Alpha: 0.2, Beta: 0.5}
	q.FP32 = nil
	if _, err := CompileInt8(q, Options{}); err == nil {
		t.Error("int8 layer with hardsigmoid accepted")
	}
	q.FP32 = []bool{false, true, false, false}
	if _, err := CompileInt8(q, Options{}); err != nil {
		t.Errorf("fp32 layer with hardsigmoid: %v", err)
	}
}

// TestQuantizeInput checks the chain's input quantizer (AVX2 and scalar
// paths, 3 channels and others, ties, saturation, NaN, odd sizes) against
// math.RoundToEven.
func TestQuantizeInput(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct{ n, c, hw, threads int }{
		{1, 3, 224 * 224, 1}, {2, 3, 37, 1}, {1, 3, 7, 1}, {3, 3, 1031, 2}, {1, 1, 100, 1}, {2, 16, 49, 1}, {1, 5, 600, 2},
	} {
		const s = 20
		src := make([]float32, tc.n*tc.c*tc.hw)
		for i := range src {
			switch i % 11 {
			case 0: // exact ties: k + 0.5 quantized units
				src[i] = (float32(r.IntN(40)-20) + 0.5) / s
			case 1:
				src[i] = float32(r.NormFloat64()) * 1e3 // saturates
			default:
				src[i] = (r.Float32()*2 - 1) * 7
			}
		}
		src[len(src)-1] = float32(math.NaN())
		got := quantizeNCHW(src, tc.n, tc.c, tc.hw, s, tc.threads)
		bad := 0
		for b := 0; b < tc.n; b++ {
			for ch := 0; ch < tc.c; ch++ {
				for i := 0; i < tc.hw; i++ {
					x := src[(b*tc.c+ch)*tc.hw+i]
					want := int8(-128)
					if !math.IsNaN(float64(x)) {
						v := math.RoundToEven(float64(x * s))
						want = int8(max(-128, min(127, v)))
					}
					if g := got[(b*tc.hw+i)*tc.c+ch]; g != want {
						if bad < 5 {
							t.Errorf("n=%d c=%d hw=%d: [%d,%d,%d] x*s=%v got %d want %d", tc.n, tc.c, tc.hw, b, ch, i, x*s, g, want)
						}
						bad++
					}
				}
			}
		}
	}
}

// TestInt8ChoicesRepeat compiles one int8 chain twice: the timed kernel
// choices (oneDNN implementations, lcn_dw8 or not) are remembered per
// process, so both plans use the same kernels and give the same bits.
// int8HeadFixed is int8Head with fixed scales (inputs in [-2, 2], every
// output scaled as if within ±1.5) and one input in that range.
func int8HeadFixed() (*Net, *Int8Net, []float32) {
	net := int8Head(rand.New(rand.NewPCG(1, 2)))
	q := &Int8Net{InC: net.InC, InH: net.InH, InW: net.InW, InScale: 127 / 2.0, Layers: net.Layers}
	for range net.Layers {
		q.OutScales = append(q.OutScales, 127/1.5)
	}
	r := rand.New(rand.NewPCG(3, 4))
	in := make([]float32, net.InC*net.InH*net.InW)
	for i := range in {
		in[i] = r.Float32()*4 - 2
	}
	return net, q, in
}

func TestInt8ChoicesRepeat(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	_, q, in := int8HeadFixed()
	checkRepeat(t, func() ([]string, []float32) {
		out, impls := runInt8(t, q, Options{}, in, 1)
		return impls, out
	})
}

// TestInt8Threads runs one int8 chain on a 1-thread instance (run on the
// caller's thread) and a 2-thread one (run by the OS-locked worker), from
// several goroutines: both agree within a quantization step or two.
func TestInt8Threads(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	_, q, in := int8HeadFixed()
	var outs [2][]float32
	for k, thr := range []int{1, 2} {
		p, err := CompileInt8(q, Options{Threads: thr})
		if err != nil {
			t.Fatal(err)
		}
		inst, err := p.NewInstance()
		if err != nil {
			t.Fatal(err)
		}
		outs[k] = make([]float32, 10)
		if err := inst.Run(in, 1, outs[k]); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 4)
		for range 4 { // calls from several goroutines: the same bits
			go func() {
				out := make([]float32, 10)
				err := inst.Run(in, 1, out)
				if err == nil && !slices.Equal(out, outs[k]) {
					err = fmt.Errorf("threads=%d: %v, then %v", thr, outs[k], out)
				}
				done <- err
			}()
		}
		for range 4 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
		inst.Close()
		p.Close()
	}
	rng := maxAbs(outs[0])
	for i := range outs[0] {
		if d := math.Abs(float64(outs[0][i] - outs[1][i])); d > 0.02*float64(rng) {
			t.Errorf("out[%d]: 1 thread %v, 2 threads %v", i, outs[0][i], outs[1][i])
		}
	}
}
