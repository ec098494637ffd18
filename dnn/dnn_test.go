//go:build cgo && !purego

package dnn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const tol = 1e-4 // max|got-want| relative to max|want|

// runNet compiles net, runs it at each batch size on one instance and
// compares with the reference.
func checkNet(t *testing.T, net *Net, threads int, batches ...int) {
	t.Helper()
	p, err := Compile(net, Options{Threads: threads})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	defer p.Close()
	inst, err := p.NewInstance()
	if err != nil {
		t.Fatalf("NewInstance: %v", err)
	}
	defer inst.Close()
	r := rand.New(rand.NewPCG(7, 8))
	for _, batch := range batches {
		in := randSlice(r, batch*net.InC*net.InH*net.InW, 1)
		want, sh := refForward(net, in, batch)
		if got := p.OutputShape(); !slices.Equal(got, []int{sh.c, sh.h, sh.w}) {
			t.Fatalf("OutputShape = %v, want %v", got, []int{sh.c, sh.h, sh.w})
		}
		out := make([]float32, len(want))
		keep := slices.Clone(in)
		for rep := 0; rep < 2; rep++ { // second run: cached primitives
			if err := inst.Run(in, batch, out); err != nil {
				t.Fatalf("batch %d: Run: %v", batch, err)
			}
			if !slices.Equal(in, keep) { // the steps may read it in place, never write it
				t.Fatalf("batch %d run %d: Run modified its input (impls %q)", batch, rep, p.LayerImpls())
			}
			if d := maxRelDiff(out, want); d > tol || d != d {
				t.Fatalf("batch %d run %d: max rel diff %.3g > %g (impls %q)", batch, rep, d, tol, p.LayerImpls())
			}
		}
	}
}

// compiledImpls compiles net with default options and returns its layers'
// implementation names.
func compiledImpls(t *testing.T, net *Net) []string {
	t.Helper()
	p, err := Compile(net, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	return p.LayerImpls()
}

// ownKernel reports whether the engine's own fp32 kernel name runs on this
// CPU: where it does not, forcing it on leaves its layers to oneDNN.
func ownKernel(name string) bool { return KernelISA(name) != "" }

// dwFusionISA reports whether oneDNN fuses a depthwise conv into the 1x1
// before it on this CPU (its fused 1x1 kernels are AVX-512 ones; on AVX2
// it has none for these shapes and the pair stays two primitives).
func dwFusionISA() bool { return strings.HasPrefix(ISA(), "avx512") }

// kernelCase is a network and the layers one of the engine's own kernels
// takes in it when forced on (checkKernelModes).
type kernelCase struct {
	name string
	net  *Net
	at   []int // layers the kernel takes when forced on
}

// checkKernelModes runs each case with the kernel forced on, off and left
// to timing (set: its test switch) against the reference, at 1 and 2
// threads and batches 1 and 3; forced on or off, the layers whose
// implementation starts with impl must be exactly tc.at, or none.
func checkKernelModes(t *testing.T, cases []kernelCase, set func(int), impl string) {
	t.Helper()
	for _, mode := range []int{1, 0, -1} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("mode=%d/%s", mode, tc.name), func(t *testing.T) {
				set(mode)
				checkNet(t, tc.net, 1, 1, 3)
				checkNet(t, tc.net, 2, 1, 3)
				if mode == -1 {
					return
				}
				for i, s := range compiledImpls(t, tc.net) {
					want := mode == 1 && ownKernel(impl) && slices.Contains(tc.at, i)
					if got := strings.HasPrefix(s, impl); got != want {
						t.Errorf("layer %d impl %q, want %s %v", i, s, impl, want)
					}
				}
			})
		}
	}
}

// checkPPLCNets runs checkNet on PP-LCNet at each scale (synthetic weights,
// an inH x inW input, classes outputs) at 1 and 2 threads.
func checkPPLCNets(t *testing.T, inH, inW, classes int, scales ...float64) {
	t.Helper()
	for _, scale := range scales {
		net := ppLCNet(rand.New(rand.NewPCG(3, 4)), scale, inH, inW, classes)
		checkNet(t, net, 1, 1, 3)
		checkNet(t, net, 2, 1, 2)
	}
}

