//go:build cgo && !purego

package dnn

/*
#cgo LDFLAGS: -lm
#include <stdlib.h>
#include "lcn.h"
#include "lcn_int8.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Int8Plan is a compiled int8 chain of convolutions (see CompileInt8). It is
// immutable and safe for concurrent use.
type Int8Plan struct {
	st *i8planState
}

type i8planState struct {
	mu    sync.Mutex
	h     *C.lcn_i8plan // nil once closed
	names []string
	impls []string
	in    shape
	out   shape
	thr   int // OpenMP threads per instance
}

func (s *i8planState) release() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return false
	}
	C.lcn_i8plan_destroy(s.h)
	s.h = nil
	return true
}

// CompileInt8 validates net (see Int8Net), copies its weights into C memory
// and builds the int8 primitives once for batch 1, which checks that oneDNN
// has int8 kernels for every layer. It does not check the CPU: call
// Int8Supported first (without VNNI the int8 kernels are slower than fp32).
func CompileInt8(net *Int8Net, opt Options) (*Int8Plan, error) {
	v, err := validateInt8(net, opt)
	if err != nil {
		return nil, err
	}
	if err := initLib(); err != nil {
		return nil, err
	}
	names := make([]string, len(v.layers))
	for i, l := range v.layers {
		names[i] = l.Name
	}
	h, err := onThrowawayThread(func() (*C.lcn_i8plan, error) {
		return buildInt8(v, net, names)
	})
	if err != nil {
		return nil, err
	}
	st := &i8planState{h: h, names: names, in: v.in, out: v.out, thr: v.thr}
	st.impls = layerImpls(len(names), func(i C.int, s **C.char) C.lcn_status { return C.lcn_i8plan_layer_impl(h, i, s) })
	p := &Int8Plan{st: st}
	runtime.AddCleanup(p, func(s *i8planState) {
		if s.release() {
			leaked.Add(1)
		}
	}, st)
	return p, nil
}

func buildInt8(v *validated, net *Int8Net, names []string) (*C.lcn_i8plan, error) {
	inScale, outScales := net.InScale, net.OutScales
	cerr := (*C.lcn_error)(C.calloc(1, C.sizeof_lcn_error))
	if cerr == nil {
		return nil, fmt.Errorf("dnn: out of C memory")
	}
	defer C.free(unsafe.Pointer(cerr))
	var h *C.lcn_i8plan
	if rc := C.lcn_i8plan_create(C.int(v.in.c), C.int(v.in.h), C.int(v.in.w), C.int(v.thr), C.float(inScale), &h, cerr); rc != C.LCN_OK {
		return nil, cError(rc, cerr, names)
	}
	for i := range v.layers {
		d, ws := layerDesc(&v.layers[i])
		fp := C.int(0)
		if net.fp32(i) {
			fp = 1
		}
		rc := C.lcn_i8plan_add_layer_ex(h, &d, fptr(ws[0]), C.size_t(len(ws[0])),
			fptr(ws[1]), C.size_t(len(ws[1])), fptr(ws[2]), C.size_t(len(ws[2])),
			fptr(ws[3]), C.size_t(len(ws[3])), C.float(outScales[i]), fp, cerr)
		if rc != C.LCN_OK {
			err := cError(rc, cerr, names)
			C.lcn_i8plan_destroy(h)
			return nil, err
		}
	}
	if net.NoTuning {
		C.lcn_i8plan_set_tuning(h, 0)
	}
	if rc := C.lcn_i8plan_finalize(h, cerr); rc != C.LCN_OK {
		err := cError(rc, cerr, names)
		C.lcn_i8plan_destroy(h)
		return nil, err
	}
	return h, nil
}

// InputShape returns the per-sample input shape [C, H, W].
func (p *Int8Plan) InputShape() []int { return []int{p.st.in.c, p.st.in.h, p.st.in.w} }

// OutputShape returns the per-sample output shape [C, H, W].
func (p *Int8Plan) OutputShape() []int { return []int{p.st.out.c, p.st.out.h, p.st.out.w} }

// LayerImpls returns the oneDNN implementation of each layer at batch 1,
// e.g. "brgconv_1x1:avx512_core_vnni".
func (p *Int8Plan) LayerImpls() []string { return append([]string(nil), p.st.impls...) }

// Close releases the plan; instances keep working. Idempotent.
func (p *Int8Plan) Close() error {
	if p == nil || p.st == nil {
		return nil
	}
	p.st.release()
	return nil
}

// Int8Instance runs an Int8Plan: quantized weights, activations, stream and
// primitives owned by an OS-locked worker goroutine (the same worker as an
// Instance's).
type Int8Instance struct {
	st *instState
}

type int8Inst struct{ h *C.lcn_i8inst }

func (i int8Inst) run(r runReq, cerr *C.lcn_error) C.lcn_status {
	return C.lcn_i8inst_run(i.h,
		(*C.float)(unsafe.Pointer(&r.in[0])), C.size_t(len(r.in)), C.int(r.batch),
		(*C.float)(unsafe.Pointer(&r.out[0])), C.size_t(len(r.out)), cerr)
}

func (i int8Inst) destroy() { C.lcn_i8inst_destroy(i.h) }

func (i int8Inst) setProfile(on bool) { C.lcn_i8inst_set_profile(i.h, C.int(b2i(on))) }

func (i int8Inst) step(batch, n int) (StepTime, bool) {
	var layer C.int
	var sec C.double
	var runs C.long
	var what [64]C.char
	if C.lcn_i8inst_profile(i.h, C.int(batch), C.int(n), &layer, &what[0], C.size_t(len(what)), &sec, &runs) != C.LCN_OK {
		return StepTime{}, false
	}
	return stepTime(layer, &what[0], sec, runs), true
}

// NewInstance starts an instance, run on the caller's thread with one
// thread and on its own OS-locked worker goroutine with more (see
// Plan.NewInstance).
func (p *Int8Plan) NewInstance() (*Int8Instance, error) { return p.NewInstanceOn(nil) }

// NewInstanceOn is NewInstance on worker wk (see Plan.NewInstanceOn).
func (p *Int8Plan) NewInstanceOn(wk *Worker) (*Int8Instance, error) {
	if p == nil || p.st == nil {
		return nil, ErrClosed
	}
	ps := p.st
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.h == nil {
		return nil, ErrClosed
	}
	plan := ps.h
	create := func(cerr *C.lcn_error) (cInstance, C.lcn_status) {
		var h *C.lcn_i8inst
		rc := C.lcn_i8inst_create(plan, &h, cerr)
		return int8Inst{h}, rc
	}
	// direct runs need no more than fp32 ones: lcn_i8inst_run sets the
	// OpenMP thread count on every call and lcn_dw8 steps use OpenMP only
	// with 2+ threads
	st, err := startInstance(ps.thr, ps.in, ps.out, ps.names, wk, create)
	if err != nil {
		return nil, err
	}
	inst := &Int8Instance{st: st}
	closeOnCollect(inst, st)
	return inst, nil
}

// Run runs one inference: in is batch×C×H×W fp32 (NCHW), out receives
// batch×prod(OutputShape()) fp32. No allocation in steady state.
func (inst *Int8Instance) Run(in []float32, batch int, out []float32) error {
	if inst == nil || inst.st == nil {
		return ErrClosed
	}
	err := inst.st.run(in, batch, out)
	runtime.KeepAlive(inst)
	return err
}

// Close stops the worker and frees its C memory. Idempotent.
// SetProfiling turns the timing of every step of every Run on or off and
// zeroes what was measured.
func (inst *Int8Instance) SetProfiling(on bool) error {
	if inst == nil || inst.st == nil {
		return ErrClosed
	}
	return inst.st.setProfiling(on)
}

// Profile returns the time of every step of the runs with batch size batch
// since profiling was turned on, in execution order: the input's
// quantization and the output's conversion are steps of their own (Layer
// -1). It is empty when no such run was profiled.
func (inst *Int8Instance) Profile(batch int) ([]StepTime, error) {
	if inst == nil || inst.st == nil {
		return nil, ErrClosed
	}
	return inst.st.profile(batch)
}

func (inst *Int8Instance) Close() error {
	if inst == nil || inst.st == nil {
		return nil
	}
	inst.st.close()
	return nil
}

// quantizeNCHW runs the int8 chain's input quantizer (tests): src is n×c×hw
// fp32 NCHW, the result n×hw×c s8 NHWC, sat_s8(rint(x·s)).
func quantizeNCHW(src []float32, n, c, hw int, s float32, threads int) []int8 {
	dst := make([]int8, n*c*hw)
	if len(src) != len(dst) || len(dst) == 0 {
		panic("quantizeNCHW: bad lengths")
	}
	C.lcn_test_quantize_nchw((*C.float)(unsafe.Pointer(&src[0])), (*C.int8_t)(unsafe.Pointer(&dst[0])),
		C.int(n), C.int(c), C.int(hw), C.float(s), C.int(threads))
	return dst
}
