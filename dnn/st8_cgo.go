//go:build cgo && !purego

package dnn

/*
#include <stdlib.h>
#include "lcn_st8.h"
*/
import "C"

import "unsafe"

// st8Kernel is a prepared lcn_st8 kernel (tests and benchmarks only; the
// int8 chain builds it in C).
type st8Kernel struct{ k *C.lcn_st8 }

// st8Shape is lcn_st8_desc without the run options.
type st8Shape struct {
	c, h, w, oc    int
	kh, kw, sh, sw int
	pt, pl, pb, pr int
}

func (s st8Shape) desc(act int, outF32 bool, threads int) C.lcn_st8_desc {
	return C.lcn_st8_desc{c: C.int(s.c), h: C.int(s.h), w: C.int(s.w), oc: C.int(s.oc),
		kh: C.int(s.kh), kw: C.int(s.kw), sh: C.int(s.sh), sw: C.int(s.sw),
		pt: C.int(s.pt), pl: C.int(s.pl), pb: C.int(s.pb), pr: C.int(s.pr),
		act: C.int(act), out_f32: C.int(b2i(outF32)), threads: C.int(threads)}
}

func st8Fits(s st8Shape) bool {
	d := s.desc(0, false, 1)
	return C.lcn_st8_fits(&d) != 0
}

func newST8(s st8Shape, act int, outF32 bool, threads int, w, b []float32, sx, sy float32) (*st8Kernel, error) {
	cd := s.desc(act, outF32, threads)
	var e C.lcn_error
	var h *C.lcn_st8
	var bp *C.float
	if b != nil {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	if rc := C.lcn_st8_create(&cd, (*C.float)(unsafe.Pointer(&w[0])), bp, C.float(sx), C.float(sy), &h, &e); rc != C.LCN_OK {
		return nil, cError(rc, &e, nil)
	}
	return &st8Kernel{h}, nil
}

func (k *st8Kernel) close() { C.lcn_st8_destroy(k.k) }

func (k *st8Kernel) outShape() (oh, ow int) {
	var h, w C.int
	C.lcn_st8_out_shape(k.k, &h, &w)
	return int(h), int(w)
}

// run: x is n images of H*W*C s8, y n*OH*OW*OC int8 or float32.
func (k *st8Kernel) run(x []int8, y unsafe.Pointer, n, nthr int) {
	C.lcn_st8_run(k.k, (*C.int8_t)(unsafe.Pointer(&x[0])), y, C.long(n), C.int(nthr))
}

func (k *st8Kernel) runRef(x []int8, y unsafe.Pointer, n int) {
	C.lcn_st8_run_ref(k.k, (*C.int8_t)(unsafe.Pointer(&x[0])), y, C.long(n))
}

func st8VNNI() bool { return C.lcn_st8_vnni() != 0 }