func TestLayers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p1 := [4]int{1, 1, 1, 1}
	gap := Layer{Kind: LayerGlobalAvgPool, Name: "gap"}
	cases := []struct {
		name string
		net  *Net
	}{
		{"conv/c1/k3s1/relu", &Net{InC: 1, InH: 5, InW: 5, Layers: []Layer{conv(r, "c", 1, 1, 3, 3, 1, 1, p1, 1, true, relu)}}},
		{"conv/c3-7/k3s2/hswish", &Net{InC: 3, InH: 9, InW: 11, Layers: []Layer{conv(r, "c", 3, 7, 3, 3, 2, 2, p1, 1, true, hswish)}}},
		{"conv/c7-15/k5s21/asympad/hsig6", &Net{InC: 7, InH: 10, InW: 9, Layers: []Layer{conv(r, "c", 7, 15, 5, 5, 2, 1, [4]int{2, 1, 0, 2}, 1, true, hsig6)}}},
		{"conv/c17-15/k1/nobias", &Net{InC: 17, InH: 6, InW: 7, Layers: []Layer{conv(r, "c", 17, 15, 1, 1, 1, 1, [4]int{}, 1, false, Act{})}}},
		{"conv/c3-7/k3x5/sigmoid", &Net{InC: 3, InH: 8, InW: 8, Layers: []Layer{conv(r, "c", 3, 7, 3, 5, 1, 2, [4]int{0, 2, 1, 1}, 1, true, Act{Kind: ActSigmoid})}}},
		{"conv/grouped/g3", &Net{InC: 15, InH: 7, InW: 6, Layers: []Layer{conv(r, "c", 15, 21, 3, 3, 1, 1, p1, 3, true, relu)}}},
		{"dw/c15/k5s1/hsig5/nobias", &Net{InC: 15, InH: 9, InW: 9, Layers: []Layer{conv(r, "dw", 15, 15, 5, 5, 1, 1, [4]int{2, 2, 2, 2}, 15, false, hsig5)}}},
		{"dw/c17/k3s2/asympad", &Net{InC: 17, InH: 11, InW: 10, Layers: []Layer{conv(r, "dw", 17, 17, 3, 3, 2, 2, [4]int{0, 1, 1, 0}, 17, true, hswish)}}},
		{"dw/c17/k3s21", &Net{InC: 17, InH: 12, InW: 9, Layers: []Layer{conv(r, "dw", 17, 17, 3, 3, 2, 1, p1, 17, true, hswish)}}},
		{"dw/c7/k5s2", &Net{InC: 7, InH: 13, InW: 14, Layers: []Layer{conv(r, "dw", 7, 7, 5, 5, 2, 2, [4]int{2, 2, 2, 2}, 7, true, relu)}}},
		{"se/c7r1/hsig6", &Net{InC: 7, InH: 6, InW: 5, Layers: []Layer{se(r, "se", 7, 1, hsig6, true)}}},
		{"se/c15r3/hsig5", &Net{InC: 15, InH: 4, InW: 7, Layers: []Layer{se(r, "se", 15, 3, hsig5, true)}}},
		{"se/c17r4/nobias/sigmoid", &Net{InC: 17, InH: 3, InW: 3, Layers: []Layer{se(r, "se", 17, 4, Act{Kind: ActSigmoid}, false)}}},
		{"se/after-dw", &Net{InC: 16, InH: 7, InW: 7, Layers: []Layer{conv(r, "dw", 16, 16, 5, 5, 1, 1, [4]int{2, 2, 2, 2}, 16, true, hswish), se(r, "se", 16, 4, hsig6, true), conv(r, "pw", 16, 24, 1, 1, 1, 1, [4]int{}, 1, true, hswish)}}},
		{"gap/c7", &Net{InC: 7, InH: 5, InW: 3, Layers: []Layer{gap}}},
		{"gap/after-conv", &Net{InC: 3, InH: 9, InW: 9, Layers: []Layer{conv(r, "c", 3, 17, 3, 3, 2, 2, p1, 1, true, hswish), gap}}},
		{"fc/flatten", &Net{InC: 3, InH: 4, InW: 5, Layers: []Layer{fc(r, "fc", 60, 17, true, relu)}}},
		{"fc/c17-7/nobias/hswish", &Net{InC: 17, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 17, 7, false, hswish)}}},
		{"fc/after-conv", &Net{InC: 3, InH: 6, InW: 6, Layers: []Layer{conv(r, "c", 3, 7, 3, 3, 2, 2, p1, 1, true, relu), fc(r, "fc", 7*3*3, 15, true, Act{})}}},
		{"softmax/c7", &Net{InC: 7, InH: 1, InW: 1, Layers: []Layer{{Kind: LayerSoftmax}}}},
		{"softmax/c5x3x2", &Net{InC: 5, InH: 3, InW: 2, Layers: []Layer{{Kind: LayerSoftmax}}}},
		{"scale/first", &Net{InC: 3, InH: 4, InW: 4, Layers: []Layer{{Kind: LayerScale, Factor: 0.8}}}},
		{"act/first/hsig6", &Net{InC: 3, InH: 4, InW: 4, Layers: []Layer{{Kind: LayerActivation, Act: hsig6}}}},
		{"act/after-gap/hswish+sigmoid", &Net{InC: 7, InH: 3, InW: 3, Layers: []Layer{gap, {Kind: LayerActivation, Act: hswish}, {Kind: LayerActivation, Act: Act{Kind: ActSigmoid}}}}},
		{"act/after-se/relu+scale", &Net{InC: 7, InH: 3, InW: 3, Layers: []Layer{se(r, "se", 7, 2, hsig5, true), {Kind: LayerActivation, Act: relu}, {Kind: LayerScale, Factor: -1.5}}}},
		{"fused/conv+act+scale", &Net{InC: 3, InH: 5, InW: 5, Layers: []Layer{conv(r, "c", 3, 7, 3, 3, 1, 1, p1, 1, true, Act{}), {Kind: LayerActivation, Act: hsig5}, {Kind: LayerScale, Factor: 0.8}}}},
		{"fused/fc+hsig+scale+softmax", &Net{InC: 15, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 15, 17, true, hswish), {Kind: LayerActivation, Act: hsig6}, {Kind: LayerScale, Factor: 0.8}, {Kind: LayerSoftmax}}}},
		{"fused/conv+scale+scale", &Net{InC: 3, InH: 5, InW: 5, Layers: []Layer{conv(r, "c", 3, 7, 3, 3, 1, 1, p1, 1, true, Act{}), {Kind: LayerScale, Factor: 0.8}, {Kind: LayerScale, Factor: 0.5}}}},
		{"fused/conv-hsig6+hsig5", &Net{InC: 3, InH: 5, InW: 5, Layers: []Layer{conv(r, "c", 3, 7, 3, 3, 1, 1, p1, 1, true, hsig6), {Kind: LayerActivation, Act: hsig5}, {Kind: LayerScale, Factor: 2}}}},
		{"fused/conv-relu+relu+sigmoid", &Net{InC: 3, InH: 5, InW: 5, Layers: []Layer{conv(r, "c", 3, 7, 3, 3, 1, 1, p1, 1, true, relu), {Kind: LayerActivation, Act: relu}, {Kind: LayerActivation, Act: Act{Kind: ActSigmoid}}}}},
		{"head", &Net{InC: 17, InH: 4, InW: 4, Layers: []Layer{gap, conv(r, "last", 17, 33, 1, 1, 1, 1, [4]int{}, 1, false, hswish), {Kind: LayerScale, Factor: 0.8}, fc(r, "fc", 33, 10, true, Act{}), {Kind: LayerSoftmax}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkNet(t, tc.net, 1, 1, 4) })
	}
	if n := LiveHandles(); n != 0 {
		t.Errorf("LiveHandles = %d after closing everything", n)
	}
}

