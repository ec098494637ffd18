//go:build cgo && !purego

package dnn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestKernelISA checks what KernelISA reports and, with LCNET_NO_AVX512=1,
// runs the AVX2 bodies of the kernels that have some (stem, block kernel,
// chain) against the reference: on an AVX-512 machine the only way they
// are tested, on an AVX2 one the same as without the switch.
func TestKernelISA(t *testing.T) {
	kernels := []string{"lcn_dwpw", "lcn_chain", "lcn_stem", "lcn_dw32", "lcn_fc32", "lcn_se32"}
	for _, k := range kernels {
		if isa := KernelISA(k); !slices.Contains([]string{"", "avx2", "avx512"}, isa) {
			t.Errorf("KernelISA(%q) = %q", k, isa)
		}
	}
	if isa := KernelISA("lcn_nope"); isa != "" {
		t.Errorf("KernelISA of an unknown kernel = %q, want \"\"", isa)
	}
	t.Setenv("LCNET_NO_AVX512", "1")
	avx2 := KernelISA("lcn_dwpw")
	for _, k := range kernels {
		isa := KernelISA(k)
		if isa == "avx512" {
			t.Errorf("LCNET_NO_AVX512=1: KernelISA(%q) = avx512", k)
		}
		if isa != avx2 {
			t.Errorf("LCNET_NO_AVX512=1: KernelISA(%q) = %q, lcn_dwpw %q", k, isa, avx2)
		}
	}
	if avx2 == "" {
		t.Skip("no AVX2 + FMA: the kernels' AVX2 bodies do not run here")
	}
	defer setStem(-1)
	defer setDWPW(-1)
	defer setChain(-1)
	defer setDWFusion(-1)
	setDWFusion(0)
	r := rand.New(rand.NewPCG(21, 8))
	p := func(k int) [4]int { return [4]int{k / 2, k / 2, k / 2, k / 2} }
	dw := func(c, k, s int) Layer { return conv(r, "dw", c, c, k, k, s, s, p(k), c, true, hswish) }
	pw := func(in, out int) Layer { return conv(r, "pw", in, out, 1, 1, 1, 1, [4]int{}, 1, true, hswish) }
	net := &Net{InC: 3, InH: 29, InW: 23, Layers: []Layer{
		conv(r, "stem", 3, 24, 3, 3, 2, 2, p(3), 1, true, hswish),
		dw(24, 3, 1), pw(24, 40), dw(40, 3, 2), pw(40, 19), dw(19, 5, 1), pw(19, 33), dw(33, 5, 2), pw(33, 8),
	}}
	for _, chain := range []int{0, 1} {
		setStem(1)
		setDWPW(1)
		setChain(chain)
		checkNet(t, net, 1, 1, 3)
		checkNet(t, net, 2, 1, 2)
		impls := compiledImpls(t, net)
		want := []string{"lcn_stem:avx2", "lcn_dwpw:avx2"}
		if chain == 1 {
			want[1] = "lcn_chain:avx2"
		}
		if !strings.HasPrefix(impls[0], want[0]) || !strings.HasPrefix(impls[1], want[1]) {
			t.Errorf("chain %d: layers 0, 1 run as %q, %q; want %s, %s", chain, impls[0], impls[1], want[0], want[1])
		}
	}
	// the head and SE kernels: the FCs over few rows (batch 1: a row at a
	// time over whole panels; a split batch of 7: 6-row tiles of 16-column
	// strips and one row), the SE's pool and scale in place; on oneDNN's
	// AVX2 layout (nChw8c, after its stem) the SE in place and the 1x1 conv
	// over 13x13 pixels (one image, or the whole batch of 7 unsplit)
	setFC32(1)
	defer setFC32(-1)
	defer setSplit(1)
	gap := Layer{Kind: LayerGlobalAvgPool, Name: "gap"}
	setStem(0) // oneDNN's stem: on AVX2 it writes nChw8c
	head := &Net{InC: 3, InH: 26, InW: 26, Layers: []Layer{
		conv(r, "stem", 3, 40, 3, 3, 2, 2, p(3), 1, true, hswish), se(r, "se", 40, 12, hsig6, true),
		pw(40, 56), gap, pw(56, 100), fc(r, "fc", 100, 21, true, Act{}),
	}}
	for _, split := range []int{1, 0} {
		setSplit(split)
		checkNet(t, head, 1, 1, 7)
		checkNet(t, head, 2, 1, 7)
	}
	impls := compiledImpls(t, head)
	for i, want := range map[int]string{1: "lcn_se32:avx2", 2: "lcn_fc32:avx2", 4: "lcn_fc32:avx2", 5: "lcn_fc32:avx2"} {
		if !strings.HasPrefix(impls[i], want) {
			t.Errorf("head: layer %d runs as %q, want %s", i, impls[i], want)
		}
	}
	blk := strings.HasPrefix(ISA(), "avx2") // oneDNN's layout is nChw8c
	for _, i := range []int{1, 2} {
		if got := strings.Contains(impls[i], "nChw8c"); got != blk {
			t.Errorf("head: layer %d on nChw8c %v (%q) with oneDNN ISA %s", i, got, impls[i], ISA())
		}
	}
}
