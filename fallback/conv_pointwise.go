package fallback

import (
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/prefault"
)

// GEMM for 1×1 convolutions and fully connected layers.
//
// C[m, n] = act(sum_k A[m, k] · B[k, n] + bias[n]), all row-major. A is the
// channels-last activation (one row per pixel, all pixels of the batch), B
// the weights, packed once at Compile into panels of nr columns: panel j
// holds B[0..K-1][j·nr .. j·nr+nr-1] contiguously, zero-padded past N. The
// micro-kernel keeps an mr×nr block of C in local variables (registers)
// across the whole K loop; rows of A are processed in chunks that stay in
// L2 while every B panel streams past them.

const (
	mr = 3 // micro-tile rows (pixels)
	nr = 3 // micro-tile columns (output channels), panel width
)

// The scalar micro-tile is 3×3: nine accumulators, three B values and one
// A value fit the 15 float registers Go's amd64 ABI leaves free, so nothing
// spills. Measured on the whole micro-kernel (K=256, hot cache, 2.3 GHz
// Xeon): 3×3 runs 1.4 GMAC/s with the default GOAMD64=v1 (separate MULSS
// and ADDSS) and 5.4 GMAC/s with GOAMD64=v3 (fused VFMADD231SS); 4×4 spills
// and runs 1.0 and 1.5.

// packedB is a weight matrix packed for gemm.
type packedB struct {
	k, n   int
	width  int // panel width: nr for the scalar kernel, a vector register for SIMD
	isa    isa
	panels int
	data   []float32 // panels × k × width
	bias   []float32 // n rounded up to whole panels; zero when the layer has none
}

// packB packs w, given as [n][k] (output-major, as conv and FC weights are
// stored), with an optional bias of n values, for the kernel set s.
func packB(w []float32, n, k int, bias []float32, s isa) *packedB {
	width := s.panelWidth()
	p := &packedB{k: k, n: n, width: width, isa: s, panels: (n + width - 1) / width}
	p.data = prefault.Slice(make([]float32, p.panels*k*width))
	p.bias = make([]float32, p.panels*width)
	copy(p.bias, bias)
	for j := range n {
		panel, col := j/width, j%width
		dst := p.data[panel*k*width:]
		row := w[j*k : (j+1)*k]
		for kk, v := range row {
			dst[kk*width+col] = v
		}
	}
	return p
}

// gemm computes C = act(A·B + bias) for m rows; a holds m×k floats, c m×n.
func gemm(m int, a []float32, b *packedB, c []float32, act graph.Activation) {
	if len(a) < m*b.k || len(c) < m*b.n {
		panic("fallback: gemm operands too short")
	}
	if b.isa != isaGo {
		gemmSIMD(m, a, b, c, act)
		return
	}
	gemmScalar(m, a, b, c, act)
}

// gemmScalar is gemm with the pure-Go micro-kernel.
func gemmScalar(m int, a []float32, b *packedB, c []float32, act graph.Activation) {
	k, n := b.k, b.n
	// Rows per chunk: keep the chunk of A in about 128 KiB of L2.
	mc := max(mr, (32768/k)/mr*mr)
	for i0 := 0; i0 < m; i0 += mc {
		i1 := min(i0+mc, m)
		for jp := range b.panels {
			j0 := jp * nr
			panel := b.data[jp*k*nr : (jp+1)*k*nr]
			bias := b.bias[j0 : j0+nr]
			cols := min(nr, n-j0)
			i := i0
			for ; i+mr <= i1; i += mr {
				kernel3x3(a[i*k:(i+mr)*k], k, panel, bias, c[i*n+j0:], n, cols)
			}
			for ; i < i1; i++ {
				kernel1x3(a[i*k:(i+1)*k], panel, bias, c[i*n+j0:], cols)
			}
		}
		applyAct(act, c[i0*n:i1*n])
	}
}

// kernel3x3 computes a 3×3 block of C: rows a[0:k], a[k:2k], a[2k:3k]
// times the panel, plus bias, stored into the first cols columns of three
// rows of c (row stride ldc).
func kernel3x3(a []float32, k int, panel, bias []float32, c []float32, ldc, cols int) {
	a0 := a[0:k]
	a1 := a[k : 2*k]
	a2 := a[2*k : 3*k]
	a1, a2 = a1[:len(a0)], a2[:len(a0)]
	panel = panel[:len(a0)*nr]
	var c00, c01, c02 float32
	var c10, c11, c12 float32
	var c20, c21, c22 float32
	for p := range a0 {
		bb := panel[p*nr : p*nr+nr : p*nr+nr]
		b0, b1, b2 := bb[0], bb[1], bb[2]
		x := a0[p]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		x = a1[p]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		x = a2[p]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
	}
	bias = bias[:nr]
	if cols == nr {
		r := c[0:nr:nr]
		r[0], r[1], r[2] = c00+bias[0], c01+bias[1], c02+bias[2]
		r = c[ldc : ldc+nr : ldc+nr]
		r[0], r[1], r[2] = c10+bias[0], c11+bias[1], c12+bias[2]
		r = c[2*ldc : 2*ldc+nr : 2*ldc+nr]
		r[0], r[1], r[2] = c20+bias[0], c21+bias[1], c22+bias[2]
		return
	}
	t := [mr][nr]float32{
		{c00 + bias[0], c01 + bias[1], c02 + bias[2]},
		{c10 + bias[0], c11 + bias[1], c12 + bias[2]},
		{c20 + bias[0], c21 + bias[1], c22 + bias[2]},
	}
	for r := range mr {
		copy(c[r*ldc:r*ldc+cols], t[r][:cols])
	}
}

// kernel1x3 is kernel3x3 for a single row.
func kernel1x3(a []float32, panel, bias []float32, c []float32, cols int) {
	panel = panel[:len(a)*nr]
	var c0, c1, c2 float32
	for p, x := range a {
		bb := panel[p*nr : p*nr+nr : p*nr+nr]
		c0 += x * bb[0]
		c1 += x * bb[1]
		c2 += x * bb[2]
	}
	bias = bias[:nr]
	t := [nr]float32{c0 + bias[0], c1 + bias[1], c2 + bias[2]}
	copy(c[:cols], t[:cols])
}

// pointwise is a 1×1 convolution without stride or padding: one GEMM over
// all pixels of the batch.
type pointwise struct {
	s   int // pixels per sample
	b   *packedB
	act graph.Activation
}

func newPointwise(c *graph.Conv2D, in []int) *pointwise {
	var bias []float32
	if c.Bias != nil {
		bias = c.Bias.Data
	}
	return &pointwise{s: in[1] * in[2], b: packB(c.Weight.Data, c.OutC, c.InC, bias, useISA), act: c.Act}
}

func (k *pointwise) run(y, x, _ []float32, batch int, _ []float32) {
	gemm(batch*k.s, x, k.b, y, k.act)
}
func (*pointwise) scratch() int  { return 0 }
func (*pointwise) inPlace() bool { return false }