// TestDWFusion checks the 1x1 conv + depthwise conv fusion, forced on and
// off, against the reference, and that the layer names report it.
func TestDWFusion(t *testing.T) {
	defer setDWFusion(-1)
	defer setDWPW(-1)
	defer setFC32(-1)
	setDWPW(0) // the depthwise convs here would otherwise be left to the block kernel
	setFC32(0) // and the 1x1 convs over these few pixels to lcn_fc32, before the fusion is tried
	r := rand.New(rand.NewPCG(3, 5))
	pad := func(k int) [4]int { p := k / 2; return [4]int{p, p, p, p} }
	pw := func(in, out int, act Act) Layer { return conv(r, "pw", in, out, 1, 1, 1, 1, [4]int{}, 1, true, act) }
	dw := func(c, k, s int, act Act) Layer { return conv(r, "dw", c, c, k, k, s, s, pad(k), c, true, act) }
	cases := []struct {
		name  string
		net   *Net
		fused map[int]int // depthwise layer -> the 1x1 layer it is fused into when forced on
	}{
		{"k3s1/hswish", &Net{InC: 16, InH: 9, InW: 11, Layers: []Layer{pw(16, 24, hswish), dw(24, 3, 1, hswish)}}, map[int]int{1: 0}},
		{"k3s2/hswish", &Net{InC: 8, InH: 12, InW: 9, Layers: []Layer{pw(8, 32, hswish), dw(32, 3, 2, hswish)}}, map[int]int{1: 0}},
		{"k5s1/noact", &Net{InC: 16, InH: 7, InW: 7, Layers: []Layer{pw(16, 16, Act{}), dw(16, 5, 1, Act{})}}, map[int]int{1: 0}},
		{"k5s2/relu-hswish", &Net{InC: 24, InH: 10, InW: 13, Layers: []Layer{pw(24, 16, relu), dw(16, 5, 2, hswish)}}, map[int]int{1: 0}},
		{"k3s1/c7/odd-channels", &Net{InC: 5, InH: 6, InW: 6, Layers: []Layer{pw(5, 7, hswish), dw(7, 3, 1, relu)}}, map[int]int{1: 0}},
		{"pw-scale/dw-act-scale", &Net{InC: 16, InH: 8, InW: 8, Layers: []Layer{pw(16, 16, hswish), {Kind: LayerScale, Factor: 0.5},
			dw(16, 3, 1, Act{}), {Kind: LayerActivation, Act: hsig6}, {Kind: LayerScale, Factor: 0.8}}}, map[int]int{2: 0}},
		{"chain+se", &Net{InC: 8, InH: 14, InW: 14, Layers: []Layer{pw(8, 16, hswish), dw(16, 3, 2, hswish), pw(16, 32, hswish),
			dw(32, 5, 1, hswish), se(r, "se", 32, 8, hsig6, true), pw(32, 16, hswish)}}, map[int]int{1: 0, 3: 2}},
		{"not/asympad", &Net{InC: 16, InH: 9, InW: 9, Layers: []Layer{pw(16, 16, hswish),
			conv(r, "dw", 16, 16, 3, 3, 2, 2, [4]int{0, 1, 1, 0}, 16, true, hswish)}}, nil},
		{"not/nobias", &Net{InC: 16, InH: 9, InW: 9, Layers: []Layer{pw(16, 16, hswish),
			conv(r, "dw", 16, 16, 3, 3, 1, 1, pad(3), 16, false, hswish)}}, nil},
		{"not/stride21", &Net{InC: 16, InH: 9, InW: 9, Layers: []Layer{pw(16, 16, hswish),
			conv(r, "dw", 16, 16, 3, 3, 2, 1, pad(3), 16, true, hswish)}}, nil},
		{"not/1x1-stride2", &Net{InC: 16, InH: 9, InW: 9, Layers: []Layer{conv(r, "pw", 16, 16, 1, 1, 2, 2, [4]int{}, 1, true, hswish),
			dw(16, 3, 1, hswish)}}, nil},
	}
	for _, mode := range []int{1, 0, -1} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("mode=%d/%s", mode, tc.name), func(t *testing.T) {
				setDWFusion(mode)
				checkNet(t, tc.net, 1, 1, 3)
				if mode == -1 {
					return
				}
				impls := compiledImpls(t, tc.net)
				for i, s := range impls {
					pw, want := tc.fused[i]
					want = want && mode == 1 && dwFusionISA()
					if got := strings.HasPrefix(s, "fused into previous 1x1"); got != want {
						t.Errorf("layer %d impl %q, want fused %v", i, s, want)
					}
					if want && !strings.Contains(impls[pw], fmt.Sprintf("depthwise layer %d as a post-op", i)) {
						t.Errorf("layer %d impl %q does not report the fusion", pw, impls[pw])
					}
				}
			})
		}
	}
	setDWFusion(1)
	net := ppLCNet(rand.New(rand.NewPCG(3, 4)), 0.5, 96, 64, 100)
	checkNet(t, net, 1, 1, 3)
	checkNet(t, net, 2, 1, 2)
}

