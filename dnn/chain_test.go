//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestChain checks chains of block kernels (depthwise + 1x1 pairs run row
// by row through ring buffers), forced on, against the reference: strides
// 1 and 2, kernels 3, 5 and 7, channel counts off the 16-lane vectors, odd
// sizes, one-pixel-wide images, ReLU/hardswish/no activation, with and
// without bias, batch 1 and 3, one and two threads (bands of rows that
// start inside an image).
func TestChain(t *testing.T) {
	defer setChain(-1)
	defer setDWPW(-1)
	defer setDWFusion(-1)
	defer setStem(-1)
	setDWFusion(0)
	// the stem kernel, not left to timing: the block kernels read the NHWC
	// it writes (oneDNN's AVX2 stem writes nChw8c, which they do not take)
	setStem(1)
	r := rand.New(rand.NewPCG(11, 5))
	pw := func(in, out int, act Act) Layer { return conv(r, "pw", in, out, 1, 1, 1, 1, [4]int{}, 1, true, act) }
	dw := func(c, k, s int, act Act, bias bool) Layer {
		return conv(r, "dw", c, c, k, k, s, s, [4]int{k / 2, k / 2, k / 2, k / 2}, c, bias, act)
	}
	cases := []struct {
		name   string
		net    *Net
		chains map[int]int // first layer -> number of pairs
	}{
		{"2x/k3s1-k3s2", &Net{InC: 16, InH: 23, InW: 19, Layers: []Layer{
			dw(16, 3, 1, hswish, true), pw(16, 32, hswish), dw(32, 3, 2, hswish, true), pw(32, 64, hswish)}}, map[int]int{0: 2}},
		{"3x/odd-channels", &Net{InC: 17, InH: 15, InW: 13, Layers: []Layer{
			dw(17, 5, 2, relu, true), pw(17, 33, Act{}), dw(33, 3, 1, Act{}, false), pw(33, 7, relu),
			dw(7, 7, 1, hswish, true), pw(7, 40, hswish)}}, map[int]int{0: 3}},
		{"2x/w1", &Net{InC: 24, InH: 9, InW: 1, Layers: []Layer{
			dw(24, 3, 1, hswish, true), pw(24, 24, hswish), dw(24, 5, 2, hswish, true), pw(24, 48, hswish)}}, map[int]int{0: 2}},
		{"2x/tiny", &Net{InC: 8, InH: 2, InW: 3, Layers: []Layer{
			dw(8, 5, 2, hswish, true), pw(8, 16, hswish), dw(16, 3, 2, relu, true), pw(16, 8, hswish)}}, map[int]int{0: 2}},
		{"stem+4x+se", &Net{InC: 3, InH: 40, InW: 36, Layers: []Layer{conv(r, "stem", 3, 16, 3, 3, 2, 2, [4]int{1, 1, 1, 1}, 1, true, hswish),
			dw(16, 3, 1, hswish, true), pw(16, 32, hswish), dw(32, 3, 2, hswish, true), pw(32, 64, hswish),
			dw(64, 3, 1, hswish, true), pw(64, 64, hswish), dw(64, 3, 2, hswish, true), pw(64, 128, hswish),
			dw(128, 5, 1, hswish, true), se(r, "se", 128, 32, hsig6, true), pw(128, 128, hswish)}}, map[int]int{1: 4}},
		{"2x/k3s1-last", &Net{InC: 20, InH: 21, InW: 17, Layers: []Layer{
			dw(20, 3, 2, hswish, true), pw(20, 24, relu), dw(24, 3, 1, hswish, true), pw(24, 40, hswish)}}, map[int]int{0: 2}},
		{"3x/k3s1-run", &Net{InC: 16, InH: 15, InW: 30, Layers: []Layer{
			dw(16, 3, 1, hswish, true), pw(16, 16, hswish), dw(16, 3, 1, relu, false), pw(16, 33, Act{}),
			dw(33, 3, 1, Act{}, true), pw(33, 8, relu)}}, map[int]int{0: 3}},
		{"1x/none", &Net{InC: 16, InH: 8, InW: 8, Layers: []Layer{dw(16, 3, 1, hswish, true), pw(16, 16, hswish)}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setDWPW(1)
			setChain(1)
			p, err := Compile(tc.net, Options{})
			if err != nil {
				t.Fatal(err)
			}
			impls := p.LayerImpls()
			p.Close()
			for i, s := range impls {
				n, ok := tc.chains[i]
				ok = ok && ownKernel("lcn_chain")
				want := fmt.Sprintf("lcn_chain:%s (layers %d-%d, %d depthwise", KernelISA("lcn_chain"), i, i+2*n-1, n)
				if ok != strings.HasPrefix(s, "lcn_chain") || ok && !strings.HasPrefix(s, want) {
					t.Errorf("layer %d: impl %q; want chain %v (%q)", i, s, ok, want)
				}
			}
			for _, threads := range []int{1, 2} {
				checkNet(t, tc.net, threads, 1, 3)
			}
			setChain(0) // the same pairs block by block
			checkNet(t, tc.net, 2, 1, 3)
		})
	}
	setChain(1)
	checkPPLCNets(t, 96, 64, 100, 0.25, 1)
}
