//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestFC32 checks the lcn_fc32 kernel (FC layers and 1x1 convs over few
// pixels), forced on, off and left to timing, against the reference: output
// counts on and off the 16-lane vectors and the 64-column panels, 1 to 196
// rows (and their batches of 3: 3 to 588), bias or none, every activation it
// takes plus a fused scale, the split head of a batch, 1 and 2 threads; and
// that it takes exactly the layers it should.
func TestFC32(t *testing.T) {
	defer setFC32(-1)
	defer setDWPW(-1)
	setDWPW(0) // a depthwise + 1x1 pair would otherwise be timed as a block kernel first
	r := rand.New(rand.NewPCG(11, 3))
	pw := func(in, out int, bias bool, act Act) Layer {
		return conv(r, "pw", in, out, 1, 1, 1, 1, [4]int{}, 1, bias, act)
	}
	gap := Layer{Kind: LayerGlobalAvgPool, Name: "gap"}
	cases := []kernelCase{
		{"fc/1280-1000", &Net{InC: 1280, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 1280, 1000, true, Act{})}}, []int{0}},
		{"fc/37-5/relu/nobias", &Net{InC: 37, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 37, 5, false, relu)}}, []int{0}},
		{"fc/16-200/hswish", &Net{InC: 16, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 16, 200, true, hswish)}}, []int{0}},
		{"fc/then-act", &Net{InC: 40, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 40, 70, true, Act{}),
			{Kind: LayerActivation, Act: hswish}}}, []int{0}},
		{"1x1/7x7/64-80/hswish", &Net{InC: 64, InH: 7, InW: 7, Layers: []Layer{pw(64, 80, true, hswish)}}, []int{0}},
		{"1x1/3x5/20-33/none", &Net{InC: 20, InH: 3, InW: 5, Layers: []Layer{pw(20, 33, true, Act{})}}, []int{0}},
		{"1x1/2x4/3-130/relu/nobias", &Net{InC: 3, InH: 2, InW: 4, Layers: []Layer{pw(3, 130, false, relu)}}, []int{0}},
		{"1x1/1x1/96-1280/hswish+scale", &Net{InC: 96, InH: 1, InW: 1, Layers: []Layer{pw(96, 1280, true, hswish),
			{Kind: LayerScale, Factor: 0.8}}}, []int{0}},
		{"head/gap-1x1-scale-fc-softmax", &Net{InC: 24, InH: 5, InW: 6, Layers: []Layer{gap, pw(24, 100, true, hswish),
			{Kind: LayerScale, Factor: 0.8}, fc(r, "fc", 100, 10, true, Act{}), {Kind: LayerSoftmax}}}, []int{1, 3}},
		// the 7x7 1x1 prefetches the head's weights into L2 (link_prefetch)
		{"head/1x1-7x7-gap-1x1-fc", &Net{InC: 96, InH: 7, InW: 7, Layers: []Layer{pw(96, 200, true, hswish), gap,
			pw(200, 1300, true, hswish), fc(r, "fc", 1300, 70, true, Act{})}}, []int{0, 2, 3}},
		// ... and an SE layer's two FCs (odd sizes: parts of uneven panels at 2 threads)
		{"se/1x1-7x7-se-1x1", &Net{InC: 40, InH: 7, InW: 7, Layers: []Layer{pw(40, 520, true, hswish),
			se(r, "se", 520, 136, hsig6, true), pw(520, 24, true, hswish)}}, []int{0, 2}},
		{"not/fc-over-pixels", &Net{InC: 8, InH: 3, InW: 3, Layers: []Layer{fc(r, "fc", 72, 10, true, Act{})}}, nil},
		{"not/1x1-stride2", &Net{InC: 16, InH: 5, InW: 5, Layers: []Layer{conv(r, "pw", 16, 16, 1, 1, 2, 2, [4]int{}, 1, true, hswish)}}, nil},
		{"not/3x3", &Net{InC: 16, InH: 3, InW: 3, Layers: []Layer{conv(r, "c", 16, 16, 3, 3, 1, 1, [4]int{1, 1, 1, 1}, 1, true, hswish)}}, nil},
		{"not/hardsigmoid", &Net{InC: 32, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 32, 10, true, hsig6)}}, nil},
		// weights over 1 MiB on few rows: the panels split at 2 threads (fc_split)
		{"1x1/7x7/768-720/hswish", &Net{InC: 768, InH: 7, InW: 7, Layers: []Layer{pw(768, 720, true, hswish)}}, []int{0}},
		{"1x1/5x5/600-700/relu", &Net{InC: 600, InH: 5, InW: 5, Layers: []Layer{pw(600, 700, true, relu)}}, []int{0}},
		{"1x1/14x14/48-40/relu", &Net{InC: 48, InH: 14, InW: 14, Layers: []Layer{pw(48, 40, true, relu)}}, []int{0}},
		{"dw+1x1/14x14", &Net{InC: 32, InH: 14, InW: 14, Layers: []Layer{
			conv(r, "dw", 32, 32, 5, 5, 1, 1, [4]int{2, 2, 2, 2}, 32, true, hswish), pw(32, 64, true, hswish)}}, []int{1}},
		{"not/289-pixels", &Net{InC: 16, InH: 17, InW: 17, Layers: []Layer{pw(16, 32, true, relu)}}, nil},
		{"not/scale-then-act", &Net{InC: 32, InH: 1, InW: 1, Layers: []Layer{fc(r, "fc", 32, 10, true, Act{}),
			{Kind: LayerScale, Factor: 0.5}, {Kind: LayerActivation, Act: relu}}}, nil},
	}
	checkKernelModes(t, cases, setFC32, "lcn_fc32")
	setFC32(1)
	checkPPLCNets(t, 96, 64, 1000, 0.25, 1)
}