// TestDWPW checks the fused depthwise + 1x1 block kernel, forced on and off,
// against the reference: channel counts on and off the 16-lane vectors,
// strides 1, 2 and (2,1), 3x3..7x7 kernels, asymmetric padding, every
// supported activation, batch 1 and 3, 1 and 2 threads.
func TestDWPW(t *testing.T) {
	defer setDWPW(-1)
	defer setDWFusion(-1)
	defer setStem(-1)
	setDWFusion(0)
	// the stem kernel, not left to timing: the block kernels read the NHWC
	// it writes (oneDNN's AVX2 stem writes nChw8c, which they do not take)
	setStem(1)
	r := rand.New(rand.NewPCG(9, 5))
	pw := func(in, out int, act Act) Layer { return conv(r, "pw", in, out, 1, 1, 1, 1, [4]int{}, 1, true, act) }
	dw := func(c, k, sh, sw int, pads [4]int, act Act, bias bool) Layer {
		return conv(r, "dw", c, c, k, k, sh, sw, pads, c, bias, act)
	}
	p := func(k int) [4]int { return [4]int{k / 2, k / 2, k / 2, k / 2} }
	cases := []struct {
		name  string
		net   *Net
		fused []int // depthwise layers run with the next 1x1 when forced on
	}{
		{"c16-32/k3s1/hswish", &Net{InC: 16, InH: 13, InW: 17, Layers: []Layer{dw(16, 3, 1, 1, p(3), hswish, true), pw(16, 32, hswish)}}, []int{0}},
		{"c32-64/k3s2/hswish", &Net{InC: 32, InH: 12, InW: 15, Layers: []Layer{dw(32, 3, 2, 2, p(3), hswish, true), pw(32, 64, hswish)}}, []int{0}},
		{"c24-70/k5s1/relu-none", &Net{InC: 24, InH: 9, InW: 11, Layers: []Layer{dw(24, 5, 1, 1, p(5), relu, true), pw(24, 70, Act{})}}, []int{0}},
		{"c17-33/k5s2/none-relu/nobias", &Net{InC: 17, InH: 10, InW: 7, Layers: []Layer{dw(17, 5, 2, 2, p(5), Act{}, false),
			conv(r, "pw", 17, 33, 1, 1, 1, 1, [4]int{}, 1, false, relu)}}, []int{0}},
		{"c5-7/k7s1", &Net{InC: 5, InH: 9, InW: 8, Layers: []Layer{dw(5, 7, 1, 1, p(7), hswish, true), pw(5, 7, hswish)}}, []int{0}},
		{"c16-48/k3s21/asympad", &Net{InC: 16, InH: 11, InW: 10, Layers: []Layer{dw(16, 3, 2, 1, [4]int{0, 1, 1, 0}, hswish, true), pw(16, 48, hswish)}}, []int{0}},
		{"c64-128/k3/w1", &Net{InC: 64, InH: 5, InW: 1, Layers: []Layer{dw(64, 3, 1, 1, p(3), hswish, true), pw(64, 128, hswish)}}, []int{0}},
		{"stem+blocks", &Net{InC: 3, InH: 20, InW: 20, Layers: []Layer{conv(r, "stem", 3, 16, 3, 3, 2, 2, p(3), 1, true, hswish),
			dw(16, 3, 1, 1, p(3), hswish, true), pw(16, 32, hswish), dw(32, 3, 2, 2, p(3), hswish, true), pw(32, 64, hswish),
			dw(64, 5, 1, 1, p(5), hswish, true), se(r, "se", 64, 16, hsig6, true), pw(64, 64, hswish)}}, []int{1, 3}},
		{"not/hsig", &Net{InC: 16, InH: 8, InW: 8, Layers: []Layer{dw(16, 3, 1, 1, p(3), hsig6, true), pw(16, 16, hswish)}}, nil},
		{"not/pw-scale", &Net{InC: 16, InH: 8, InW: 8, Layers: []Layer{dw(16, 3, 1, 1, p(3), hswish, true), pw(16, 16, hswish),
			{Kind: LayerScale, Factor: 0.5}}}, nil},
		{"not/grouped", &Net{InC: 16, InH: 8, InW: 8, Layers: []Layer{conv(r, "g", 16, 16, 3, 3, 1, 1, p(3), 4, true, hswish), pw(16, 16, hswish)}}, nil},
	}
	for _, mode := range []int{1, 0} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("mode=%d/%s", mode, tc.name), func(t *testing.T) {
				setDWPW(mode)
				checkNet(t, tc.net, 1, 1, 3)
				checkNet(t, tc.net, 2, 1, 3)
				impls := compiledImpls(t, tc.net)
				for _, i := range tc.fused {
					got := strings.HasPrefix(impls[i], "lcn_dwpw") && strings.HasPrefix(impls[i+1], "fused into previous depthwise")
					if want := mode == 1 && ownKernel("lcn_dwpw"); got != want {
						t.Errorf("layers %d, %d: impls %q, %q; want fused %v", i, i+1, impls[i], impls[i+1], want)
					}
				}
				for i, s := range impls {
					if !slices.Contains(tc.fused, i) && strings.HasPrefix(s, "lcn_dwpw") {
						t.Errorf("layer %d: impl %q, want no fused kernel", i, s)
					}
				}
			})
		}
	}
	setDWPW(1)
	checkPPLCNets(t, 96, 64, 100, 0.25, 1)
}

