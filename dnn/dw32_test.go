//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDW32 checks the lcn_dw32 kernel (a depthwise conv on its own),
// forced on, off and left to timing, against the reference: channels on and
// off the 16-lane vectors and the groups of 4 blocks it copies together,
// the kernel sizes it unrolls (3, 5, 7 at strides 1 and 2) and others
// (4x4, 5x3, stride 3, asymmetric padding, a 1x1 map), rows wider than a
// register group, every activation it takes (its own or a fused
// activation layer), bias or none, batches of 3, 1 and 2 threads; and that
// it takes exactly the layers it should.
func TestDW32(t *testing.T) {
	defer setDW32(-1)
	defer setDWPW(-1)
	defer setDWFusion(-1)
	setDWPW(0)     // a depthwise + 1x1 pair would otherwise be timed as a block kernel first
	setDWFusion(0) // and a 1x1 + depthwise pair as a oneDNN post-op
	r := rand.New(rand.NewPCG(17, 4))
	dw := func(c, k, s int, pads [4]int, bias bool, act Act) Layer {
		return conv(r, "dw", c, c, k, k, s, s, pads, c, bias, act)
	}
	same := func(k int) [4]int { return [4]int{k / 2, k / 2, k / 2, k / 2} }
	pw := func(in, out int) Layer { return conv(r, "pw", in, out, 1, 1, 1, 1, [4]int{}, 1, true, hswish) }
	cases := []kernelCase{
		{"5x5/s1/14x14/c256/hswish", &Net{InC: 256, InH: 14, InW: 14, Layers: []Layer{dw(256, 5, 1, same(5), true, hswish)}}, []int{0}},
		{"5x5/s2/14x14/c96", &Net{InC: 96, InH: 14, InW: 14, Layers: []Layer{dw(96, 5, 2, same(5), true, hswish)}}, []int{0}},
		{"3x3/s1/13x11/c20/relu/nobias", &Net{InC: 20, InH: 13, InW: 11, Layers: []Layer{dw(20, 3, 1, same(3), false, relu)}}, []int{0}},
		{"3x3/s2/9x15/c33/none", &Net{InC: 33, InH: 9, InW: 15, Layers: []Layer{dw(33, 3, 2, same(3), true, Act{})}}, []int{0}},
		{"7x7/s1/10x10/c80", &Net{InC: 80, InH: 10, InW: 10, Layers: []Layer{dw(80, 7, 1, same(7), true, hswish)}}, []int{0}},
		{"7x7/s2/12x9/c17", &Net{InC: 17, InH: 12, InW: 9, Layers: []Layer{dw(17, 7, 2, same(7), true, relu)}}, []int{0}},
		{"3x3/s1/40x112/c16", &Net{InC: 16, InH: 40, InW: 112, Layers: []Layer{dw(16, 3, 1, same(3), true, hswish)}}, []int{0}},
		{"4x4/pad1212/c24", &Net{InC: 24, InH: 10, InW: 9, Layers: []Layer{dw(24, 4, 1, [4]int{1, 2, 2, 1}, true, hswish)}}, []int{0}},
		{"5x3/s2x1/c40", &Net{InC: 40, InH: 11, InW: 8, Layers: []Layer{
			conv(r, "dw", 40, 40, 5, 3, 2, 1, [4]int{2, 1, 2, 1}, 40, true, hswish)}}, []int{0}},
		{"3x3/s3/nopad/c48", &Net{InC: 48, InH: 13, InW: 13, Layers: []Layer{dw(48, 3, 3, [4]int{}, true, relu)}}, []int{0}},
		{"3x3/s1/13x11/c32/relu/nobias", &Net{InC: 32, InH: 13, InW: 11, Layers: []Layer{dw(32, 3, 1, same(3), false, relu)}}, []int{0}},
		{"3x3/s2/9x15/c40/none", &Net{InC: 40, InH: 9, InW: 15, Layers: []Layer{dw(40, 3, 2, same(3), true, Act{})}}, []int{0}},
		{"7x7/s2/12x9/c16/relu", &Net{InC: 16, InH: 12, InW: 9, Layers: []Layer{dw(16, 7, 2, same(7), true, relu)}}, []int{0}},
		{"5x5/s1/7x7/c8/pad-only-left-top", &Net{InC: 8, InH: 7, InW: 7, Layers: []Layer{dw(8, 5, 1, [4]int{2, 2, 0, 0}, true, hswish)}}, []int{0}},
		{"3x3/1x1-map/c70", &Net{InC: 70, InH: 1, InW: 1, Layers: []Layer{dw(70, 3, 1, same(3), true, hswish)}}, []int{0}},
		{"pw+dw+pw", &Net{InC: 24, InH: 14, InW: 14, Layers: []Layer{pw(24, 72), dw(72, 5, 1, same(5), true, hswish), pw(72, 40)}}, []int{1}},
		{"dw-then-act", &Net{InC: 32, InH: 7, InW: 7, Layers: []Layer{dw(32, 3, 1, same(3), true, Act{}),
			{Kind: LayerActivation, Act: hswish}}}, []int{0}},
		{"not/scale", &Net{InC: 32, InH: 7, InW: 7, Layers: []Layer{dw(32, 3, 1, same(3), true, relu), {Kind: LayerScale, Factor: 0.5}}}, nil},
		{"not/multiplier2", &Net{InC: 16, InH: 8, InW: 8, Layers: []Layer{conv(r, "dw", 16, 32, 3, 3, 1, 1, same(3), 16, true, relu)}}, nil},
		{"not/9x9", &Net{InC: 16, InH: 12, InW: 12, Layers: []Layer{dw(16, 9, 1, same(9), true, relu)}}, nil},
		{"not/hardsigmoid", &Net{InC: 16, InH: 6, InW: 6, Layers: []Layer{dw(16, 3, 1, same(3), true, hsig6)}}, nil},
		{"not/grouped", &Net{InC: 32, InH: 6, InW: 6, Layers: []Layer{conv(r, "g", 32, 32, 3, 3, 1, 1, same(3), 8, true, relu)}}, nil},
	}
	if KernelISA("lcn_dw32") == "avx2" {
		// the AVX2 body reads oneDNN's AVX2 layout, nChw8c in whole blocks
		// of 8, not the caller's NCHW input: oneDNN's 3x3 conv first
		setStem(0)
		defer setStem(-1)
		for i, tc := range cases {
			ls := tc.net.Layers
			first := conv(r, "c", 3, tc.net.InC, 3, 3, 1, 1, same(3), 1, true, hswish)
			net := &Net{InC: 3, InH: tc.net.InH, InW: tc.net.InW, Layers: append([]Layer{first}, ls...)}
			var at []int
			for _, l := range tc.at {
				if ls[l].InC%8 == 0 {
					at = append(at, l+1)
				}
			}
			cases[i] = kernelCase{tc.name + "/after-conv", net, at}
		}
	}
	checkKernelModes(t, cases, setDW32, "lcn_dw32")
	setDW32(1)
	checkPPLCNets(t, 96, 64, 1000, 0.25, 1)
}