// TestSE32 checks the lcn_se32 kernel (a squeeze-excite layer as one step),
// on and off, against the reference: channels on and off the 16-lane
// vectors, 1x1 to 14x14 maps, every gate it takes (hard sigmoids of both
// slopes, ReLU, none) with and without biases, whole batches of 3 (the
// split batch runs it image by image), 1 and 2 threads; a sigmoid gate stays
// with oneDNN.
func TestSE32(t *testing.T) {
	defer setSE32(-1)
	defer setSplit(1)
	r := rand.New(rand.NewPCG(5, 8))
	sigmoid := Act{Kind: ActSigmoid}
	cases := []struct {
		name string
		net  *Net
		ok   bool
	}{
		{"c512/r128/7x7/hsig6", &Net{InC: 512, InH: 7, InW: 7, Layers: []Layer{se(r, "se", 512, 128, hsig6, true)}}, true},
		{"c24/r8/3x5/hsig5", &Net{InC: 24, InH: 3, InW: 5, Layers: []Layer{se(r, "se", 24, 8, hsig5, true)}}, true},
		{"c37/r10/1x1/relu/nobias", &Net{InC: 37, InH: 1, InW: 1, Layers: []Layer{se(r, "se", 37, 10, relu, false)}}, true},
		{"c80/r20/14x14/none", &Net{InC: 80, InH: 14, InW: 14, Layers: []Layer{se(r, "se", 80, 20, Act{}, true)}}, true},
		{"c1280/r320/7x7/hsig6", &Net{InC: 1280, InH: 7, InW: 7, Layers: []Layer{se(r, "se", 1280, 320, hsig6, true)}}, true},
		{"conv+se+conv", &Net{InC: 16, InH: 6, InW: 6, Layers: []Layer{conv(r, "dw", 16, 16, 3, 3, 1, 1, [4]int{1, 1, 1, 1}, 16, true, hswish),
			se(r, "se", 16, 4, hsig6, true), conv(r, "pw", 16, 24, 1, 1, 1, 1, [4]int{}, 1, true, hswish)}}, true},
		{"not/sigmoid", &Net{InC: 32, InH: 4, InW: 4, Layers: []Layer{se(r, "se", 32, 8, sigmoid, true)}}, false},
	}
	for _, split := range []int{1, 0} {
		for _, mode := range []int{1, 0} {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("split=%d/mode=%d/%s", split, mode, tc.name), func(t *testing.T) {
					setSplit(split)
					setSE32(mode)
					checkNet(t, tc.net, 1, 1, 3)
					checkNet(t, tc.net, 2, 1, 3)
					impls := compiledImpls(t, tc.net)
					for i, l := range tc.net.Layers {
						if l.Kind != LayerSE {
							continue
						}
						want := mode == 1 && tc.ok && ownKernel("lcn_se32")
						if got := strings.HasPrefix(impls[i], "lcn_se32"); got != want {
							t.Errorf("layer %d impl %q, want the se32 kernel %v", i, impls[i], want)
						}
					}
				})
			}
		}
	}
}

