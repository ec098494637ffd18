// Package lcnet runs PP-LCNet (arXiv 2109.15099) networks from Go: built
// from the paper's family at any scale or loaded from the files users have,
// executed on oneDNN where it is available and on pure-Go kernels
// everywhere.
//
// A Model is safe for concurrent use: each Run borrows one of a bounded set
// of instances (buffers, oneDNN streams and scratchpads) that share the
// model's weights.
package lcnet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/preprocess"
)

// Backend selects the kernels a model runs on.
type Backend string

// The backends. Auto picks oneDNN when the binary was built with it and
// the CPU is supported, pure Go otherwise.
const (
	Auto Backend = "auto"
	DNNL Backend = "dnnl"
	Go   Backend = "go"
)

// ParseBackend accepts "auto", "dnnl" (or "onednn") and "go" (or "purego").
func ParseBackend(s string) (Backend, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case "dnnl", "onednn":
		return DNNL, nil
	case "go", "purego", "fallback":
		return Go, nil
	}
	return "", fmt.Errorf("lcnet: unknown backend %q (want auto, dnnl or go)", s)
}

// Options tune how a model runs. The zero value is the default.
type Options struct {
	// Backend: Auto (default), DNNL or Go.
	Backend Backend
	// Threads is the intra-op thread count of each oneDNN instance
	// (default 1: on small machines one single-threaded instance per core
	// gives the best throughput and the steadiest latency).
	Threads int
	// MaxInstances bounds the instances running at once (default
	// GOMAXPROCS). Concurrent Run calls beyond it wait.
	MaxInstances int
	// Calibration, when set, runs the convolutions it marks in int8 on
	// oneDNN if the CPU has VNNI (fp32 otherwise: see Model.Int8). Load
	// sets it from a file written by Model.SaveInt8 (lcnet quantize).
	Calibration *Calibration
	// NoInt8 runs fp32 even when Calibration is set.
	NoInt8 bool
	// KernelCache, when set (or else $LCNET_KERNEL_CACHE), is a directory
	// where the oneDNN backend keeps the kernel choices it times when it
	// plans a model (per oneDNN build and CPU model), so that a later
	// process plans the same layers without timing them: the first load
	// of x1.0 in a process takes ~0.2 s with timing, ~45 ms without. A
	// missing or damaged file only costs the timing again.
	KernelCache string

	// noTuning skips timing int8 kernel candidates at plan time
	// (Sensitivity builds many short-lived plans).
	noTuning bool
}

// Errors returned by Model methods.
var (
	ErrClosed = errors.New("lcnet: model is closed")
	ErrInput  = errors.New("lcnet: bad input")
	// ErrInternal wraps a panic recovered inside lcnet (a bug, never the
	// caller's fault): the error names the segment and nodes it hit.
	ErrInternal = errors.New("lcnet: internal error")
)

// Model is a network ready to run. Close it when done: oneDNN models hold C
// memory.
type Model struct {
	src     *graph.Graph // as built or imported (for info, counts, export)
	opt     *graph.Graph // optimized, as planned
	plan    *plan
	inSize  int
	outSize int
	maxInst int

	mu      sync.RWMutex // Run holds it for reading, Close for writing
	closed  bool
	idle    chan *runner
	created int
	cmu     sync.Mutex // guards created and all
	all     []*runner

	// Labels are class names, when the model file brought them.
	Labels []string
	// Preprocess is the model's own preprocessing (a Paddle model
	// directory's inference.yml), or nil.
	Preprocess *preprocess.Config
}

// New plans g for execution. g is not modified and may be used again.
func New(g *graph.Graph, o *Options) (*Model, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Threads <= 0 {
		opts.Threads = 1
	}
	if opts.MaxInstances <= 0 {
		opts.MaxInstances = runtime.GOMAXPROCS(0)
	}
	be, err := ParseBackend(string(opts.Backend))
	if err != nil {
		return nil, err
	}
	opts.Backend = be
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("lcnet: %w", err)
	}
	og, err := graph.Optimize(g)
	if err != nil {
		return nil, fmt.Errorf("lcnet: %w", err)
	}
	if err := checkValueSizes(og); err != nil {
		return nil, err
	}
	cache := ""
	if be != Go {
		if cache = kernelCacheFile(&opts); cache != "" {
			loadKernelCache(cache)
		}
	}
	known := len(dnn.Choices())
	p, err := newPlan(og, opts)
	if err != nil {
		return nil, err
	}
	if cache != "" && len(dnn.Choices()) > known {
		_ = saveKernelCache(cache) // best effort: the next process times again
	}
	m := &Model{
		src: g, opt: og, plan: p,
		inSize: graph.Numel(g.InputShape()), outSize: graph.Numel(g.OutputShape()),
		maxInst: opts.MaxInstances,
		idle:    make(chan *runner, opts.MaxInstances),
	}
	return m, nil
}

