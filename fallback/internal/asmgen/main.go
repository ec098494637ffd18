// Command asmgen generates fallback's AVX-512 and AVX2 kernels with avo:
//
//	cd fallback/internal/asmgen && go run . -out ../../simd_amd64.s -stubs ../../simd_amd64_stub.go -pkg fallback
//
// (go generate ./fallback runs exactly that). The output is amd64-only and
// excluded by the noasm build tag; the pure-Go kernels remain the reference
// and are cross-checked against these in fallback's tests.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Tile sizes; they must match simd_amd64.go.
const (
	mr    = 12 // rows (pixels) per GEMM micro-tile
	lanes = 16 // float32 lanes of a ZMM register
)

// Activation codes passed to the kernels; they must match simd_amd64.go.
const (
	actNone        = 0
	actReLU        = 1
	actHardSwish   = 2
	actHardSigmoid = 3
)

func main() {
	ConstraintExpr("!noasm")
	cpuid()
	for nv := 1; nv <= 2; nv++ {
		for rows := 1; rows <= mr; rows++ {
			gemmTile(nv, rows)
		}
	}
	depthwiseRow()
	depthwisePixel()
	for nv := 1; nv <= 2; nv++ {
		for rows := 1; rows <= mrY; rows++ {
			gemmTileY(nv, rows)
		}
	}
	depthwiseRowY()
	depthwisePixelY()
	Generate()
}

// cpuid emits cpuidex and xgetbv for feature detection.
func cpuid() {
	TEXT("cpuidex", NOSPLIT, "func(leaf, sub uint32) (a, b, c, d uint32)")
	Doc("cpuidex executes CPUID with EAX=leaf, ECX=sub.")
	Load(Param("leaf"), EAX)
	Load(Param("sub"), ECX)
	CPUID()
	Store(EAX, Return("a"))
	Store(EBX, Return("b"))
	Store(ECX, Return("c"))
	Store(EDX, Return("d"))
	RET()

	TEXT("xgetbv0", NOSPLIT, "func() (lo uint32)")
	Doc("xgetbv0 returns the low half of XCR0 (the OS-enabled state components).")
	XORL(ECX, ECX)
	XGETBV()
	Store(EAX, Return("lo"))
	RET()
}

// actConsts holds the registers the activation epilogue needs.
type actConsts struct {
	kind         GPVirtual
	zero, one    VecVirtual
	slope, offst VecVirtual
}

func loadAct() actConsts {
	var a actConsts
	a.kind = GP64()
	Load(Param("act"), a.kind)
	a.zero, a.one, a.slope, a.offst = ZMM(), ZMM(), ZMM(), ZMM()
	VXORPS(a.zero, a.zero, a.zero)
	t := GP32()
	MOVL(U32(0x3f800000), t) // 1.0f
	VPBROADCASTD(t, a.one)
	VBROADCASTSS(paramAddr("slope"), a.slope)
	VBROADCASTSS(paramAddr("offset"), a.offst)
	return a
}

// paramAddr is the frame address of a parameter, for instructions that
// read it straight from memory (Load would use a legacy-SSE MOVSS, which
// cannot reach X16-X31).
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// applyAct emits the activation on regs, branching once on the kind.
func applyAct(regs []VecVirtual, label string) {
	a := loadAct()
	done := label + "_done"
	CMPQ(a.kind, U8(actNone))
	JEQ(LabelRef(done))
	CMPQ(a.kind, U8(actReLU))
	JNE(LabelRef(label + "_hard"))
	for _, z := range regs {
		VMAXPS(a.zero, z, z)
	}
	JMP(LabelRef(done))
	Label(label + "_hard")
	t := ZMM()
	CMPQ(a.kind, U8(actHardSwish))
	JNE(LabelRef(label + "_hsig"))
	for _, z := range regs {
		// t = clip(slope*z + offset, 0, 1); z *= t
		VMOVAPS(z, t)
		VFMADD213PS(a.offst, a.slope, t)
		VMAXPS(a.zero, t, t)
		VMINPS(a.one, t, t)
		VMULPS(t, z, z)
	}
	JMP(LabelRef(done))
	Label(label + "_hsig")
	for _, z := range regs {
		VFMADD213PS(a.offst, a.slope, z)
		VMAXPS(a.zero, z, z)
		VMINPS(a.one, z, z)
	}
	Label(label + "_done")
}

