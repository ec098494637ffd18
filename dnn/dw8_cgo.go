//go:build cgo && !purego

package dnn

/*
#include <stdlib.h>
#include "lcn_dw8.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// dw8Desc describes an int8 depthwise convolution for the lcn_dw8 kernel
// (tests and benchmarks only; the int8 chain builds it in C).
type dw8Desc struct {
	C, H, W        int
	KH, KW, SH, SW int
	PT, PL, PB, PR int
	Act            int // LCN_ACT_NONE, RELU, HARDSWISH
	OutF32         bool
	Threads        int
}

func (d dw8Desc) outShape() (int, int) {
	return (d.H+d.PT+d.PB-d.KH)/d.SH + 1, (d.W+d.PL+d.PR-d.KW)/d.SW + 1
}

func (d dw8Desc) c() C.lcn_dw8_desc {
	f := 0
	if d.OutF32 {
		f = 1
	}
	th := d.Threads
	if th < 1 {
		th = 1
	}
	return C.lcn_dw8_desc{c: C.int(d.C), h: C.int(d.H), w: C.int(d.W), kh: C.int(d.KH), kw: C.int(d.KW),
		sh: C.int(d.SH), sw: C.int(d.SW), pt: C.int(d.PT), pl: C.int(d.PL), pb: C.int(d.PB), pr: C.int(d.PR),
		act: C.int(d.Act), out_f32: C.int(f), threads: C.int(th)}
}

// dw8Kernel is a prepared lcn_dw8 kernel.
type dw8Kernel struct{ k *C.lcn_dw8 }

func newDW8(d dw8Desc, w, b []float32, sx, sy float32) (*dw8Kernel, error) {
	cd := d.c()
	var e C.lcn_error
	var k *C.lcn_dw8
	var bp *C.float
	if b != nil {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	if rc := C.lcn_dw8_create(&cd, (*C.float)(unsafe.Pointer(&w[0])), bp, C.float(sx), C.float(sy), &k, &e); rc != C.LCN_OK {
		return nil, cError(rc, &e, nil)
	}
	return &dw8Kernel{k}, nil
}

func (k *dw8Kernel) close() { C.lcn_dw8_destroy(k.k) }

// run: x is n*H*W*C s8, y is n*OH*OW*C int8 or float32 (a slice).
func (k *dw8Kernel) run(x []int8, y unsafe.Pointer, n, nthr int) {
	C.lcn_dw8_run(k.k, (*C.int8_t)(unsafe.Pointer(&x[0])), y, C.int(n), C.int(nthr))
}

func (k *dw8Kernel) runRef(x []int8, y unsafe.Pointer, n int) {
	C.lcn_dw8_run_ref(k.k, (*C.int8_t)(unsafe.Pointer(&x[0])), y, C.int(n))
}

func dw8ISA() string { return C.GoString(C.lcn_dw8_isa()) }
func dw8ForceRef(on bool) {
	v := 0
	if on {
		v = 1
	}
	C.lcn_dw8_force_ref(C.int(v))
}

// dw8DNNL is oneDNN's int8 depthwise convolution on the same data.
type dw8DNNL struct{ h *C.lcn_dw8_dnnl }

func newDW8DNNL(d dw8Desc, n int, w, b []float32, sx, sy float32) (*dw8DNNL, error) {
	if err := initLib(); err != nil {
		return nil, err
	}
	cd := d.c()
	var e C.lcn_error
	var h *C.lcn_dw8_dnnl
	var bp *C.float
	if b != nil {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	if rc := C.lcn_dw8_dnnl_create(&cd, C.int(n), (*C.float)(unsafe.Pointer(&w[0])), bp, C.float(sx), C.float(sy), &h, &e); rc != C.LCN_OK {
		return nil, cError(rc, &e, nil)
	}
	return &dw8DNNL{h}, nil
}

func (h *dw8DNNL) run(x []int8, y unsafe.Pointer) error {
	var e C.lcn_error
	if rc := C.lcn_dw8_dnnl_run(h.h, (*C.int8_t)(unsafe.Pointer(&x[0])), y, &e); rc != C.LCN_OK {
		return fmt.Errorf("dw8 dnnl run: %w", cError(rc, &e, nil))
	}
	return nil
}

func (h *dw8DNNL) impl() string { return C.GoString(C.lcn_dw8_dnnl_impl(h.h)) }
func (h *dw8DNNL) close()       { C.lcn_dw8_dnnl_destroy(h.h) }