// MaxValueElements bounds the per-sample size of every value a network
// computes (2^28 float32s, 1 GiB). PP-LCNet's largest, the stem output,
// has 40×112×112 elements at scale 2.5 and 224×224 input; a model whose
// declared shapes (a padding of 65535, say) would need more is refused at
// New rather than failing to allocate, unrecoverably, at its first Run.
const MaxValueElements = 1 << 28

// checkValueSizes applies MaxValueElements, without overflowing on
// absurd shapes.
func checkValueSizes(g *graph.Graph) error {
	for _, v := range g.Values {
		n := int64(1)
		for _, d := range v.Shape {
			if d > 0 && n > MaxValueElements/int64(d) {
				return fmt.Errorf("%w: value %q has shape %v, over %d elements per sample (MaxValueElements)", ErrTooLarge, v.Name, v.Shape, MaxValueElements)
			}
			n *= int64(max(d, 1))
		}
	}
	return nil
}

// Build returns a PP-LCNet family member with deterministic synthetic
// weights drawn from seed.
func Build(c pplcnet.Config, seed uint64, o *Options) (*Model, error) {
	g, err := pplcnet.Build(c, seed)
	if err != nil {
		return nil, err
	}
	return New(g, o)
}

// BuiltIn returns a built-in model by name (pplcnet_x0_25 ... pplcnet_x2_5,
// ImageNet 224×224, 1000 classes) with synthetic weights from seed.
func BuiltIn(name string, seed uint64, o *Options) (*Model, error) {
	s, ok := pplcnet.Names()[name]
	if !ok {
		return nil, fmt.Errorf("lcnet: unknown model name %q (built-in: %s)", name, strings.Join(BuiltInNames(), ", "))
	}
	return Build(pplcnet.Default(s), seed, o)
}

// Graph returns the network as built or imported (before optimization).
// Do not modify it.
func (m *Model) Graph() *graph.Graph { return m.src }

// InputShape is the per-sample input shape, e.g. [3 224 224].
func (m *Model) InputShape() []int { return append([]int(nil), m.src.InputShape()...) }

// OutputShape is the per-sample output shape, e.g. [1000].
func (m *Model) OutputShape() []int { return append([]int(nil), m.src.OutputShape()...) }

// Run runs a batch: in holds batch×C×H×W float32 values in NCHW order. It
// returns batch×OutputShape values.
func (m *Model) Run(in []float32, batch int) ([]float32, error) {
	if batch <= 0 || len(in) != batch*m.inSize {
		return nil, m.checkInput(in, batch, nil)
	}
	out := make([]float32, batch*m.outSize)
	if err := m.RunContext(context.Background(), in, batch, out); err != nil {
		return nil, err
	}
	return out, nil
}

// RunInto is Run writing into out, which must hold batch×OutputShape
// values. It does not allocate in steady state.
func (m *Model) RunInto(in []float32, batch int, out []float32) error {
	return m.RunContext(context.Background(), in, batch, out)
}

// RunContext is RunInto honouring ctx while it waits for an instance and
// between segments.
func (m *Model) RunContext(ctx context.Context, in []float32, batch int, out []float32) (err error) {
	if err := m.checkInput(in, batch, out); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lcnet: %w", err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	r, err := m.acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			// A kernel bug must not take the caller's process down; the
			// runner may be inconsistent, so it is dropped and its slot
			// handed back empty, for the next caller to fill.
			err = fmt.Errorf("%w in %s: %v", ErrInternal, r.where(), p)
			m.drop(r)
			m.idle <- nil
			return
		}
		m.idle <- r
	}()
	return r.run(ctx, in, batch, out)
}