// gemmTile emits gemm<nv>x<rows>: a rows × (nv·16) tile of
// C = act(A·B + bias). A rows are lda floats apart; B is nv panels of
// [k][16] floats, pstride floats apart; C rows are ldc floats apart. mask
// holds the column masks (low 16 bits: first panel, high: second).
func gemmTile(nv, rows int) {
	name := fmt.Sprintf("gemm%dx%d", nv, rows)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, pstride int, c *float32, ldc int, bias *float32, mask uint32, flags int, act int, slope, offset float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d tile of C = act(A·B + bias).", name, rows, nv*lanes))
	k := GP64()
	Load(Param("k"), k)
	lda := GP64()
	Load(Param("lda"), lda)
	SHLQ(U8(2), lda)
	lda3 := GP64()
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
	// Row base pointers: one per group of four rows.
	nb := (rows + 3) / 4
	bases := make([]GPVirtual, nb)
	bases[0] = GP64()
	Load(Param("a"), bases[0])
	for i := 1; i < nb; i++ {
		bases[i] = GP64()
		LEAQ(Mem{Base: bases[i-1], Index: lda, Scale: 4}, bases[i])
	}
	rowAddr := func(r int) Mem {
		base := bases[r/4]
		switch r % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: lda, Scale: 1}
		case 2:
			return Mem{Base: base, Index: lda, Scale: 2}
		}
		return Mem{Base: base, Index: lda3, Scale: 1}
	}
	b := GP64()
	Load(Param("b"), b)
	ps := GP64()
	Load(Param("pstride"), ps)
	SHLQ(U8(2), ps)
	bias := GP64()
	Load(Param("bias"), bias)

	// Column masks.
	mask := GP32()
	Load(Param("mask"), mask)
	k1, k2 := K(), K()
	KMOVW(mask, k1)
	if nv == 2 {
		SHRL(U8(16), mask)
		KMOVW(mask, k2)
	}
	kmask := []Op{k1, k2}

	acc := make([][]VecVirtual, rows)
	for r := range acc {
		acc[r] = make([]VecVirtual, nv)
		for v := range nv {
			acc[r][v] = ZMM()
		}
	}
	// flags bit 0: accumulate onto C instead of starting from the bias.
	flags := GP64()
	Load(Param("flags"), flags)
	TESTQ(U32(1), flags)
	JNZ(LabelRef(name + "_loadc"))
	for r := range acc {
		for v := range nv {
			VMOVUPS(Mem{Base: bias, Disp: 4 * lanes * v}, acc[r][v])
		}
	}
	JMP(LabelRef(name + "_loop"))
	Label(name + "_loadc")
	{
		c := GP64()
		Load(Param("c"), c)
		ldc := GP64()
		Load(Param("ldc"), ldc)
		SHLQ(U8(2), ldc)
		for r := range rows {
			for v := range nv {
				VMOVUPS_Z(Mem{Base: c, Disp: 4 * lanes * v}, kmask[v], acc[r][v])
			}
			if r+1 < rows {
				ADDQ(ldc, c)
			}
		}
	}
	bv := make([]VecVirtual, nv)
	for v := range nv {
		bv[v] = ZMM()
	}
	Label(name + "_loop")
	VMOVUPS(Mem{Base: b}, bv[0])
	if nv == 2 {
		VMOVUPS(Mem{Base: b, Index: ps, Scale: 1}, bv[1])
	}
	// One A value per row: with two panels, broadcast it once into a
	// register (14 loads per 24 FMAs instead of 26); with one, fold the
	// broadcast into the FMA.
	var tmp []VecVirtual
	if nv == 2 {
		tmp = []VecVirtual{ZMM(), ZMM(), ZMM(), ZMM()}
	}
	for r := range rows {
		if nv == 1 {
			VFMADD231PS_BCST(rowAddr(r), bv[0], acc[r][0])
			continue
		}
		t := tmp[r%len(tmp)]
		VBROADCASTSS(rowAddr(r), t)
		VFMADD231PS(t, bv[0], acc[r][0])
		VFMADD231PS(t, bv[1], acc[r][1])
	}
	for _, base := range bases {
		ADDQ(U8(4), base)
	}
	ADDQ(U8(4*lanes), b)
	DECQ(k)
	JNZ(LabelRef(name + "_loop"))

	var all []VecVirtual
	for r := range rows {
		all = append(all, acc[r]...)
	}
	applyAct(all, name+"_act")

	c := GP64()
	Load(Param("c"), c)
	ldc := GP64()
	Load(Param("ldc"), ldc)
	SHLQ(U8(2), ldc)
	for r := range rows {
		VMOVUPS(acc[r][0], k1, Mem{Base: c})
		if nv == 2 {
			VMOVUPS(acc[r][1], k2, Mem{Base: c, Disp: 4 * lanes})
		}
		if r+1 < rows {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// depthwiseRow emits dwRow: ow (a multiple of four) output pixels of one
// row of a depthwise convolution on channels-last data, 16 channels at a time (the last block
// masked), eight or four output pixels at a time while they last. The caller points
// x at the first tap of the first pixel and w at the matching weight, and
// passes how many kernel rows and columns are inside the input (border
// pixels are separate calls with fewer taps).
func depthwiseRow() {
	TEXT("dwRow", NOSPLIT, "func(x *float32, w *float32, bias *float32, y *float32, p *[9]int, act int, slope, offset float32)")
	Pragma("noescape")
	Doc("dwRow computes output pixels of a depthwise convolution; see depthwise.runSIMD in simd_amd64.go.")
	pp := GP64()
	Load(Param("p"), pp)
	ld := func(field int) GPVirtual {
		r := GP64()
		MOVQ(Mem{Base: pp, Disp: 8 * field}, r)
		return r
	}
	// Argument block, in floats: channels, pixels, kernel rows, kernel
	// columns, x step between pixels, x step between kernel rows, x step
	// between kernel columns, tail mask, w step between kernel rows.
	const (
		fC = iota
		fOW
		fKH
		fKW
		fXStep
		fRowStride
		fTapStep
		fTail
		fWRow
	)
	cb := GP64() // channel offset in floats
	o := GP64()  // output pixel
	XORQ(o, o)
	// chanSetup computes the channel mask and loads the bias of the block
	// at cb: all ones unless it is the last, partial block.
	chanSetup := func(label string) (Op, VecVirtual) {
		km := K()
		rem := ld(fC)
		SUBQ(cb, rem)
		t := GP32()
		MOVL(U32(0xffff), t)
		CMPQ(rem, U8(lanes))
		JGE(LabelRef(label + "_fullmask"))
		tail := ld(fTail)
		MOVL(tail.As32(), t)
		Label(label + "_fullmask")
		KMOVW(t, km)
		bvec := ZMM()
		bias := GP64()
		Load(Param("bias"), bias)
		VMOVUPS_Z(Mem{Base: bias, Index: cb, Scale: 4}, km, bvec)
		return km, bvec
	}
	// pixelBlock computes n pixels at o for the channel block at cb.
	pixelBlock := func(n int, label string) {
		km, bvec := chanSetup(label)
		accs := make([]VecVirtual, n)
		for i := range accs {
			accs[i] = ZMM()
			VMOVAPS(bvec, accs[i])
		}
		// xr = x + (o*xstep + cb)*4 ; wr = w + cb*4
		xr := GP64()
		MOVQ(o, xr)
		IMULQ(Mem{Base: pp, Disp: 8 * fXStep}, xr)
		ADDQ(cb, xr)
		x0 := GP64()
		Load(Param("x"), x0)
		LEAQ(Mem{Base: x0, Index: xr, Scale: 4}, xr)
		wr := GP64()
		Load(Param("w"), wr)
		LEAQ(Mem{Base: wr, Index: cb, Scale: 4}, wr)
		xstep := ld(fXStep)
		SHLQ(U8(2), xstep)
		tapStep := ld(fTapStep)
		SHLQ(U8(2), tapStep)
		c4 := ld(fC)
		SHLQ(U8(2), c4)
		xstep3 := GP64()
		LEAQ(Mem{Base: xstep, Index: xstep, Scale: 2}, xstep3)
		// Pixel q reads base[q/4] + (q%4)·xstep: no pointer updates
		// between the FMAs of one tap.
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
		i := ld(fKH)
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
		j := ld(fKW)
		Label(label + "_kw")
		wv := ZMM()
		VMOVUPS_Z(Mem{Base: wp}, km, wv)
		for q := range n {
			VFMADD231PS(pixAddr(bases, q), wv, km, accs[q])
		}
		ADDQ(c4, wp)
		for _, b := range bases {
			ADDQ(tapStep, b)
		}
		DECQ(j)
		JNZ(LabelRef(label + "_kw"))
		rs := ld(fRowStride)
		LEAQ(Mem{Base: xr, Index: rs, Scale: 4}, xr)
		wrs := ld(fWRow)
		LEAQ(Mem{Base: wr, Index: wrs, Scale: 4}, wr)
		DECQ(i)
		JNZ(LabelRef(label + "_kh"))

		applyAct(accs, label+"_act")
		// y + (o*c + cb)*4
		yp := GP64()
		MOVQ(o, yp)
		IMULQ(Mem{Base: pp, Disp: 8 * fC}, yp)
		ADDQ(cb, yp)
		y0 := GP64()
		Load(Param("y"), y0)
		LEAQ(Mem{Base: y0, Index: yp, Scale: 4}, yp)
		c4b := ld(fC)
		SHLQ(U8(2), c4b)
		for q := range n {
			VMOVUPS(accs[q], km, Mem{Base: yp})
			if q+1 < n {
				ADDQ(c4b, yp)
			}
		}
	}
	// Blocks of eight, then four pixels; for each block every channel
	// block in turn, so consecutive blocks read neighbouring cache lines.
	// The caller passes a multiple of four pixels.
	for _, n := range []int{8, 4} {
		top, next := fmt.Sprintf("dw_block%d", n), fmt.Sprintf("dw_after%d", n)
		Label(top)
		t := GP64()
		MOVQ(o, t)
		ADDQ(U8(n), t)
		CMPQ(t, Mem{Base: pp, Disp: 8 * fOW})
		JGT(LabelRef(next))
		XORQ(cb, cb)
		Label(top + "_c")
		pixelBlock(n, fmt.Sprintf("dw_p%d", n))
		ADDQ(U8(lanes), cb)
		CMPQ(cb, Mem{Base: pp, Disp: 8 * fC})
		JLT(LabelRef(top + "_c"))
		ADDQ(U8(n), o)
		JMP(LabelRef(top))
		Label(next)
	}
	VZEROUPPER()
	RET()
}

// depthwisePixel emits dwPixel: one output pixel of a depthwise
// convolution (a border pixel, or one left over after dwRow's blocks). A
// single pixel has no independent pixels to interleave, so it runs four
// 16-channel blocks side by side (the FMA latency would otherwise bound it),
// then the remaining blocks one at a time, the last masked. Same argument
// block as dwRow; its pixel count is ignored.
func depthwisePixel() {
	TEXT("dwPixel", NOSPLIT, "func(x *float32, w *float32, bias *float32, y *float32, p *[9]int, act int, slope, offset float32)")
	Pragma("noescape")
	Doc("dwPixel computes one output pixel of a depthwise convolution; see depthwise.runSIMD in simd_amd64.go.")
	pp := GP64()
	Load(Param("p"), pp)
	ld := func(field int) GPVirtual {
		r := GP64()
		MOVQ(Mem{Base: pp, Disp: 8 * field}, r)
		return r
	}
	const (
		fC = iota
		fOW
		fKH
		fKW
		fXStep
		fRowStride
		fTapStep
		fTail
		fWRow
	)
	cb := GP64()
	XORQ(cb, cb)
	// block emits the computation of nb channel blocks starting at cb,
	// masked by km (all ones for the wide blocks).
	block := func(nb int, km Op, label string) {
		accs := make([]VecVirtual, nb)
		bias := GP64()
		Load(Param("bias"), bias)
		for i := range accs {
			accs[i] = ZMM()
			VMOVUPS_Z(Mem{Base: bias, Index: cb, Scale: 4, Disp: 64 * i}, km, accs[i])
		}
		xr := GP64()
		Load(Param("x"), xr)
		LEAQ(Mem{Base: xr, Index: cb, Scale: 4}, xr)
		wr := GP64()
		Load(Param("w"), wr)
		LEAQ(Mem{Base: wr, Index: cb, Scale: 4}, wr)
		tapStep := ld(fTapStep)
		SHLQ(U8(2), tapStep)
		c4 := ld(fC)
		SHLQ(U8(2), c4)
		i := ld(fKH)
		Label(label + "_kh")
		xt, wp := GP64(), GP64()
		MOVQ(xr, xt)
		MOVQ(wr, wp)
		j := ld(fKW)
		Label(label + "_kw")
		for q := range nb {
			wv := ZMM()
			VMOVUPS_Z(Mem{Base: wp, Disp: 64 * q}, km, wv)
			VFMADD231PS(Mem{Base: xt, Disp: 64 * q}, wv, km, accs[q])
		}
		ADDQ(c4, wp)
		ADDQ(tapStep, xt)
		DECQ(j)
		JNZ(LabelRef(label + "_kw"))
		rs := ld(fRowStride)
		LEAQ(Mem{Base: xr, Index: rs, Scale: 4}, xr)
		wrs := ld(fWRow)
		LEAQ(Mem{Base: wr, Index: wrs, Scale: 4}, wr)
		DECQ(i)
		JNZ(LabelRef(label + "_kh"))
		applyAct(accs, label+"_act")
		y := GP64()
		Load(Param("y"), y)
		for q := range nb {
			VMOVUPS(accs[q], km, Mem{Base: y, Index: cb, Scale: 4, Disp: 64 * q})
		}
	}
	full := K()
	{
		t := GP32()
		MOVL(U32(0xffff), t)
		KMOVW(t, full)
	}
	Label("dwp_wide")
	{
		t := GP64()
		MOVQ(cb, t)
		ADDQ(U8(4*lanes), t)
		CMPQ(t, Mem{Base: pp, Disp: 8 * fC})
		JGT(LabelRef("dwp_narrow"))
	}
	block(4, full, "dwp_w")
	ADDQ(U8(4*lanes), cb)
	JMP(LabelRef("dwp_wide"))
	Label("dwp_narrow")
	CMPQ(cb, Mem{Base: pp, Disp: 8 * fC})
	JGE(LabelRef("dwp_done"))
	km := K()
	{
		rem := ld(fC)
		SUBQ(cb, rem)
		t := GP32()
		MOVL(U32(0xffff), t)
		CMPQ(rem, U8(lanes))
		JGE(LabelRef("dwp_fullmask"))
		tail := ld(fTail)
		MOVL(tail.As32(), t)
		Label("dwp_fullmask")
		KMOVW(t, km)
	}
	block(1, km, "dwp_n")
	ADDQ(U8(lanes), cb)
	JMP(LabelRef("dwp_narrow"))
	Label("dwp_done")
	VZEROUPPER()
	RET()
}