// TestStem checks the first-layer kernel reading the NCHW input, forced on
// and off, against the reference.
func TestStem(t *testing.T) {
	defer setStem(-1)
	r := rand.New(rand.NewPCG(9, 7))
	p1 := [4]int{1, 1, 1, 1}
	cases := []struct {
		name string
		net  *Net
		ok   bool // the kernel takes the first layer when forced on
	}{
		{"c3-16/k3s2/hswish", &Net{InC: 3, InH: 30, InW: 34, Layers: []Layer{conv(r, "c", 3, 16, 3, 3, 2, 2, p1, 1, true, hswish)}}, true},
		{"c3-8/k3s2/relu", &Net{InC: 3, InH: 31, InW: 29, Layers: []Layer{conv(r, "c", 3, 8, 3, 3, 2, 2, p1, 1, true, relu)}}, true},
		{"c3-40/k3s2/hswish", &Net{InC: 3, InH: 24, InW: 40, Layers: []Layer{conv(r, "c", 3, 40, 3, 3, 2, 2, p1, 1, true, hswish)}}, true},
		{"c3-32/k3s1/hswish", &Net{InC: 3, InH: 11, InW: 41, Layers: []Layer{conv(r, "c", 3, 32, 3, 3, 1, 1, p1, 1, true, hswish)}}, true},
		{"c3-36/k3s1/none", &Net{InC: 3, InH: 7, InW: 29, Layers: []Layer{conv(r, "c", 3, 36, 3, 3, 1, 1, p1, 1, true, Act{})}}, true},
		{"c3-64/k3s1/relu", &Net{InC: 3, InH: 6, InW: 23, Layers: []Layer{conv(r, "c", 3, 64, 3, 3, 1, 1, p1, 1, true, relu)}}, true},
		{"c3-50/k3s2/hswish", &Net{InC: 3, InH: 15, InW: 37, Layers: []Layer{conv(r, "c", 3, 50, 3, 3, 2, 2, p1, 1, true, hswish)}}, true},
		{"c3-24/k3s2/none/asympad", &Net{InC: 3, InH: 13, InW: 57, Layers: []Layer{conv(r, "c", 3, 24, 3, 3, 2, 2, [4]int{0, 1, 1, 0}, 1, true, Act{})}}, true},
		{"c3-12/k3s1/relu/nopad", &Net{InC: 3, InH: 5, InW: 30, Layers: []Layer{conv(r, "c", 3, 12, 3, 3, 1, 1, [4]int{}, 1, false, relu)}}, true},
		{"c1-64/k5s1/none/nobias", &Net{InC: 1, InH: 12, InW: 21, Layers: []Layer{conv(r, "c", 1, 64, 5, 5, 1, 1, [4]int{2, 2, 2, 2}, 1, false, Act{})}}, true},
		{"c4-7/k7s21/asympad", &Net{InC: 4, InH: 17, InW: 26, Layers: []Layer{conv(r, "c", 4, 7, 7, 7, 2, 1, [4]int{3, 1, 2, 4}, 1, true, hswish)}}, true},
		{"c2-33/k3s1/nopad", &Net{InC: 2, InH: 9, InW: 30, Layers: []Layer{conv(r, "c", 2, 33, 3, 3, 1, 1, [4]int{}, 1, true, relu)}}, true},
		{"stem+dw+pw", &Net{InC: 3, InH: 40, InW: 36, Layers: []Layer{conv(r, "stem", 3, 16, 3, 3, 2, 2, p1, 1, true, hswish),
			conv(r, "dw", 16, 16, 3, 3, 1, 1, p1, 16, true, hswish), conv(r, "pw", 16, 32, 1, 1, 1, 1, [4]int{}, 1, true, hswish)}}, true},
		{"not/c5", &Net{InC: 5, InH: 9, InW: 9, Layers: []Layer{conv(r, "c", 5, 16, 3, 3, 2, 2, p1, 1, true, hswish)}}, false},
		{"not/hsig", &Net{InC: 3, InH: 9, InW: 9, Layers: []Layer{conv(r, "c", 3, 16, 3, 3, 2, 2, p1, 1, true, hsig6)}}, false},
		{"not/grouped", &Net{InC: 3, InH: 9, InW: 9, Layers: []Layer{conv(r, "c", 3, 6, 3, 3, 2, 2, p1, 3, true, hswish)}}, false},
		{"not/scale-after", &Net{InC: 3, InH: 9, InW: 9, Layers: []Layer{conv(r, "c", 3, 16, 3, 3, 2, 2, p1, 1, true, hswish), {Kind: LayerScale, Factor: 0.5}}}, false},
	}
	for _, mode := range []int{1, 0} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("mode=%d/%s", mode, tc.name), func(t *testing.T) {
				setStem(mode)
				checkNet(t, tc.net, 1, 1, 3)
				checkNet(t, tc.net, 2, 1, 3)
				p, err := Compile(tc.net, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				impl := p.LayerImpls()[0]
				if want := tc.ok && mode == 1 && ownKernel("lcn_stem"); strings.HasPrefix(impl, "lcn_stem") != want {
					t.Errorf("layer 0 impl %q, want the stem kernel %v", impl, want)
				}
			})
		}
	}
	setStem(1)
	checkPPLCNets(t, 64, 48, 10, 0.25, 1, 2.5)
}

