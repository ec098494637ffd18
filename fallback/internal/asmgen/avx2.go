package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// AVX2+FMA versions of the kernels for CPUs without AVX-512: 16 YMM
// registers of 8 floats, no opmask registers (column and channel tails use
// VMASKMOVPS with mask vectors the caller points at), no embedded
// broadcasts. Constants (0 and 1 vectors) come from the caller too.

// Tile sizes of the AVX2 kernels; they must match simd_amd64.go.
const (
	mrY    = 6 // rows per GEMM micro-tile: 12 accumulators + 2 B + 1 A
	lanesY = 8
)

// applyActY emits the activation on YMM regs using one temporary; zero and
// one are 8-float vectors at consts and consts+32.
func applyActY(regs []VecVirtual, label string) {
	kind := GP64()
	Load(Param("act"), kind)
	consts := GP64()
	Load(Param("consts"), consts)
	zero, one := Mem{Base: consts}, Mem{Base: consts, Disp: 32}
	done := label + "_done"
	CMPQ(kind, U8(actNone))
	JEQ(LabelRef(done))
	CMPQ(kind, U8(actReLU))
	JNE(LabelRef(label + "_hard"))
	for _, z := range regs {
		VMAXPS(zero, z, z)
	}
	JMP(LabelRef(done))
	Label(label + "_hard")
	slope, offset, t := YMM(), YMM(), YMM()
	VBROADCASTSS(paramAddr("slope"), slope)
	VBROADCASTSS(paramAddr("offset"), offset)
	CMPQ(kind, U8(actHardSwish))
	JNE(LabelRef(label + "_hsig"))
	for _, z := range regs {
		VMOVAPS(z, t)
		VFMADD213PS(offset, slope, t)
		VMAXPS(zero, t, t)
		VMINPS(one, t, t)
		VMULPS(t, z, z)
	}
	JMP(LabelRef(done))
	Label(label + "_hsig")
	for _, z := range regs {
		VFMADD213PS(offset, slope, z)
		VMAXPS(zero, z, z)
		VMINPS(one, z, z)
	}
	Label(done)
}