// TestDW32AfterChain builds the plan where a depthwise layer is decided for
// the nChw8c body and a chain decided afterwards (decide_chains runs after
// the plan's pass over the layers) makes its input NHWC: the pair before it
// ran as oneDNN's primitives when the depthwise was decided, then joined
// the chain. The build must reorder to what the kernel is packed for (it
// once failed with "lcn_dw32 packed for nChw8c"). The pairs' choices are
// preset (the first pair its kernel, the second oneDNN's) so that the case
// does not hang on timing.
func TestDW32AfterChain(t *testing.T) {
	if KernelISA("lcn_dw32") != "avx2" {
		t.Skip("the nChw8c body runs where the kernels' ISA is AVX2")
	}
	defer ResetChoices()
	defer setStem(-1)
	defer setChain(-1)
	defer setDW32(-1)
	r := rand.New(rand.NewPCG(23, 5))
	p1 := [4]int{1, 1, 1, 1}
	hs := Act{Kind: ActHardSwish}
	net := &Net{InC: 3, InH: 40, InW: 36, Layers: []Layer{
		conv(r, "stem", 3, 16, 3, 3, 2, 2, p1, 1, true, hs),
		conv(r, "dw1", 16, 16, 3, 3, 1, 1, p1, 16, true, hs), conv(r, "pw1", 16, 24, 1, 1, 1, 1, [4]int{}, 1, true, hs),
		conv(r, "dw2", 24, 24, 3, 3, 1, 1, p1, 24, true, hs), conv(r, "pw2", 24, 32, 1, 1, 1, 1, [4]int{}, 1, true, hs),
		conv(r, "dw3", 32, 32, 5, 5, 1, 1, [4]int{2, 2, 2, 2}, 32, true, hs), conv(r, "pw3", 32, 40, 1, 1, 1, 1, [4]int{}, 1, true, hs),
	}}
	// layer_key's format (lcn_dnnl26.c): kind:ic,oc,ihxiw,ohxow,khxkw,
	// sSH,SW,pT,L,B,R,gG,aACT,bBIAS,tTHREADS; act 2 = hard swish
	key := func(kind string, l Layer, h, w int) string {
		oh := (h+l.PadTop+l.PadBottom-l.KH)/max(l.StrideH, 1) + 1
		ow := (w+l.PadLeft+l.PadRight-l.KW)/max(l.StrideW, 1) + 1
		g := max(l.Groups, 1)
		return fmt.Sprintf("%s:%d,%d,%dx%d,%dx%d,%dx%d,s%d,%d,p%d,%d,%d,%d,g%d,a2,b1,t1", kind, l.InC, l.OutC, h, w, oh, ow,
			l.KH, l.KW, max(l.StrideH, 1), max(l.StrideW, 1), l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, g)
	}
	ls := net.Layers
	ResetChoices()
	if err := PutChoices([]Choice{
		{Key: key("dw", ls[1], 20, 18) + "|" + key("pw", ls[2], 20, 18), Choice: 1, A: 10, B: 20},
		{Key: key("dw", ls[3], 20, 18) + "|" + key("pw", ls[4], 20, 18), Choice: 0, A: 20, B: 10},
	}); err != nil {
		t.Fatal(err)
	}
	setStem(1)  // NHWC out, so that the first pair can run as the kernel
	setChain(1) // the two pairs become one chain after the layers are decided
	setDW32(1)  // dw3 decided on nChw8c (pw2 ran as oneDNN's then)
	p, err := Compile(net, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	impls := p.LayerImpls()
	p.Close()
	if !strings.HasPrefix(impls[1], "lcn_chain") || !strings.HasPrefix(impls[5], "lcn_dw32:avx2") {
		t.Fatalf("not the case under test: layers run as %q", impls)
	}
	checkNet(t, net, 1, 1, 3)
}
