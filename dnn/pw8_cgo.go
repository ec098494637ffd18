//go:build cgo && !purego

package dnn

/*
#include <stdlib.h>
#include "lcn_pw8.h"
*/
import "C"

import "unsafe"

// pw8Kernel is a prepared lcn_pw8 kernel (tests and benchmarks only; the
// int8 chain builds it in C).
type pw8Kernel struct{ k *C.lcn_pw8 }

func newPW8(k, oc, act int, outF32 bool, threads int, w, b []float32, sx, sy float32) (*pw8Kernel, error) {
	cd := C.lcn_pw8_desc{k: C.int(k), oc: C.int(oc), act: C.int(act), out_f32: C.int(b2i(outF32)), threads: C.int(threads)}
	var e C.lcn_error
	var h *C.lcn_pw8
	var bp *C.float
	if b != nil {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	if rc := C.lcn_pw8_create(&cd, (*C.float)(unsafe.Pointer(&w[0])), bp, C.float(sx), C.float(sy), &h, &e); rc != C.LCN_OK {
		return nil, cError(rc, &e, nil)
	}
	return &pw8Kernel{h}, nil
}

func (k *pw8Kernel) close() { C.lcn_pw8_destroy(k.k) }

// run: x is npix*K s8, y npix*OC int8 or float32.
func (k *pw8Kernel) run(x []int8, y unsafe.Pointer, npix, nthr int) {
	C.lcn_pw8_run(k.k, (*C.int8_t)(unsafe.Pointer(&x[0])), y, C.long(npix), C.int(nthr))
}

func (k *pw8Kernel) runRef(x []int8, y unsafe.Pointer, npix int) {
	C.lcn_pw8_run_ref(k.k, (*C.int8_t)(unsafe.Pointer(&x[0])), y, C.long(npix))
}

func pw8VNNI() bool { return C.lcn_pw8_vnni() != 0 }

func pw8ForceRef(on bool) { C.lcn_pw8_force_ref(C.int(b2i(on))) }