// gemmTileY emits gemmY<nv>x<rows>, the AVX2 twin of gemmTile: panels are
// 8 columns wide, m0 and m1 point at the column masks of the two panels.
func gemmTileY(nv, rows int) {
	name := fmt.Sprintf("gemmY%dx%d", nv, rows)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, m0, m1 *int32, flags int, consts *float32, act int, slope, offset float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of C = act(A·B + bias) with AVX2.", name, rows, nv*lanesY))
	acc := make([][]VecVirtual, rows)
	for r := range acc {
		acc[r] = make([]VecVirtual, nv)
		for v := range nv {
			acc[r][v] = YMM()
		}
	}
	masks := func() []VecVirtual {
		ms := make([]VecVirtual, nv)
		for v, p := range []string{"m0", "m1"}[:nv] {
			ptr := GP64()
			Load(Param(p), ptr)
			ms[v] = YMM()
			VMOVUPS(Mem{Base: ptr}, ms[v])
		}
		return ms
	}
	flags := GP64()
	Load(Param("flags"), flags)
	TESTQ(U32(1), flags)
	JNZ(LabelRef(name + "_loadc"))
	{
		bias := GP64()
		Load(Param("bias"), bias)
		for r := range acc {
			for v := range nv {
				VMOVUPS(Mem{Base: bias, Disp: 4 * lanesY * v}, acc[r][v])
			}
		}
	}
	JMP(LabelRef(name + "_start"))
	Label(name + "_loadc")
	{
		ms := masks()
		c := GP64()
		Load(Param("c"), c)
		ldc := GP64()
		Load(Param("ldc"), ldc)
		SHLQ(U8(2), ldc)
		for r := range rows {
			for v := range nv {
				VMASKMOVPS(Mem{Base: c, Disp: 4 * lanesY * v}, ms[v], acc[r][v])
			}
			if r+1 < rows {
				ADDQ(ldc, c)
			}
		}
	}
	Label(name + "_start")
	k := GP64()
	Load(Param("k"), k)
	lda := GP64()
	Load(Param("lda"), lda)
	SHLQ(U8(2), lda)
	// Rows 0-2 from base0, rows 3-5 from base1.
	base0 := GP64()
	Load(Param("a"), base0)
	base1 := GP64()
	LEAQ(Mem{Base: base0, Index: lda, Scale: 2}, base1)
	ADDQ(lda, base1)
	rowAddr := func(r int) Mem {
		b := base0
		if r >= 3 {
			b = base1
		}
		switch r % 3 {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: lda, Scale: 1}
		}
		return Mem{Base: b, Index: lda, Scale: 2}
	}
	b := GP64()
	Load(Param("b"), b)
	ps := GP64()
	Load(Param("pstride"), ps)
	SHLQ(U8(2), ps)
	bv := make([]VecVirtual, nv)
	for v := range nv {
		bv[v] = YMM()
	}
	t := YMM()
	Label(name + "_loop")
	VMOVUPS(Mem{Base: b}, bv[0])
	if nv == 2 {
		VMOVUPS(Mem{Base: b, Index: ps, Scale: 1}, bv[1])
	}
	for r := range rows {
		VBROADCASTSS(rowAddr(r), t)
		for v := range nv {
			VFMADD231PS(t, bv[v], acc[r][v])
		}
	}
	ADDQ(U8(4), base0)
	if rows > 3 {
		ADDQ(U8(4), base1)
	}
	ADDQ(U8(4*lanesY), b)
	DECQ(k)
	JNZ(LabelRef(name + "_loop"))

	var all []VecVirtual
	for r := range rows {
		all = append(all, acc[r]...)
	}
	applyActY(all, name+"_act")

	ms := masks()
	c := GP64()
	Load(Param("c"), c)
	ldc := GP64()
	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	for r := range rows {
		for v := range nv {
			VMASKMOVPS(acc[r][v], ms[v], Mem{Base: c, Disp: 4 * lanesY * v})
		}
		if r+1 < rows {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// The depthwise argument block (see depthwiseRow): channels, pixels,
// kernel rows, kernel columns, x steps between pixels, kernel rows and
// kernel columns, (unused tail), w step between kernel rows.
const (
	dC = iota
	dOW
	dKH
	dKW
	dXStep
	dRowStride
	dTapStep
	dTail
	dWRow
)

// dwBlockY emits the AVX2 computation of n pixels at pixel o, channels
// [cb, cb+8): full blocks use memory-operand FMAs, the tail block (masked)
// loads through VMASKMOVPS so nothing past the channels is read.
func dwBlockY(pp, o, cb GPVirtual, n int, masked bool, label string) {
	ld := func(field int) GPVirtual {
		r := GP64()
		MOVQ(Mem{Base: pp, Disp: 8 * field}, r)
		return r
	}
	var mask VecVirtual
	if masked {
		mp := GP64()
		Load(Param("tail"), mp)
		mask = YMM()
		VMOVUPS(Mem{Base: mp}, mask)
	}
	load := func(m Mem, dst VecVirtual) {
		if masked {
			VMASKMOVPS(m, mask, dst)
		} else {
			VMOVUPS(m, dst)
		}
	}
	accs := make([]VecVirtual, n)
	bias := GP64()
	Load(Param("bias"), bias)
	for i := range accs {
		accs[i] = YMM()
		load(Mem{Base: bias, Index: cb, Scale: 4}, accs[i])
	}
	xr := GP64()
	MOVQ(o, xr)
	IMULQ(Mem{Base: pp, Disp: 8 * dXStep}, xr)
	ADDQ(cb, xr)
	x0 := GP64()
	Load(Param("x"), x0)
	LEAQ(Mem{Base: x0, Index: xr, Scale: 4}, xr)
	wr := GP64()
	Load(Param("w"), wr)
	LEAQ(Mem{Base: wr, Index: cb, Scale: 4}, wr)
	xstep := ld(dXStep)
	SHLQ(U8(2), xstep)
	xstep3 := GP64()
	LEAQ(Mem{Base: xstep, Index: xstep, Scale: 2}, xstep3)
	tapStep := ld(dTapStep)
	SHLQ(U8(2), tapStep)
	c4 := ld(dC)
	SHLQ(U8(2), c4)
	nb := (n + 3) / 4
	pixAddr := func(bases []GPVirtual, q int) Mem {
		b := bases[q/4]
		switch q % 4 {
		case 0:
			return Mem{Base: b}
		case 1:
			return Mem{Base: b, Index: xstep, Scale: 1}
		case 2:
			return Mem{Base: b, Index: xstep, Scale: 2}
		}
		return Mem{Base: b, Index: xstep3, Scale: 1}
	}
	i := ld(dKH)
	Label(label + "_kh")
	bases := make([]GPVirtual, nb)
	bases[0] = GP64()
	MOVQ(xr, bases[0])
	for q := 1; q < nb; q++ {
		bases[q] = GP64()
		LEAQ(Mem{Base: bases[q-1], Index: xstep, Scale: 4}, bases[q])
	}
	wp := GP64()
	MOVQ(wr, wp)
	j := ld(dKW)
	Label(label + "_kw")
	wv := YMM()
	load(Mem{Base: wp}, wv)
	var xv VecVirtual
	if masked {
		xv = YMM()
	}
	for q := range n {
		if masked {
			VMASKMOVPS(pixAddr(bases, q), mask, xv)
			VFMADD231PS(xv, wv, accs[q])
		} else {
			VFMADD231PS(pixAddr(bases, q), wv, accs[q])
		}
	}
	ADDQ(c4, wp)
	for _, b := range bases {
		ADDQ(tapStep, b)
	}
	DECQ(j)
	JNZ(LabelRef(label + "_kw"))
	rs := ld(dRowStride)
	LEAQ(Mem{Base: xr, Index: rs, Scale: 4}, xr)
	wrs := ld(dWRow)
	LEAQ(Mem{Base: wr, Index: wrs, Scale: 4}, wr)
	DECQ(i)
	JNZ(LabelRef(label + "_kh"))

	applyActY(accs, label+"_act")
	yp := GP64()
	MOVQ(o, yp)
	IMULQ(Mem{Base: pp, Disp: 8 * dC}, yp)
	ADDQ(cb, yp)
	y0 := GP64()
	Load(Param("y"), y0)
	LEAQ(Mem{Base: y0, Index: yp, Scale: 4}, yp)
	c4b := ld(dC)
	SHLQ(U8(2), c4b)
	if masked {
		mp := GP64()
		Load(Param("tail"), mp)
		VMOVUPS(Mem{Base: mp}, mask)
	}
	for q := range n {
		if masked {
			VMASKMOVPS(accs[q], mask, Mem{Base: yp})
		} else {
			VMOVUPS(accs[q], Mem{Base: yp})
		}
		if q+1 < n {
			ADDQ(c4b, yp)
		}
	}
}

// depthwiseRowY emits dwRowY, the AVX2 twin of dwRow: ow (a multiple of
// four) pixels in blocks of eight then four, every channel block of a
// pixel block in turn; tail points at the mask of the last channel block.
func depthwiseRowY() {
	TEXT("dwRowY", NOSPLIT, "func(x *float32, w *float32, bias *float32, y *float32, p *[9]int, tail *int32, consts *float32, act int, slope, offset float32)")
	Pragma("noescape")
	Doc("dwRowY computes output pixels of a depthwise convolution with AVX2; see depthwise.runSIMD.")
	pp := GP64()
	Load(Param("p"), pp)
	o, cb := GP64(), GP64()
	XORQ(o, o)
	for _, n := range []int{8, 4} {
		top, next := fmt.Sprintf("dwy_block%d", n), fmt.Sprintf("dwy_after%d", n)
		Label(top)
		t := GP64()
		MOVQ(o, t)
		ADDQ(U8(n), t)
		CMPQ(t, Mem{Base: pp, Disp: 8 * dOW})
		JGT(LabelRef(next))
		XORQ(cb, cb)
		Label(top + "_c")
		// Full channel blocks while cb+8 <= c.
		t2 := GP64()
		MOVQ(cb, t2)
		ADDQ(U8(lanesY), t2)
		CMPQ(t2, Mem{Base: pp, Disp: 8 * dC})
		JGT(LabelRef(top + "_tail"))
		dwBlockY(pp, o, cb, n, false, fmt.Sprintf("dwy_f%d", n))
		ADDQ(U8(lanesY), cb)
		JMP(LabelRef(top + "_c"))
		Label(top + "_tail")
		CMPQ(cb, Mem{Base: pp, Disp: 8 * dC})
		JGE(LabelRef(top + "_cdone"))
		dwBlockY(pp, o, cb, n, true, fmt.Sprintf("dwy_m%d", n))
		Label(top + "_cdone")
		ADDQ(U8(n), o)
		JMP(LabelRef(top))
		Label(next)
	}
	VZEROUPPER()
	RET()
}

// depthwisePixelY emits dwPixelY, the AVX2 twin of dwPixel: one pixel,
// four channel blocks side by side while they last, then one block at a
// time (the last masked).
func depthwisePixelY() {
	TEXT("dwPixelY", NOSPLIT, "func(x *float32, w *float32, bias *float32, y *float32, p *[9]int, tail *int32, consts *float32, act int, slope, offset float32)")
	Pragma("noescape")
	Doc("dwPixelY computes one output pixel of a depthwise convolution with AVX2; see depthwise.runSIMD.")
	pp := GP64()
	Load(Param("p"), pp)
	ld := func(field int) GPVirtual {
		r := GP64()
		MOVQ(Mem{Base: pp, Disp: 8 * field}, r)
		return r
	}
	cb := GP64()
	XORQ(cb, cb)
	block := func(nb int, masked bool, label string) {
		var mask VecVirtual
		if masked {
			mp := GP64()
			Load(Param("tail"), mp)
			mask = YMM()
			VMOVUPS(Mem{Base: mp}, mask)
		}
		load := func(m Mem, dst VecVirtual) {
			if masked {
				VMASKMOVPS(m, mask, dst)
			} else {
				VMOVUPS(m, dst)
			}
		}
		accs := make([]VecVirtual, nb)
		bias := GP64()
		Load(Param("bias"), bias)
		for i := range accs {
			accs[i] = YMM()
			load(Mem{Base: bias, Index: cb, Scale: 4, Disp: 32 * i}, accs[i])
		}
		xr := GP64()
		Load(Param("x"), xr)
		LEAQ(Mem{Base: xr, Index: cb, Scale: 4}, xr)
		wr := GP64()
		Load(Param("w"), wr)
		LEAQ(Mem{Base: wr, Index: cb, Scale: 4}, wr)
		tapStep := ld(dTapStep)
		SHLQ(U8(2), tapStep)
		c4 := ld(dC)
		SHLQ(U8(2), c4)
		i := ld(dKH)
		Label(label + "_kh")
		xt, wp := GP64(), GP64()
		MOVQ(xr, xt)
		MOVQ(wr, wp)
		j := ld(dKW)
		Label(label + "_kw")
		for q := range nb {
			wv := YMM()
			load(Mem{Base: wp, Disp: 32 * q}, wv)
			if masked {
				xv := YMM()
				VMASKMOVPS(Mem{Base: xt, Disp: 32 * q}, mask, xv)
				VFMADD231PS(xv, wv, accs[q])
			} else {
				VFMADD231PS(Mem{Base: xt, Disp: 32 * q}, wv, accs[q])
			}
		}
		ADDQ(c4, wp)
		ADDQ(tapStep, xt)
		DECQ(j)
		JNZ(LabelRef(label + "_kw"))
		rs := ld(dRowStride)
		LEAQ(Mem{Base: xr, Index: rs, Scale: 4}, xr)
		wrs := ld(dWRow)
		LEAQ(Mem{Base: wr, Index: wrs, Scale: 4}, wr)
		DECQ(i)
		JNZ(LabelRef(label + "_kh"))
		applyActY(accs, label+"_act")
		y := GP64()
		Load(Param("y"), y)
		if masked {
			mp := GP64()
			Load(Param("tail"), mp)
			VMOVUPS(Mem{Base: mp}, mask)
		}
		for q := range nb {
			if masked {
				VMASKMOVPS(accs[q], mask, Mem{Base: y, Index: cb, Scale: 4, Disp: 32 * q})
			} else {
				VMOVUPS(accs[q], Mem{Base: y, Index: cb, Scale: 4, Disp: 32 * q})
			}
		}
	}
	for _, step := range []struct {
		nb    int
		label string
	}{{4, "dwpy_w"}, {1, "dwpy_n"}} {
		Label(step.label + "_top")
		t := GP64()
		MOVQ(cb, t)
		ADDQ(U8(step.nb*lanesY), t)
		CMPQ(t, Mem{Base: pp, Disp: 8 * dC})
		JGT(LabelRef(step.label + "_end"))
		block(step.nb, false, step.label)
		ADDQ(U8(step.nb*lanesY), cb)
		JMP(LabelRef(step.label + "_top"))
		Label(step.label + "_end")
	}
	CMPQ(cb, Mem{Base: pp, Disp: 8 * dC})
	JGE(LabelRef("dwpy_done"))
	block(1, true, "dwpy_m")
	Label("dwpy_done")
	VZEROUPPER()
	RET()
}
