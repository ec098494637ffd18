//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

const (
	actNone = 0
	actRelu = 1
	actHS   = 2
)

// dw8Data is one random problem: fp32 weights and biases, s8 input, scales.
type dw8Data struct {
	d      dw8Desc
	n      int
	w, b   []float32
	x      []int8
	sx, sy float32
}

func newDW8Data(d dw8Desc, n int, seed uint64) *dw8Data {
	r := rand.New(rand.NewPCG(seed, 7))
	p := &dw8Data{d: d, n: n, sx: 127 / 3.5}
	p.w = make([]float32, d.C*d.KH*d.KW)
	for i := range p.w {
		p.w[i] = float32(r.NormFloat64() * 0.3)
	}
	if d.C > 2 { // an all-zero channel (ws = 1) and a single-tap channel
		for t := 0; t < d.KH*d.KW; t++ {
			p.w[1*d.KH*d.KW+t] = 0
			if t != 0 {
				p.w[2*d.KH*d.KW+t] = 0
			}
		}
	}
	p.b = make([]float32, d.C)
	for i := range p.b {
		p.b[i] = float32(r.NormFloat64())
	}
	p.x = make([]int8, n*d.H*d.W*d.C)
	for i := range p.x {
		p.x[i] = int8(r.IntN(256) - 128)
	}
	// s_y so that ~10% of the outputs saturate
	v := p.real()
	a := make([]float64, len(v))
	for i := range v {
		a[i] = math.Abs(v[i])
	}
	slices.Sort(a)
	m := a[len(a)*9/10]
	if m == 0 {
		m = 1
	}
	p.sy = float32(127 / m)
	return p
}

// real is the independent float64 formula: act(acc/(s_x*ws[c]) + b[c]).
func (p *dw8Data) real() []float64 {
	d := p.d
	oh, ow := d.outShape()
	taps := d.KH * d.KW
	ws := make([]float32, d.C)
	wq := make([]int32, len(p.w))
	for c := 0; c < d.C; c++ {
		var m float32
		for t := 0; t < taps; t++ {
			m = max(m, float32(math.Abs(float64(p.w[c*taps+t]))))
		}
		ws[c] = 1
		if m > 0 {
			ws[c] = 127 / m
		}
		for t := 0; t < taps; t++ {
			q := math.RoundToEven(float64(float32(p.w[c*taps+t] * ws[c])))
			wq[c*taps+t] = int32(max(-128, min(127, q)))
		}
	}
	out := make([]float64, p.n*oh*ow*d.C)
	for i := 0; i < p.n; i++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < d.C; c++ {
					var acc int32
					for ky := 0; ky < d.KH; ky++ {
						iy := oy*d.SH - d.PT + ky
						if iy < 0 || iy >= d.H {
							continue
						}
						for kx := 0; kx < d.KW; kx++ {
							ix := ox*d.SW - d.PL + kx
							if ix < 0 || ix >= d.W {
								continue
							}
							acc += int32(p.x[((i*d.H+iy)*d.W+ix)*d.C+c]) * wq[(c*d.KH+ky)*d.KW+kx]
						}
					}
					v := float64(acc)/(float64(p.sx)*float64(ws[c])) + float64(p.b[c])
					switch d.Act {
					case actRelu:
						v = max(v, 0)
					case actHS:
						v = v * min(max(v/6+0.5, 0), 1)
					}
					out[((i*oh+oy)*ow+ox)*d.C+c] = v
				}
			}
		}
	}
	return out
}

// want returns the formula's outputs as the kernel would store them.
func (p *dw8Data) want() ([]int8, []float32) {
	v := p.real()
	if p.d.OutF32 {
		f := make([]float32, len(v))
		for i := range v {
			f[i] = float32(v[i])
		}
		return nil, f
	}
	q := make([]int8, len(v))
	for i := range v {
		q[i] = int8(max(-128, min(127, math.RoundToEven(v[i]*float64(p.sy)))))
	}
	return q, nil
}

func (p *dw8Data) outLen() int {
	oh, ow := p.d.outShape()
	return p.n * oh * ow * p.d.C
}