// TestChoicesRepeat checks that compiling one network twice makes the same
// timed choices (fused kernels or not), hence bit-identical outputs.
func TestChoicesRepeat(t *testing.T) {
	net := ppLCNet(rand.New(rand.NewPCG(3, 4)), 0.25, 64, 48, 10)
	in := randSlice(rand.New(rand.NewPCG(1, 2)), 3*64*48, 1)
	checkRepeat(t, func() ([]string, []float32) {
		p, inst := compileInstance(t, net, Options{})
		out := make([]float32, 10)
		if err := inst.Run(in, 1, out); err != nil {
			t.Fatal(err)
		}
		return p.LayerImpls(), out
	})
}

// TestChoicesFull fills the process's table of choices past its 2048
// entries: the oldest are replaced, the latest all kept (a full table once
// stopped remembering new choices, so that a long test run compiled the
// same network twice with different kernels).
func TestChoicesFull(t *testing.T) {
	defer ResetChoices()
	ResetChoices()
	const n, keep = 2100, 2048
	var cs []Choice
	for i := range n {
		cs = append(cs, Choice{Key: fmt.Sprintf("test:%d", i), Choice: i % 2, A: float32(i), Name: "x"})
	}
	if err := PutChoices(cs); err != nil {
		t.Fatal(err)
	}
	got := Choices()
	if len(got) != keep {
		t.Fatalf("%d choices kept, want %d", len(got), keep)
	}
	have := map[string]Choice{}
	for _, c := range got {
		have[c.Key] = c
	}
	for i, c := range cs {
		g, ok := have[c.Key]
		if want := i >= n-keep; ok != want {
			t.Errorf("choice %q kept %v, want %v", c.Key, ok, want)
		} else if ok && g != c {
			t.Errorf("choice %q read back as %+v", c.Key, g)
		}
	}
}

// checkRepeat compiles and runs twice (compile returns the layer impls and
// the output): the same kernels and the same bits both times.
func checkRepeat(t *testing.T, compile func() ([]string, []float32)) {
	t.Helper()
	impls0, out0 := compile()
	impls1, out1 := compile()
	if !slices.Equal(impls0, impls1) {
		t.Errorf("impls differ:\n%q\n%q", impls0, impls1)
	}
	if !slices.Equal(out0, out1) {
		t.Errorf("outputs differ: %v vs %v", out0, out1)
	}
}

func TestPPLCNetQuarter(t *testing.T) {
	net := ppLCNet(rand.New(rand.NewPCG(3, 4)), 0.25, 224, 224, 1000)
	checkNet(t, net, 1, 1, 2)
}

func TestPPLCNetTwoThreads(t *testing.T) {
	net := ppLCNet(rand.New(rand.NewPCG(3, 4)), 0.5, 96, 64, 100)
	checkNet(t, net, 2, 1, 3)
}

