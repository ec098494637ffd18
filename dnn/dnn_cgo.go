//go:build cgo && !purego

package dnn

/*
#cgo CFLAGS: -O3 -fopenmp -I${SRCDIR}/../csrc
#cgo LDFLAGS: -ldnnl -lgomp
#include <stdlib.h>
#include "lcn.h"
const char *lcn_csrc_id(void); // csrc.c
void lcn_transpose_mode(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd, int simd); // lcn_internal.h
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Available reports whether the package was built with oneDNN.
func Available() bool { return true }

var (
	initOnce sync.Once
	initErr  error
	leaked   atomic.Int64
)

func initLib() error {
	initOnce.Do(func() {
		var e C.lcn_error
		if rc := C.lcn_init(&e); rc != C.LCN_OK {
			initErr = cError(rc, &e, nil)
		}
	})
	return initErr
}

// cError turns a failing lcn status into a Go error; names maps layer
// indices to layer names (may be nil).
func cError(rc C.lcn_status, e *C.lcn_error, names []string) error {
	msg := C.GoString(&e.msg[0])
	layer := int(e.layer)
	name := ""
	if layer >= 0 && layer < len(names) {
		name = names[layer]
	}
	switch rc {
	case C.LCN_ERR_DNNL:
		return &DNNLError{Layer: layer, Name: name, Op: msg, Status: C.GoString(&e.status_name[0])}
	case C.LCN_ERR_VERSION:
		return fmt.Errorf("%w: %s", ErrVersion, msg)
	case C.LCN_ERR_INVALID:
		return &NetError{Layer: layer, Name: name, Msg: msg}
	case C.LCN_ERR_NOMEM:
		return fmt.Errorf("dnn: out of C memory: %s", msg)
	}
	return fmt.Errorf("dnn: internal error (status %d): %s", int(rc), msg)
}

// LiveHandles returns the number of C objects (plans and instances) alive.
// A Plan stays alive until it is closed and all its Instances are closed.
func LiveHandles() int64 {
	var n C.int64_t
	C.lcn_live_handles(&n)
	return int64(n)
}

// transposeC runs lcn_transpose_mode (tests only): dst[j*ldd+i] =
// src[i*lds+j] for i < rows, j < cols; simd false runs the element loop.
func transposeC(src []float32, lds, rows, cols int, dst []float32, ldd int, simd bool) {
	if rows <= 0 || cols <= 0 || len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic("transposeC: bad sizes")
	}
	s := 0
	if simd {
		s = 1
	}
	C.lcn_transpose_mode((*C.float)(&src[0]), C.size_t(lds), C.int(rows), C.int(cols), (*C.float)(&dst[0]), C.size_t(ldd), C.int(s))
}

// setFailLayer makes building layer i fail like a missing oneDNN
// implementation (tests only; -1 turns it off).
func setFailLayer(i int) { C.lcn_test_fail_layer(C.int(i)) }

// setDWFusion sets when Compile runs a depthwise conv as a post-op of the
// 1x1 conv before it (tests only): -1 when timing says so (the default),
// 0 never, 1 whenever oneDNN implements it.
func setDWFusion(mode int) { C.lcn_test_dw_fusion(C.int(mode)) }

// setDWPW sets when Compile runs a depthwise conv and the 1x1 conv after it
// as one fused kernel (tests only): -1 when timing says so (the default), 0
// never, 1 whenever the kernel supports the pair.
func setDWPW(mode int) { C.lcn_test_dwpw(C.int(mode)) }

// setChain sets when Compile runs two or more depthwise + 1x1 pairs in a
// row as one chain of block kernels, row by row (tests only): -1 when timing
// says so (the default), 0 never, 1 whenever the pairs allow it.
func setChain(mode int) { C.lcn_test_chain(C.int(mode)) }

// setSplit sets whether a batch runs image by image up to the last global
// pool and as a batch after it (1, the default) or whole (0); tests only.
func setSplit(mode int) { C.lcn_test_split(C.int(mode)) }

// setStem sets when Compile runs the first conv as a kernel reading the
// NCHW input directly (tests only): -1 when timing says so (the default), 0
// never, 1 whenever the kernel supports the layer.
func setStem(mode int) { C.lcn_test_stem(C.int(mode)) }

// setFC32 sets when Compile runs FC layers and 1x1 convs over few pixels as
// the lcn_fc32 kernel (tests only): -1 when timing says so (the default), 0
// never, 1 whenever the kernel applies.
func setFC32(mode int) { C.lcn_test_fc32(C.int(mode)) }

// setFC32NTA sets whether lcn_fc32 prefetches its next panel
// non-temporally (the default) or into L2; tests only, read at run time.
func setFC32NTA(on bool) { C.lcn_test_fc32_nta(C.int(b2i(on))) }

// setDWPWPrefetch sets whether the fused depthwise + 1x1 kernels prefetch
// the input rows of their next output row (the default); tests only, read
// at run time.
func setDWPWPrefetch(on bool) { C.lcn_test_dwpw_prefetch(C.int(b2i(on))) }

// fc32PrefetchRanges is the byte ranges (from the start of the packed
// weights) that thread t of nt prefetches for the first bytes of each of the
// parts of an lcn_fc32 kernel of kin inputs and n outputs (tests only); nil
// without the kernel.
func fc32PrefetchRanges(kin, n, parts int, bytes uint64, t, nt int) [][2]uint64 {
	var off [64]C.size_t
	got := int(C.lcn_test_fc32_pf_ranges(C.int(kin), C.int(n), C.int(parts), C.size_t(bytes),
		C.int(t), C.int(nt), &off[0], C.int(len(off)/2)))
	if got < 0 {
		return nil
	}
	r := make([][2]uint64, min(got, len(off)/2))
	for i := range r {
		r[i] = [2]uint64{uint64(off[2*i]), uint64(off[2*i+1])}
	}
	return r
}

// setDW32 sets when Compile runs depthwise convs outside fused blocks as
// the lcn_dw32 kernel (tests only): -1 when timing says so (the default), 0
// never, 1 whenever the kernel applies.
func setDW32(mode int) { C.lcn_test_dw32(C.int(mode)) }

// setSE32 sets when Compile runs SE layers as one lcn_se32 step (tests
// only): -1 (the default) or 1 where it applies, 0 never.
func setSE32(mode int) { C.lcn_test_se32(C.int(mode)) }

// setOwn8 sets when CompileInt8 runs a layer as one of the library's own
// int8 kernels (lcn_pw8, lcn_st8) instead of oneDNN's (tests only): -1 when
// timing says so (the default), 0 never, 1 whenever the kernel applies,
// untuned builds included.
func setOwn8(mode int) { C.lcn_test_own8(C.int(mode)) }

// LeakedHandles returns how many Plans and Instances were freed by the
// garbage-collector cleanup because they were never closed.
func LeakedHandles() int64 { return leaked.Load() }

// ISA returns the instruction set oneDNN's JIT uses, e.g. "avx512_core_bf16".
func ISA() string {
	var s *C.char
	C.lcn_isa(&s)
	return C.GoString(s)
}

// KernelISA returns the instruction set one of the engine's own fp32
// kernels uses on this CPU ("avx512", "avx2"), or "" when it does not run
// here and oneDNN's primitives take its layers. The kernels, named as in
// Plan.LayerImpls: "lcn_dwpw" (depthwise + 1x1 in one pass), "lcn_chain"
// (runs of those, row by row), "lcn_stem", "lcn_dw32", "lcn_fc32",
// "lcn_se32". LCNET_NO_AVX512=1 in the environment makes an AVX-512 CPU
// use the AVX2 bodies where there are some (plans built after it is set).
func KernelISA(kernel string) string {
	cs := C.CString(kernel)
	defer C.free(unsafe.Pointer(cs))
	return C.GoString(C.lcn_kernel_isa(cs))
}

// KernelsID identifies the build of the engine's own C kernels (a hash of
// their sources): timings of one build do not carry over to another.
func KernelsID() string { return C.GoString(C.lcn_csrc_id()) }

// Version returns the oneDNN version, e.g. "2.6.3", followed by the commit
// in parentheses when the library knows it.
func Version() string {
	var s *C.char
	C.lcn_version(&s)
	return C.GoString(s)
}

// Plan is a compiled network: validated, weights copied into C memory and
// reordered once. It is immutable and safe for concurrent use.
type Plan struct {
	st *planState
}

type planState struct {
	mu     sync.Mutex
	h      *C.lcn_plan // nil once closed
	names  []string
	impls  []string
	in     shape
	out    shape
	thr    int
	closed bool
}

// release drops the creator's reference to the C plan; it reports whether
// there was one.
func (s *planState) release() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return false
	}
	C.lcn_plan_destroy(s.h)
	s.h = nil
	return true
}

// Compile validates net and prepares the kernels and oneDNN primitives for
// batch 1: the weights are read where they are, once, and packed or
// reordered into C memory in the layouts the kernels want. The Go slices of
// net are not retained: they may change or be freed once Compile returns.
func Compile(net *Net, opt Options) (*Plan, error) {
	v, err := validate(net, opt)
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
	h, err := onThrowawayThread(func() (*C.lcn_plan, error) { return buildPlan(v, names) })
	if err != nil {
		return nil, err
	}
	st := &planState{h: h, names: names, in: v.in, out: v.out, thr: v.thr}
	st.impls = layerImpls(len(names), func(i C.int, s **C.char) C.lcn_status { return C.lcn_plan_layer_impl(h, i, s) })
	p := &Plan{st: st}
	runtime.AddCleanup(p, func(s *planState) {
		if s.release() {
			leaked.Add(1)
		}
	}, st)
	return p, nil
}

// layerImpls reads the implementation names of n layers with get.
func layerImpls(n int, get func(C.int, **C.char) C.lcn_status) []string {
	impls := make([]string, n)
	for i := range impls {
		var s *C.char
		if get(C.int(i), &s) == C.LCN_OK {
			impls[i] = C.GoString(s)
		}
	}
	return impls
}

// buildPlan creates, fills and finalizes the C plan.
func buildPlan(v *validated, names []string) (*C.lcn_plan, error) {
	cerr := (*C.lcn_error)(C.calloc(1, C.sizeof_lcn_error))
	if cerr == nil {
		return nil, fmt.Errorf("dnn: out of C memory")
	}
	defer C.free(unsafe.Pointer(cerr))
	var h *C.lcn_plan
	if rc := C.lcn_plan_create(C.int(v.in.c), C.int(v.in.h), C.int(v.in.w), C.int(v.thr), &h, cerr); rc != C.LCN_OK {
		return nil, cError(rc, cerr, names)
	}
	if rc := buildLayers(h, v.layers, cerr); rc != C.LCN_OK {
		err := cError(rc, cerr, names)
		C.lcn_plan_destroy(h)
		return nil, err
	}
	return h, nil
}

// buildLayers hands the layers to C and finalizes the plan in one call
// (lcn_plan_build), C reading the weights where they are: the descriptors
// and the table of weight pointers live in C memory, and the weight arrays
// are pinned for the call, so C holds pinned Go pointers during it and none
// after (it keeps its own packed or reordered copies). Copying them in
// first, layer by layer, cost x1.0 12 MB of new memory per plan.
func buildLayers(h *C.lcn_plan, layers []Layer, cerr *C.lcn_error) C.lcn_status {
	n := len(layers)
	if n == 0 {
		return C.lcn_plan_build(h, 0, nil, nil, nil, cerr) // C says what is wrong
	}
	descs := (*C.lcn_layer_desc)(C.calloc(C.size_t(n), C.sizeof_lcn_layer_desc))
	ptrs := (**C.float)(C.calloc(C.size_t(4*n), C.size_t(unsafe.Sizeof((*C.float)(nil)))))
	lens := (*C.size_t)(C.calloc(C.size_t(4*n), C.sizeof_size_t))
	defer C.free(unsafe.Pointer(descs))
	defer C.free(unsafe.Pointer(ptrs))
	defer C.free(unsafe.Pointer(lens))
	if descs == nil || ptrs == nil || lens == nil {
		cerr.layer = -1 // cError: "out of C memory: "
		return C.LCN_ERR_NOMEM
	}
	ds, ps, ls := unsafe.Slice(descs, n), unsafe.Slice(ptrs, 4*n), unsafe.Slice(lens, 4*n)
	var pin runtime.Pinner
	defer pin.Unpin()
	for i := range layers {
		d, ws := layerDesc(&layers[i])
		ds[i] = d
		for k, w := range ws {
			if len(w) > 0 {
				pin.Pin(&w[0])
				ps[4*i+k], ls[4*i+k] = (*C.float)(unsafe.Pointer(&w[0])), C.size_t(len(w))
			}
		}
	}
	return C.lcn_plan_build(h, C.int(n), descs, ptrs, lens, cerr)
}

func cAct(a Act) C.lcn_act {
	k := C.int(C.LCN_ACT_NONE)
	switch a.Kind {
	case ActReLU:
		k = C.LCN_ACT_RELU
	case ActHardSwish:
		k = C.LCN_ACT_HARDSWISH
	case ActHardSigmoid:
		k = C.LCN_ACT_HARDSIGMOID
	case ActSigmoid:
		k = C.LCN_ACT_SIGMOID
	}
	return C.lcn_act{kind: k, alpha: C.float(a.Alpha), beta: C.float(a.Beta)}
}

func fptr(s []float32) *C.float {
	if len(s) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&s[0]))
}

// onThrowawayThread runs build on a new OS thread that exits afterwards.
// Building a plan runs oneDNN work (weight reorders, kernel timing) with the
// plan's OpenMP thread count, and libgomp keeps a thread pool per calling OS
// thread. A pool left behind on some Go thread would make libgomp count more
// threads than cores and stop spinning between parallel regions
// (GOMP_SPINCOUNT throttling), slowing every later inference. The thread is
// locked and never unlocked, so it exits with the goroutine, and its pool
// with it.
func onThrowawayThread[T any](build func() (T, error)) (T, error) {
	type built struct {
		h   T
		err error
	}
	done := make(chan built)
	go func() {
		runtime.LockOSThread()
		h, err := build()
		C.lcn_release_omp_pool() // before Compile returns, not when the thread is gone
		done <- built{h, err}
	}()
	b := <-done
	return b.h, b.err
}

// layerDesc describes one validated layer for C, with its weight arrays in
// the order lcn_*_add_layer takes them (weight, bias, second weight, second
// bias; SE: W1, B1, W2, B2).
func layerDesc(l *Layer) (C.lcn_layer_desc, [4][]float32) {
	var d C.lcn_layer_desc
	var ws [4][]float32
	switch l.Kind {
	case LayerConv:
		d.kind = C.LCN_LAYER_CONV
		d.in_c, d.out_c, d.kh, d.kw = C.int(l.InC), C.int(l.OutC), C.int(l.KH), C.int(l.KW)
		d.stride_h, d.stride_w, d.groups = C.int(l.StrideH), C.int(l.StrideW), C.int(l.Groups)
		d.pad_t, d.pad_l, d.pad_b, d.pad_r = C.int(l.PadTop), C.int(l.PadLeft), C.int(l.PadBottom), C.int(l.PadRight)
		d.act = cAct(l.Act)
		ws[0], ws[1] = l.Weight, l.Bias
	case LayerFC:
		d.kind = C.LCN_LAYER_FC
		d.in_c, d.out_c = C.int(l.InC), C.int(l.OutC)
		d.act = cAct(l.Act)
		ws[0], ws[1] = l.Weight, l.Bias
	case LayerSE:
		d.kind = C.LCN_LAYER_SE
		d.in_c, d.se_reduce = C.int(l.InC), C.int(l.SEReduce)
		d.gate = cAct(l.Gate)
		ws = [4][]float32{l.W1, l.B1, l.W2, l.B2}
	case LayerGlobalAvgPool:
		d.kind = C.LCN_LAYER_GAP
	case LayerSoftmax:
		d.kind = C.LCN_LAYER_SOFTMAX
	case LayerScale:
		d.kind = C.LCN_LAYER_SCALE
		d.factor = C.float(l.Factor)
	case LayerActivation:
		d.kind = C.LCN_LAYER_ACTIVATION
		d.act = cAct(l.Act)
	}
	return d, ws
}

// InputShape returns the per-sample input shape [C, H, W].
func (p *Plan) InputShape() []int { return []int{p.st.in.c, p.st.in.h, p.st.in.w} }

// OutputShape returns the per-sample output shape [C, H, W].
func (p *Plan) OutputShape() []int { return []int{p.st.out.c, p.st.out.h, p.st.out.w} }

// Threads returns the OpenMP thread count of each inference.
func (p *Plan) Threads() int { return p.st.thr }

// LayerImpls returns, per layer, the oneDNN implementation(s) chosen at
// batch 1, e.g. "jit_dw:avx512_core" or, for squeeze-excite,
// "pool=jit:avx512_core fc1=brgconv_1x1:avx512_core ...". Layers fused into
// the previous one say "post-op of layer N".
func (p *Plan) LayerImpls() []string { return append([]string(nil), p.st.impls...) }

// Close releases the plan. Instances already created keep working (they
// hold their own reference to the C plan, freed when the last closes).
// Close is idempotent.
func (p *Plan) Close() error {
	if p == nil || p.st == nil {
		return nil
	}
	p.st.release()
	return nil
}

// Instance is the running state of one Plan: activations, scratchpad,
// stream and primitives (built per batch size on first use and cached).
// With more than one thread, an OS-locked worker goroutine creates and runs
// them; single-threaded instances run on the calling goroutine's thread.
type Instance struct {
	st *instState
}

type runReq struct {
	in, out []float32
	batch   int
}

type instState struct {
	mu      sync.Mutex // one Run at a time; guards closed
	closed  bool
	wk      *Worker      // worker mode: the worker that owns the C instance
	ownWk   bool         // ... started for this instance alone (closed with it)
	direct  cInstance    // direct mode: run on the caller's thread
	handle  cInstance    // the C instance in either mode (profiling reads it under mu)
	cerr    *C.lcn_error // direct mode: error details (C memory)
	inSize  int          // per sample
	outSize int
	names   []string
}

// NewInstance starts an instance. With one thread it runs every inference
// on the calling goroutine's thread; with more, a worker goroutine locked
// to its own OS thread creates the C instance and runs every inference.
func (p *Plan) NewInstance() (*Instance, error) { return p.NewInstanceOn(nil) }

// NewInstanceOn starts an instance whose C state is made and run on worker
// wk when the plan has more than one thread (see Worker); with one thread,
// or wk nil, it is NewInstance. Close the instance before wk.
func (p *Plan) NewInstanceOn(wk *Worker) (*Instance, error) {
	if p == nil || p.st == nil {
		return nil, ErrClosed
	}
	ps := p.st
	ps.mu.Lock() // the plan must not be closed while the instance takes its reference
	defer ps.mu.Unlock()
	if ps.h == nil {
		return nil, ErrClosed
	}
	plan := ps.h
	create := func(cerr *C.lcn_error) (cInstance, C.lcn_status) {
		var h *C.lcn_inst
		rc := C.lcn_inst_create(plan, &h, cerr)
		return fp32Inst{h}, rc
	}
	st, err := startInstance(ps.thr, ps.in, ps.out, ps.names, wk, create)
	if err != nil {
		return nil, err
	}
	inst := &Instance{st: st}
	closeOnCollect(inst, st)
	return inst, nil
}

// startInstance makes an instance with create: on the caller's thread for
// single-threaded plans (startDirect), else on worker wk, or on a worker of
// its own when wk is nil (startWorker).
func startInstance(thr int, in, out shape, names []string, wk *Worker, create func(*C.lcn_error) (cInstance, C.lcn_status)) (*instState, error) {
	if thr == 1 && directRuns {
		return startDirect(in, out, names, create)
	}
	return startWorker(in, out, names, wk, create)
}

// closeOnCollect closes st, counting a leak, if obj is collected unclosed.
func closeOnCollect[T any](obj *T, st *instState) {
	runtime.AddCleanup(obj, func(s *instState) {
		if s.close() {
			leaked.Add(1)
		}
	}, st)
}

// cInstance is a C instance as a worker drives it: fp32 NCHW in, fp32 out.
type cInstance interface {
	run(r runReq, cerr *C.lcn_error) C.lcn_status
	destroy()
	setProfile(on bool)
	step(batch, i int) (StepTime, bool) // step i of the profile; false past the last
}

type fp32Inst struct{ h *C.lcn_inst }

func (i fp32Inst) run(r runReq, cerr *C.lcn_error) C.lcn_status {
	return C.lcn_inst_run(i.h,
		(*C.float)(unsafe.Pointer(&r.in[0])), C.size_t(len(r.in)), C.int(r.batch),
		(*C.float)(unsafe.Pointer(&r.out[0])), C.size_t(len(r.out)), cerr)
}

func (i fp32Inst) destroy() { C.lcn_inst_destroy(i.h) }

func (i fp32Inst) setProfile(on bool) { C.lcn_inst_set_profile(i.h, C.int(b2i(on))) }

func (i fp32Inst) step(batch, n int) (StepTime, bool) {
	var layer C.int
	var sec C.double
	var runs C.long
	var what [64]C.char
	if C.lcn_inst_profile(i.h, C.int(batch), C.int(n), &layer, &what[0], C.size_t(len(what)), &sec, &runs) != C.LCN_OK {
		return StepTime{}, false
	}
	return stepTime(layer, &what[0], sec, runs), true
}

// startWorker makes the C instance on worker wk's OS thread (on a new
// worker of its own when wk is nil).
func startWorker(in, out shape, names []string, wk *Worker, create func(*C.lcn_error) (cInstance, C.lcn_status)) (*instState, error) {
	st := &instState{
		wk:      wk,
		inSize:  in.c * in.h * in.w,
		outSize: out.c * out.h * out.w,
		names:   names,
	}
	if wk == nil {
		st.wk, st.ownWk = NewWorker(), true
	}
	if err := st.wk.do(job{kind: jobCreate, st: st, create: create}); err != nil {
		if st.ownWk {
			st.wk.Close()
		}
		return nil, err
	}
	return st, nil
}

// Worker is a goroutine locked to its own OS thread that creates and runs
// the C instances given to it. oneDNN's OpenMP keeps a thread pool per
// thread that starts parallel regions: the instances of one worker share
// one pool. A model whose segments are separate instances (fp32 and int8
// layers, say) runs them all on one worker, so that the process has no more
// OpenMP threads than the instances' thread count: libgomp stops spinning
// between parallel regions when it counts more threads than CPUs, and every
// step then waits for a sleeping thread to wake (~80 us).
type Worker struct {
	mu     sync.Mutex // one job at a time; guards closed
	closed bool
	req    chan job
	resp   chan error
	done   chan struct{}
}

type jobKind int

const (
	jobCreate jobKind = iota
	jobRun
	jobDestroy
)

// job is one request to a worker, sent by value (no allocation per Run).
type job struct {
	kind   jobKind
	st     *instState
	r      runReq
	create func(*C.lcn_error) (cInstance, C.lcn_status)
}

// NewWorker starts a worker. Close it after the instances made on it.
func NewWorker() *Worker {
	w := &Worker{req: make(chan job), resp: make(chan error), done: make(chan struct{})}
	go w.loop()
	return w
}

// loop owns the worker's OS thread. The thread is never unlocked, so it
// exits with the goroutine (and libgomp's thread pool of that thread with
// it, after lcn_release_omp_pool).
func (w *Worker) loop() {
	runtime.LockOSThread()
	defer close(w.done)
	cerr := (*C.lcn_error)(C.calloc(1, C.sizeof_lcn_error))
	defer C.free(unsafe.Pointer(cerr)) // free(NULL) is fine
	for j := range w.req {
		if cerr == nil {
			w.resp <- fmt.Errorf("dnn: out of C memory")
			continue
		}
		switch j.kind {
		case jobCreate:
			h, rc := j.create(cerr)
			if rc != C.LCN_OK {
				w.resp <- cError(rc, cerr, j.st.names)
				continue
			}
			j.st.handle = h
		case jobRun:
			if rc := j.st.handle.run(j.r, cerr); rc != C.LCN_OK {
				w.resp <- cError(rc, cerr, j.st.names)
				continue
			}
		case jobDestroy:
			j.st.handle.destroy()
		}
		w.resp <- nil
	}
	C.lcn_release_omp_pool()
}

// do runs j on the worker's thread and waits for it.
func (w *Worker) do(j job) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.req <- j
	return <-w.resp
}

// Close stops the worker once the job in progress ends. Instances still
// open on it can no longer run (ErrClosed); closing them frees their C
// memory on the caller's thread. Idempotent.
func (w *Worker) Close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.req)
	w.mu.Unlock()
	<-w.done
}

// directRuns lets single-threaded instances run on the caller's thread
// (tests and benchmarks turn it off to compare with the worker).
var directRuns = true

// startDirect makes an instance without a worker: for single-threaded
// plans, every call runs on whatever OS thread the calling goroutine is on.
// With one OpenMP thread nothing is tied to an OS thread (libgomp only keeps
// a thread pool per OS thread for parallel regions of two or more threads,
// and lcn_inst_run sets the thread count on every call), so this saves the
// hand-off to a worker and back on every Run: two goroutine wake-ups, each
// a futex wake of a parked OS thread when the worker's thread is locked.
func startDirect(in, out shape, names []string, create func(*C.lcn_error) (cInstance, C.lcn_status)) (*instState, error) {
	cerr := (*C.lcn_error)(C.calloc(1, C.sizeof_lcn_error))
	if cerr == nil {
		return nil, fmt.Errorf("dnn: out of C memory")
	}
	h, rc := create(cerr)
	if rc != C.LCN_OK {
		err := cError(rc, cerr, names)
		C.free(unsafe.Pointer(cerr))
		return nil, err
	}
	return &instState{
		direct:  h,
		handle:  h,
		cerr:    cerr,
		inSize:  in.c * in.h * in.w,
		outSize: out.c * out.h * out.w,
		names:   names,
	}, nil
}

// close stops the worker and frees the C instance; it reports whether the
// instance was open.
func (s *instState) close() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	if s.direct != nil {
		s.direct.destroy()
		C.free(unsafe.Pointer(s.cerr))
		return true
	}
	if err := s.wk.do(job{kind: jobDestroy, st: s}); err != nil {
		s.handle.destroy() // the shared worker is gone: free it here
	}
	if s.ownWk {
		s.wk.Close()
	}
	return true
}

// run checks the buffers and hands one inference to the worker.
func (s *instState) run(in []float32, batch int, out []float32) error {
	if batch <= 0 || batch > math.MaxInt32 || batch > math.MaxInt/max(s.inSize, s.outSize) {
		return fmt.Errorf("%w: batch = %d", ErrInvalidInput, batch)
	}
	if len(in) != batch*s.inSize {
		return fmt.Errorf("%w: len(in) = %d, want %d (batch %d x %d)", ErrInvalidInput, len(in), batch*s.inSize, batch, s.inSize)
	}
	if len(out) != batch*s.outSize {
		return fmt.Errorf("%w: len(out) = %d, want %d (batch %d x %d)", ErrInvalidInput, len(out), batch*s.outSize, batch, s.outSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.direct != nil {
		if rc := s.direct.run(runReq{in: in, out: out, batch: batch}, s.cerr); rc != C.LCN_OK {
			return cError(rc, s.cerr, s.names)
		}
		return nil
	}
	return s.wk.do(job{kind: jobRun, st: s, r: runReq{in: in, out: out, batch: batch}})
}

// Run runs one inference. in holds batch×C×H×W float32 values (NCHW, the
// Plan's InputShape per sample), out receives batch×prod(OutputShape()).
// The slices are only used during the call. Run is safe to call from any
// goroutine; calls on one Instance run one at a time. It does not allocate
// in steady state (the first Run of a batch size builds its primitives).
func (inst *Instance) Run(in []float32, batch int, out []float32) error {
	if inst == nil || inst.st == nil {
		return ErrClosed
	}
	err := inst.st.run(in, batch, out)
	runtime.KeepAlive(inst)
	return err
}

// SetProfiling turns the timing of every step of every Run on or off and
// zeroes what was measured. Profiling costs two clock reads per step.
func (inst *Instance) SetProfiling(on bool) error {
	if inst == nil || inst.st == nil {
		return ErrClosed
	}
	return inst.st.setProfiling(on)
}

// Profile returns the time of every step of the runs with batch size batch
// since profiling was turned on, in execution order, the input and output
// copies last. It is empty when no such run was profiled.
func (inst *Instance) Profile(batch int) ([]StepTime, error) {
	if inst == nil || inst.st == nil {
		return nil, ErrClosed
	}
	return inst.st.profile(batch)
}

func (s *instState) setProfiling(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.handle.setProfile(on)
	return nil
}

func (s *instState) profile(batch int) ([]StepTime, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []StepTime
	for i := 0; ; i++ {
		st, ok := s.handle.step(batch, i)
		if !ok {
			break
		}
		if st.Runs == 0 {
			return nil, nil
		}
		out = append(out, st)
	}
	return out, nil
}

// stepTime converts what lcn_inst_profile / lcn_i8inst_profile return.
func stepTime(layer C.int, what *C.char, sec C.double, runs C.long) StepTime {
	return StepTime{Layer: int(layer), What: C.GoString(what), Total: time.Duration(float64(sec) * 1e9), Runs: int(runs)}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Close stops the instance's worker and frees its C memory. It waits for a
// Run in progress. Close is idempotent.
func (inst *Instance) Close() error {
	if inst == nil || inst.st == nil {
		return nil
	}
	inst.st.close()
	return nil
}