// runs the kernel (ref or SIMD) and returns s8 or f32 output
func (p *dw8Data) run(t testing.TB, k *dw8Kernel, ref bool) ([]int8, []float32) {
	n := p.outLen()
	var q []int8
	var f []float32
	var ptr unsafe.Pointer
	if p.d.OutF32 {
		f = make([]float32, n+16)
		for i := range f {
			f[i] = 12345
		}
		ptr = unsafe.Pointer(&f[0])
	} else {
		q = make([]int8, n+64)
		for i := range q {
			q[i] = 99
		}
		ptr = unsafe.Pointer(&q[0])
	}
	if ref {
		k.runRef(p.x, ptr, p.n)
	} else {
		k.run(p.x, ptr, p.n, p.d.Threads)
	}
	// nothing written past the end
	for i := n; i < len(q); i++ {
		if q[i] != 99 {
			t.Fatalf("wrote past the output at %d", i)
		}
	}
	for i := n; i < len(f); i++ {
		if f[i] != 12345 {
			t.Fatalf("wrote past the output at %d", i)
		}
	}
	if q != nil {
		q = q[:n]
	}
	if f != nil {
		f = f[:n]
	}
	return q, f
}

func dw8Cases() []dw8Desc {
	var ds []dw8Desc
	i := 0
	for _, k := range []int{3, 5} {
		for _, s := range [][2]int{{1, 1}, {2, 2}, {2, 1}} {
			for _, c := range []int{1, 15, 16, 17, 64, 100} {
				for _, act := range []int{actNone, actRelu, actHS} {
					i++
					d := dw8Desc{C: c, H: 9, W: 13, KH: k, KW: k, SH: s[0], SW: s[1],
						PT: k / 2, PL: k / 2, PB: k / 2, PR: k / 2, Act: act, OutF32: i%2 == 0, Threads: 1}
					switch i % 5 {
					case 1:
						d.H, d.W = 14, 7
					case 2: // asymmetric pads (as oneDNN / Paddle SAME)
						d.PT, d.PL, d.PB, d.PR = 0, 1, k/2+1, 0
					case 3:
						d.H, d.W = 11, 29
						d.Threads = 2
					case 4: // no padding
						d.PT, d.PL, d.PB, d.PR = 0, 0, 0, 0
					}
					ds = append(ds, d)
				}
			}
		}
	}
	// other kernel shapes take the generic path
	ds = append(ds,
		dw8Desc{C: 20, H: 10, W: 12, KH: 1, KW: 7, SH: 1, SW: 1, PL: 3, PR: 3, Act: actHS},
		dw8Desc{C: 33, H: 10, W: 12, KH: 7, KW: 3, SH: 1, SW: 3, PT: 3, PB: 3, PL: 1, PR: 1, Act: actRelu},
		dw8Desc{C: 16, H: 8, W: 9, KH: 9, KW: 9, SH: 1, SW: 1, PT: 4, PB: 4, PL: 4, PR: 4, Act: actNone, OutF32: true},
		dw8Desc{C: 48, H: 28, W: 28, KH: 3, KW: 3, SH: 1, SW: 1, PT: 1, PB: 1, PL: 1, PR: 1, Act: actHS, Threads: 2},
	)
	return ds
}

func (d dw8Desc) String() string {
	out := "s8"
	if d.OutF32 {
		out = "f32"
	}
	return fmt.Sprintf("c%d_%dx%d_k%dx%d_s%dx%d_p%d%d%d%d_a%d_%s_t%d", d.C, d.H, d.W, d.KH, d.KW, d.SH, d.SW,
		d.PT, d.PL, d.PB, d.PR, d.Act, out, d.Threads)
}