// TestFC32PrefetchRanges checks the byte ranges the threads of an lcn_fc32
// step prefetch of a later kernel's weights (lcn_pf) against the parts that
// kernel's own run splits its panels into: inside the weights, whole lines,
// no line taken by two threads, together exactly the first bytes of each
// part; a prefetching step of as many threads as parts gives thread t part t.
func TestFC32PrefetchRanges(t *testing.T) {
	if fc32PrefetchRanges(16, 16, 1, 64, 0, 1) == nil {
		t.Skip("no lcn_fc32 kernel in this build")
	}
	for _, c := range []struct{ kin, n int }{{64, 64}, {100, 300}, {37, 1000}, {512, 1280}, {1280, 1000}, {8, 16}} {
		npad := (c.n + 15) / 16 * 16
		np := (npad + 63) / 64
		panel, total := uint64(4*c.kin*64), uint64(4*c.kin*npad)
		part := func(p, parts int) (uint64, uint64) {
			a, b := panel*uint64(np*p/parts), total
			if p+1 < parts {
				b = panel * uint64(np*(p+1)/parts)
			}
			return a, b
		}
		for _, parts := range []int{1, 2, 3} {
			for _, w := range []uint64{1 << 20, 4096, 65536, total, total + 4096, 0} {
				// the lines of each part's first w bytes
				want := map[uint64]bool{}
				for p := range parts {
					a, b := part(p, parts)
					for l := a; l < min(a+w, b); l += 64 {
						want[l] = true
					}
				}
				for _, nt := range []int{1, 2, 3} {
					name := fmt.Sprintf("%dx%d/parts=%d/bytes=%d/nt=%d", c.kin, c.n, parts, w, nt)
					got := map[uint64]int{}
					for th := range nt {
						rs := fc32PrefetchRanges(c.kin, c.n, parts, w, th, nt)
						for _, r := range rs {
							if r[0] >= r[1] || r[1] > total || r[0]%64 != 0 {
								t.Fatalf("%s: thread %d range %v outside the %d bytes of weights or not whole lines", name, th, r, total)
							}
							for l := r[0]; l < r[1]; l += 64 {
								got[l]++
							}
						}
						if parts == nt {
							a, b := part(th, parts)
							hi := min(a+w, b)
							if a < hi && (len(rs) != 1 || rs[0] != [2]uint64{a, hi}) {
								t.Fatalf("%s: thread %d prefetches %v, want its part's first bytes [%d, %d)", name, th, rs, a, hi)
							}
						}
					}
					for l, k := range got {
						if k > 1 || !want[l] {
							t.Fatalf("%s: line %d taken %d times (in a part's first bytes: %v)", name, l, k, want[l])
						}
					}
					if len(got) != len(want) {
						t.Fatalf("%s: %d lines prefetched, want %d", name, len(got), len(want))
					}
				}
			}
		}
	}
}