// drop closes a runner and forgets it.
func (m *Model) drop(r *runner) {
	r.close()
	m.cmu.Lock()
	defer m.cmu.Unlock()
	for i, x := range m.all {
		if x == r {
			m.all = append(m.all[:i], m.all[i+1:]...)
			break
		}
	}
}

func (m *Model) checkInput(in []float32, batch int, out []float32) error {
	if batch <= 0 {
		return fmt.Errorf("%w: batch %d must be positive", ErrInput, batch)
	}
	if batch > math.MaxInt32/m.inSize {
		return fmt.Errorf("%w: batch %d is too large", ErrInput, batch)
	}
	if len(in) != batch*m.inSize {
		return fmt.Errorf("%w: input has %d values, want %d×%v = %d", ErrInput, len(in), batch, m.src.InputShape(), batch*m.inSize)
	}
	if len(out) != batch*m.outSize {
		return fmt.Errorf("%w: output buffer has %d values, want %d×%v = %d", ErrInput, len(out), batch, m.src.OutputShape(), batch*m.outSize)
	}
	if i := nonFinite(in); i >= 0 {
		return fmt.Errorf("%w: input value %d (sample %d) is %v", ErrInput, i, i/m.inSize, in[i])
	}
	return nil
}

// nonFinite returns the index of the first NaN or ±Inf in x, or -1. It
// runs on every Run over the whole input, so it reads two float32 per
// uint64 and tests their exponents without branches: an exponent of all
// ones (NaN, Inf) plus one lowest exponent bit carries into the sign bit,
// any other exponent does not (and the lower lane cannot carry into the
// upper one). 3x224x224 takes ~70 us (BenchmarkNonFinite), ~7x less than
// math.IsNaN/IsInf per value, which cost ~0.45 ms of every x0.25 Run.
func nonFinite(x []float32) int {
	const (
		exp  = 0x7f800000_7f800000
		one  = 0x00800000_00800000
		sign = 0x80000000_80000000
	)
	n := len(x) / 2
	w := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(x))), n)
	bad := -1
	const blk = 256
	for i := 0; i < n && bad < 0; i += blk {
		b := w[i:min(i+blk, n)]
		var a0, a1, a2, a3 uint64 // four chains, for instruction-level parallelism
		for len(b) >= 4 {
			a0 |= (b[0] & exp) + one
			a1 |= (b[1] & exp) + one
			a2 |= (b[2] & exp) + one
			a3 |= (b[3] & exp) + one
			b = b[4:]
		}
		for _, v := range b {
			a0 |= (v & exp) + one
		}
		if (a0|a1|a2|a3)&sign != 0 {
			bad = 2 * i
		}
	}
	if bad < 0 {
		if len(x)%2 == 0 {
			return -1
		}
		bad = len(x) - 1
	}
	for i := bad; i < len(x); i++ {
		if b := math.Float32bits(x[i]); b&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// acquire takes an idle runner, or a free slot (at most maxInst exist) in
// which it makes one, or waits for either. The idle channel holds runners
// and nil for slots whose runner was dropped or never made.
func (m *Model) acquire(ctx context.Context) (*runner, error) {
	select {
	case r := <-m.idle:
		return m.fill(r)
	default:
	}
	m.cmu.Lock()
	if m.created < m.maxInst {
		m.created++
		m.cmu.Unlock()
		return m.fill(nil)
	}
	m.cmu.Unlock()
	select {
	case r := <-m.idle:
		return m.fill(r)
	case <-ctx.Done():
		return nil, fmt.Errorf("lcnet: waiting for an instance: %w", ctx.Err())
	}
}

// fill returns r, or makes a runner for an empty slot (r == nil). On
// failure the slot goes back empty, so that waiters are not stranded.
func (m *Model) fill(r *runner) (*runner, error) {
	if r != nil {
		return r, nil
	}
	r, err := m.plan.newRunner()
	if err != nil {
		m.idle <- nil
		return nil, err
	}
	m.cmu.Lock()
	m.all = append(m.all, r)
	m.cmu.Unlock()
	return r, nil
}

// Close waits for running inferences, then frees every instance and the
// weights. It is idempotent; Run after Close returns ErrClosed.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var errs []error
	m.cmu.Lock()
	for _, r := range m.all {
		errs = append(errs, r.close())
	}
	m.all = nil
	m.cmu.Unlock()
	errs = append(errs, m.plan.close())
	return errors.Join(errs...)
}