func TestDW8(t *testing.T) {
	if dw8ISA() != "avx512_vnni" {
		t.Logf("no AVX-512 VNNI: only the scalar kernel is tested (isa %q)", dw8ISA())
	}
	int8OK, why := Int8Supported()
	if !int8OK {
		t.Logf("oneDNN's int8 depthwise not compared: %s", why)
	}
	totalS8, diffGo, diffDNNL := 0, 0, 0
	for ci, d := range dw8Cases() {
		n := 1 + ci%2
		t.Run(fmt.Sprintf("%s_n%d", d, n), func(t *testing.T) {
			p := newDW8Data(d, n, uint64(ci))
			k, err := newDW8(d, p.w, p.b, p.sx, p.sy)
			if err != nil {
				t.Fatal(err)
			}
			defer k.close()
			rq, rf := p.run(t, k, true)
			sq, sf := p.run(t, k, false)
			// SIMD == scalar, bit for bit
			for i := range rq {
				if rq[i] != sq[i] {
					t.Fatalf("s8 %d: simd %d, ref %d", i, sq[i], rq[i])
				}
			}
			for i := range rf {
				if math.Float32bits(rf[i]) != math.Float32bits(sf[i]) && rf[i] != sf[i] {
					t.Fatalf("f32 %d: simd %g, ref %g", i, sf[i], rf[i])
				}
			}
			// scalar == independent formula (float64): off by one at most in s8
			wq, wf := p.want()
			nd := 0
			for i := range wq {
				if e := int(rq[i]) - int(wq[i]); e != 0 {
					if e < -1 || e > 1 {
						t.Fatalf("s8 %d: ref %d, formula %d", i, rq[i], wq[i])
					}
					nd++
				}
			}
			if nd > len(wq)/200+1 {
				t.Errorf("%d of %d s8 outputs differ from the formula by one", nd, len(wq))
			}
			for i := range wf {
				if math.Abs(float64(rf[i]-wf[i])) > 1e-5*(1+math.Abs(float64(wf[i]))) {
					t.Fatalf("f32 %d: ref %g, formula %g", i, rf[i], wf[i])
				}
			}
			// oneDNN's int8 depthwise on the same data, where the engine
			// runs int8 at all (with VNNI: without it oneDNN's int8 kernels
			// are not used, and its AVX2 one differs by more than a step)
			if !int8OK {
				return
			}
			h, err := newDW8DNNL(d, n, p.w, p.b, p.sx, p.sy)
			if err != nil {
				t.Fatal(err)
			}
			defer h.close()
			if d.OutF32 {
				of := make([]float32, len(rf))
				if err := h.run(p.x, unsafe.Pointer(&of[0])); err != nil {
					t.Fatal(err)
				}
				for i := range of {
					if math.Abs(float64(rf[i]-of[i])) > 1e-5*(1+math.Abs(float64(of[i]))) {
						t.Fatalf("f32 %d: ref %g, oneDNN %g", i, rf[i], of[i])
					}
				}
			} else {
				oq := make([]int8, len(rq))
				if err := h.run(p.x, unsafe.Pointer(&oq[0])); err != nil {
					t.Fatal(err)
				}
				no := 0
				for i := range oq {
					if e := int(rq[i]) - int(oq[i]); e != 0 {
						if e < -1 || e > 1 {
							t.Fatalf("s8 %d: ref %d, oneDNN %d (%s)", i, rq[i], oq[i], h.impl())
						}
						no++
					}
				}
				if no > len(oq)/200+1 {
					t.Errorf("%d of %d s8 outputs differ from oneDNN by one", no, len(oq))
				}
				totalS8 += len(oq)
				diffDNNL += no
				diffGo += nd
			}
		})
	}
	t.Logf("s8 outputs: %d; off by one vs the float64 formula: %d, vs oneDNN int8: %d", totalS8, diffGo, diffDNNL)
}

// TestDW8Fallback checks the scalar path through lcn_dw8_run (forced).
func TestDW8Fallback(t *testing.T) {
	d := dw8Desc{C: 17, H: 9, W: 11, KH: 3, KW: 3, SH: 2, SW: 1, PT: 1, PL: 1, PB: 1, PR: 1, Act: actHS, Threads: 1}
	p := newDW8Data(d, 1, 99)
	k, err := newDW8(d, p.w, p.b, p.sx, p.sy)
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	dw8ForceRef(true)
	if dw8ISA() != "ref" {
		t.Fatalf("forced isa %q", dw8ISA())
	}
	q, _ := p.run(t, k, false)
	dw8ForceRef(false)
	rq, _ := p.run(t, k, true)
	if !slices.Equal(q, rq) {
		t.Fatal("forced fallback differs from the reference")
	}
}