func TestInfo(t *testing.T) {
	if ISA() == "" || !strings.HasPrefix(Version(), "2.") {
		t.Errorf("ISA %q, Version %q", ISA(), Version())
	}
	net := ppLCNet(rand.New(rand.NewPCG(3, 4)), 0.25, 64, 64, 10)
	p, err := Compile(net, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	impls := p.LayerImpls()
	if len(impls) != len(net.Layers) {
		t.Fatalf("%d impls for %d layers", len(impls), len(net.Layers))
	}
	for i, s := range impls {
		if s == "" {
			t.Errorf("layer %d %q: no implementation name", i, net.Layers[i].Name)
		}
		if strings.Contains(s, "ref") && !strings.Contains(s, "post-op") {
			t.Logf("layer %d %q uses a reference implementation: %s", i, net.Layers[i].Name, s)
		}
	}
	t.Logf("ISA %s, oneDNN %s; %s: %s; %s: %s", ISA(), Version(), net.Layers[1].Name, impls[1], net.Layers[len(impls)-3].Name, impls[len(impls)-3])
	if !slices.Equal(p.InputShape(), []int{3, 64, 64}) || p.Threads() != 1 {
		t.Errorf("InputShape %v Threads %d", p.InputShape(), p.Threads())
	}
}

func smallNet() *Net {
	return ppLCNet(rand.New(rand.NewPCG(5, 6)), 0.25, 48, 40, 10)
}

func TestCloseAndHandles(t *testing.T) {
	base := LiveHandles()
	p, err := Compile(smallNet(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	if n := LiveHandles() - base; n != 3 {
		t.Errorf("live = %d, want 3", n)
	}
	// The plan may be closed first: instances keep the C plan alive.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.NewInstance(); !errors.Is(err, ErrClosed) {
		t.Errorf("NewInstance after Close: %v", err)
	}
	in, out := make([]float32, 3*48*40), make([]float32, 10)
	if err := a.Run(in, 1, out); err != nil {
		t.Fatalf("Run after Plan.Close: %v", err)
	}
	a.Close()
	a.Close()
	if err := a.Run(in, 1, out); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if n := LiveHandles() - base; n != 2 {
		t.Errorf("live = %d, want 2 (plan held by b)", n)
	}
	b.Close()
	if n := LiveHandles() - base; n != 0 {
		t.Errorf("live = %d after closing all", n)
	}
	var nilInst *Instance
	if err := nilInst.Close(); err != nil {
		t.Error(err)
	}
}

func TestCleanupFreesLeaks(t *testing.T) {
	base, leaked0 := LiveHandles(), LeakedHandles()
	func() {
		p, err := Compile(smallNet(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.NewInstance(); err != nil {
			t.Fatal(err)
		}
	}()
	// Only to exercise the safety net: real code calls Close.
	deadline := time.Now().Add(5 * time.Second)
	for LiveHandles() > base && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := LiveHandles() - base; n != 0 {
		t.Errorf("live = %d after GC of unclosed plan and instance", n)
	}
	if d := LeakedHandles() - leaked0; d != 2 {
		t.Errorf("LeakedHandles grew by %d, want 2", d)
	}
}

func TestConcurrentInstances(t *testing.T) {
	net := smallNet()
	p, err := Compile(net, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := rand.New(rand.NewPCG(9, 9))
	in := randSlice(r, 2*3*48*40, 1)
	want := make([]float32, 20)
	{
		inst, err := p.NewInstance()
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Run(in, 2, want); err != nil {
			t.Fatal(err)
		}
		inst.Close()
	}
	const workers, iters = 4, 15
	insts := make([]*Instance, workers)
	for i := range insts {
		if insts[i], err = p.NewInstance(); err != nil {
			t.Fatal(err)
		}
		defer insts[i].Close()
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*iters*2)
	for w := 0; w < workers*2; w++ {
		wg.Add(1)
		go func(inst *Instance) { // two goroutines per instance: Run serialises
			defer wg.Done()
			out := make([]float32, 20)
			for i := 0; i < iters; i++ {
				if err := inst.Run(in, 2, out); err != nil {
					errs <- err
					return
				}
				if !slices.Equal(out, want) {
					errs <- errors.New("outputs differ between instances")
					return
				}
			}
		}(insts[w%workers])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRunAllocs(t *testing.T) {
	p, err := Compile(smallNet(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inst, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	in, out := make([]float32, 3*48*40), make([]float32, 10)
	if err := inst.Run(in, 1, out); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { inst.Run(in, 1, out) }); n != 0 {
		t.Errorf("Run allocates %v times per call", n)
	}
}

func TestBadInput(t *testing.T) {
	p, err := Compile(smallNet(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inst, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	n := 3 * 48 * 40
	cases := []struct {
		name    string
		in, out int
		batch   int
	}{
		{"batch0", 0, 0, 0},
		{"batch-1", n, 10, -1},
		{"short-in", n - 1, 10, 1},
		{"long-in", n + 1, 10, 1},
		{"short-out", n, 9, 1},
		{"batch2-in1", n, 20, 2},
		{"nil", 0, 0, 1},
		{"huge-batch", n, 10, 1 << 40},
	}
	for _, tc := range cases {
		err := inst.Run(make([]float32, tc.in), tc.batch, make([]float32, tc.out))
		if !errors.Is(err, ErrInvalidInput) || !strings.HasPrefix(err.Error(), "dnn: ") {
			t.Errorf("%s: err = %v, want ErrInvalidInput", tc.name, err)
		}
	}
	// still usable
	if err := inst.Run(make([]float32, n), 1, make([]float32, 10)); err != nil {
		t.Error(err)
	}
}

func TestDNNLFailure(t *testing.T) {
	base := LiveHandles()
	net := smallNet()
	defer setFailLayer(-1)
	setFailLayer(2)
	_, err := Compile(net, Options{})
	var de *DNNLError
	if !errors.As(err, &de) || !errors.Is(err, ErrDNNL) || de.Layer != 2 || de.Name != net.Layers[2].Name || de.Status != "unimplemented" {
		t.Fatalf("Compile: err = %v, want a DNNLError for layer 2", err)
	}
	if !strings.Contains(err.Error(), `"b01.pw"`) || !strings.Contains(err.Error(), "unimplemented") {
		t.Errorf("message %q lacks the layer name or status", err)
	}
	setFailLayer(-1)
	p, err := Compile(net, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inst, err := p.NewInstance()
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	in, out := make([]float32, 3*3*48*40), make([]float32, 30)
	setFailLayer(5) // primitives for batch 3 are built by this Run
	if err := inst.Run(in, 3, out); !errors.As(err, &de) || de.Layer != 5 || de.Name != net.Layers[5].Name {
		t.Fatalf("Run: err = %v, want a DNNLError for layer 5", err)
	}
	setFailLayer(-1)
	if err := inst.Run(in, 3, out); err != nil {
		t.Fatalf("Run after the failure: %v", err)
	}
	inst.Close()
	p.Close()
	if n := LiveHandles() - base; n != 0 {
		t.Errorf("live = %d", n)
	}
}

func TestDNNLErrorFormat(t *testing.T) {
	err := error(&DNNLError{Layer: 3, Name: "b01.dw", Op: "convolution primitive_desc_create", Status: "unimplemented"})
	if !errors.Is(err, ErrDNNL) || err.Error() != `dnn: onednn: layer 3 "b01.dw": convolution primitive_desc_create: unimplemented` {
		t.Errorf("%v", err)
	}
}

// TestPlanOwnsWeights: Compile reads the network's weight arrays in place
// (lcn_plan_build) and must keep none of them: after it returns, the arrays
// are overwritten with NaN and garbage collected, and new instances at new
// batch sizes still compute the reference of the original weights.
func TestPlanOwnsWeights(t *testing.T) {
	// own kernels where timing picks them, then oneDNN primitives for every
	// layer (their weights bound, copied or reordered, from the arrays)
	sets := []func(int){setDWPW, setStem, setFC32, setDW32, setSE32}
	defer func() {
		for _, set := range sets {
			set(-1)
		}
	}()
	for _, tc := range []struct {
		kernels int
		threads int
	}{{-1, 1}, {-1, 2}, {0, 1}, {0, 2}} {
		for _, set := range sets {
			set(tc.kernels)
		}
		threads := tc.threads
		net := ppLCNet(rand.New(rand.NewPCG(9, 10)), 0.5, 64, 48, 20)
		r := rand.New(rand.NewPCG(11, 12))
		in := randSlice(r, 3*net.InC*net.InH*net.InW, 1)
		want, _ := refForward(net, in, 3)
		p, err := Compile(net, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		nan := float32(math.NaN())
		for i := range net.Layers {
			l := &net.Layers[i]
			for _, w := range [][]float32{l.Weight, l.Bias, l.W1, l.B1, l.W2, l.B2} {
				for k := range w {
					w[k] = nan
				}
			}
		}
		net = nil
		runtime.GC()
		inst, err := p.NewInstance()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, len(want))
		for _, batch := range []int{3, 1} {
			n := len(in) / 3 * batch
			if err := inst.Run(in[:n], batch, out[:len(want)/3*batch]); err != nil {
				t.Fatal(err)
			}
			if d := maxRelDiff(out[:len(want)/3*batch], want[:len(want)/3*batch]); d > tol || d != d {
				t.Fatalf("kernels %d threads %d batch %d: max rel diff %.3g after the network's weights were overwritten (impls %q)",
					tc.kernels, threads, batch, d, p.LayerImpls())
			}
		}
		inst.Close()
		p.Close()
	}
}

// TestTranspose checks the C transpose (16 x 16 register tiles and the
// element loop) on shapes with and without whole tiles, and on strided
// source and destination rows.
func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ rows, cols, lds, ldd int }{
		{1, 1, 1, 1}, {16, 16, 16, 16}, {17, 33, 40, 20}, {64, 1280, 1280, 64},
		{40, 1280, 1280, 48}, {1000, 64, 64, 1008}, {3, 9, 9, 16}, {48, 32, 35, 50},
	} {
		src := randSlice(r, c.rows*c.lds, 1)
		for _, simd := range []bool{false, true} {
			dst := make([]float32, c.cols*c.ldd)
			for k := range dst {
				dst[k] = -7
			}
			transposeC(src, c.lds, c.rows, c.cols, dst, c.ldd, simd)
			for j := 0; j < c.cols; j++ {
				for i := 0; i < c.ldd; i++ {
					want := float32(-7) // past the rows: untouched
					if i < c.rows {
						want = src[i*c.lds+j]
					}
					if got := dst[j*c.ldd+i]; got != want {
						t.Fatalf("%+v simd %v: dst[%d][%d] = %v, want %v", c, simd, j, i, got, want)
					}
				}
			}
		}
	}
}

// TestPrefetchSwitches runs the fused depthwise + 1x1 kernels (apart and
// as chains) and lcn_fc32 with their prefetches on and off (non-temporal
// next panels, the next output row's input rows): the arithmetic is the
// same, so each run must match the reference and the others bit for bit.
func TestPrefetchSwitches(t *testing.T) {
	sets := []func(int){setDWPW, setFC32, setChain}
	defer func() {
		for _, set := range sets {
			set(-1)
		}
		setFC32NTA(true)
		setDWPWPrefetch(true)
	}()
	net := ppLCNet(rand.New(rand.NewPCG(21, 22)), 0.75, 96, 80, 30)
	in := randSlice(rand.New(rand.NewPCG(23, 24)), 2*net.InC*net.InH*net.InW, 1)
	want, _ := refForward(net, in, 2)
	for _, chain := range []int{0, 1} {
		for _, threads := range []int{1, 2} {
			setDWPW(1)
			setFC32(1)
			setChain(chain)
			p, err := Compile(net, Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			impls := strings.Join(p.LayerImpls(), " ")
			kinds := []string{"lcn_fc32"}
			if strings.Contains(impls, ":avx512") { // the prefetches are in the AVX-512 bodies; AVX2 runs no fused block on nChw8c
				kinds = append(kinds, map[int]string{0: "lcn_dwpw", 1: "lcn_chain"}[chain])
			}
			for _, k := range kinds {
				if !strings.Contains(impls, k) {
					t.Fatalf("chain %d threads %d: no %s step in the plan (impls %s)", chain, threads, k, impls)
				}
			}
			inst, err := p.NewInstance()
			if err != nil {
				t.Fatal(err)
			}
			var first []float32
			for _, sw := range []struct{ nta, rows bool }{{true, true}, {false, false}, {true, false}, {false, true}} {
				setFC32NTA(sw.nta)
				setDWPWPrefetch(sw.rows)
				out := make([]float32, len(want))
				if err := inst.Run(in, 2, out); err != nil {
					t.Fatal(err)
				}
				if d := maxRelDiff(out, want); d > tol || d != d {
					t.Fatalf("chain %d threads %d nta %v rows %v: max rel diff %.3g (impls %q)",
						chain, threads, sw.nta, sw.rows, d, p.LayerImpls())
				}
				if first == nil {
					first = out
				} else if !slices.Equal(out, first) {
					t.Errorf("chain %d threads %d nta %v rows %v: output differs from the run with both prefetches on",
						chain, threads, sw.nta, sw.rows)
				}
			}
			inst.Close()
			p.Close()
		}
	}
}