func TestDW8Invalid(t *testing.T) {
	w := make([]float32, 9*4)
	good := dw8Desc{C: 4, H: 5, W: 5, KH: 3, KW: 3, SH: 1, SW: 1, Threads: 1}
	for _, d := range []dw8Desc{
		{C: 0, H: 5, W: 5, KH: 3, KW: 3, SH: 1, SW: 1, Threads: 1},
		{C: 4, H: 2, W: 5, KH: 3, KW: 3, SH: 1, SW: 1, Threads: 1},
		{C: 4, H: 5, W: 5, KH: 3, KW: 3, SH: 0, SW: 1, Threads: 1},
		{C: 4, H: 5, W: 5, KH: 3, KW: 3, SH: 1, SW: 1, Threads: 1, Act: 4},
	} {
		if _, err := newDW8(d, w, nil, 1, 1); err == nil {
			t.Errorf("%v: no error", d)
		}
	}
	if _, err := newDW8(good, w, nil, 0, 1); err == nil {
		t.Error("zero scale: no error")
	}
	k, err := newDW8(good, w, nil, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	k.close()
}

// TestInt8DW8MatchesDNNL compiles int8 chains of one depthwise conv each
// twice, with lcn_dw8 and with oneDNN's int8 depthwise (LCNET_NO_DW8=1), and
// compares: the dequantized outputs may differ by one quantization step
// (rounding of v near .5) and rarely do.
func TestInt8DW8MatchesDNNL(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	if dw8ISA() != "avx512_vnni" {
		t.Skip("lcn_dw8 is only used with AVX-512 VNNI")
	}
	r := rand.New(rand.NewPCG(5, 6))
	rnd := func(n int, s float32) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = (r.Float32()*2 - 1) * s
		}
		return w
	}
	type tc struct {
		c, h, w, k, sh, sw int
		act                ActKind
		fp32Next           bool // an fp32 layer follows: the dw writes fp32
	}
	diff, total := 0, 0
	for _, c := range []tc{
		{16, 23, 21, 3, 1, 1, ActHardSwish, false},
		{32, 20, 19, 3, 2, 2, ActHardSwish, false},
		{17, 9, 30, 3, 2, 1, ActReLU, false},
		{64, 14, 14, 5, 1, 1, ActHardSwish, false},
		{40, 14, 13, 5, 2, 2, ActNone, false},
		{24, 11, 11, 3, 1, 1, ActHardSwish, true},
	} {
		layers := []Layer{{Kind: LayerConv, Name: "dw", OutC: c.c, KH: c.k, KW: c.k, StrideH: c.sh, StrideW: c.sw,
			PadTop: c.k / 2, PadLeft: c.k / 2, PadBottom: c.k / 2, PadRight: c.k / 2, Groups: c.c,
			Weight: rnd(c.c*c.k*c.k, 0.5), Bias: rnd(c.c, 0.3), Act: Act{Kind: c.act}}}
		var fp []bool
		if c.fp32Next {
			layers = append(layers, Layer{Kind: LayerConv, Name: "pw", OutC: 8, KH: 1, KW: 1, Weight: rnd(8*c.c, 0.3)})
			fp = []bool{false, true}
		}
		const batch = 2
		in := make([]float32, batch*c.c*c.h*c.w)
		for i := range in {
			in[i] = r.Float32()*4 - 2
		}
		// NoTuning: lcn_dw8 whenever it applies (with tuning, oneDNN's
		// kernel may win the timing on small shapes)
		q := &Int8Net{InC: c.c, InH: c.h, InW: c.w, InScale: 127 / maxAbs(in), Layers: layers, FP32: fp, NoTuning: true}
		calibrate(t, q, in)
		run := func(noDW8 string) ([]float32, []string) {
			t.Setenv("LCNET_NO_DW8", noDW8)
			return runInt8(t, q, Options{}, in, batch)
		}
		a, ia := run("")
		b, ib := run("1")
		if !strings.HasPrefix(ia[0], "lcn_dw8:") || strings.Contains(ib[0], "lcn_dw8") {
			t.Fatalf("%+v: impls %q with lcn_dw8, %q without", c, ia[0], ib[0])
		}
		// one output step of the dw layer (or, with an fp32 layer after
		// it, a bound from the fp32 path)
		step := 1 / float64(q.OutScales[0])
		lim := 1.001 * step
		if c.fp32Next {
			lim = 1e-3 * float64(maxAbs(b))
		}
		nd := 0
		for i := range a {
			e := math.Abs(float64(a[i] - b[i]))
			if e > lim {
				t.Fatalf("%+v: output %d: lcn_dw8 %g, oneDNN %g (limit %g)", c, i, a[i], b[i], lim)
			}
			if e > 1e-6*step {
				nd++
			}
		}
		if !c.fp32Next {
			diff += nd
			total += len(a)
			if nd > len(a)/100+1 {
				t.Errorf("%+v: %d of %d outputs differ by a step", c, nd, len(a))
			}
		}
	}
	t.Logf("s8 chains: %d of %d outputs differ by one step between lcn_dw8 and oneDNN", diff, total)
}
