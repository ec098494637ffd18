package fallback

import (
	"context"
	"errors"
	"fmt"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/prefault"
)

// ErrInput is wrapped by the errors Run returns for a bad batch size or
// buffer length.
var ErrInput = errors.New("fallback: bad input")

// ErrUnsupported is wrapped by the error Compile returns for an op it does
// not know.
var ErrUnsupported = errors.New("unsupported op")

// kernel is one compiled node. run computes y from x0 (and x1 for two-input
// ops) for batch samples; each slice holds exactly batch × the per-sample
// size of its value, channels-last. scratch holds batch × scratch() floats.
// y may be x0 only for kernels that say so through inPlace.
type kernel interface {
	run(y, x0, x1 []float32, batch int, scratch []float32)
	// scratch is the per-sample scratch size in floats.
	scratch() int
	// inPlace reports whether y may share x0's buffer.
	inPlace() bool
}

// step is one node of the compiled program.
type step struct {
	name       string
	k          kernel
	x0, x1, y  int // slot indices; x1 is -1 for one-input ops
	n0, n1, ny int // per-sample sizes
}

// Program is a compiled graph: weights packed for the kernels, a schedule
// and a buffer plan. It is read-only and safe for concurrent use.
type Program struct {
	name              string
	inShape, outShape []int
	inC, inS          int // input as [C, S], NCHW
	outC, outS        int // output as [C, S]
	inSlot, outSlot   int
	inSize, outSize   int
	steps             []step
	slotSize          []int // per-sample floats of each buffer slot
	scratchPerSample  int
	isa               isa
}

// Kernels names the kernel set the Program was compiled for: "avx512",
// "avx2" or "go".
func (p *Program) Kernels() string { return p.isa.String() }

// InputShape is the per-sample input shape ([3, H, W] for PP-LCNet). Run
// reads batch × its product floats, NCHW.
func (p *Program) InputShape() []int { return append([]int(nil), p.inShape...) }

// OutputShape is the per-sample output shape. Run writes batch × its
// product floats, NCHW.
func (p *Program) OutputShape() []int { return append([]int(nil), p.outShape...) }

// channelsSpatial splits a per-sample shape into channels (axis 0) and the
// product of the rest.
func channelsSpatial(shape []int) (c, s int) {
	if len(shape) == 0 {
		return 1, 1
	}
	return shape[0], graph.Numel(shape[1:])
}

// Compile checks g, packs its weights and plans its buffers. It never
// modifies g. The error names the first node it cannot run.
func Compile(g *graph.Graph) (*Program, error) {
	if g == nil || len(g.Values) == 0 {
		return nil, fmt.Errorf("fallback: %w: empty graph", graph.ErrGraph)
	}
	if g.Input < 0 || g.Input >= len(g.Values) || g.Output < 0 || g.Output >= len(g.Values) {
		return nil, fmt.Errorf("fallback: %w: input or output out of range", graph.ErrGraph)
	}
	nv := len(g.Values)
	shapes := make([][]int, nv)
	ready := make([]bool, nv)
	in := g.Values[g.Input].Shape
	for _, d := range in {
		if d <= 0 {
			return nil, fmt.Errorf("fallback: input %q has shape %v: %w", g.Values[g.Input].Name, in, graph.ErrShape)
		}
	}
	shapes[g.Input] = append([]int(nil), in...)
	ready[g.Input] = true

	// Shape inference on our own copies (g is not touched) and kernels.
	kernels := make([]kernel, len(g.Nodes))
	alias := make([]bool, len(g.Nodes))
	for i, n := range g.Nodes {
		if n == nil || n.Op == nil {
			return nil, fmt.Errorf("fallback: node %d: %w: nil node or op", i, graph.ErrGraph)
		}
		ins := make([][]int, len(n.Inputs))
		for j, v := range n.Inputs {
			if v < 0 || v >= nv || !ready[v] {
				return nil, fmt.Errorf("fallback: node %q (%s): %w: input %d is not produced before it", n.Name, n.Op.Type(), graph.ErrGraph, v)
			}
			ins[j] = shapes[v]
		}
		if n.Output < 0 || n.Output >= nv || ready[n.Output] {
			return nil, fmt.Errorf("fallback: node %q (%s): %w: output value %d is produced twice or out of range", n.Name, n.Op.Type(), graph.ErrGraph, n.Output)
		}
		out, err := n.Op.InferShape(ins)
		if err != nil {
			return nil, fmt.Errorf("fallback: node %q (%s): %w", n.Name, n.Op.Type(), err)
		}
		shapes[n.Output] = out
		ready[n.Output] = true
		k, isAlias, err := newKernel(n.Op, ins, out)
		if err != nil {
			return nil, fmt.Errorf("fallback: node %q (%s): %w", n.Name, n.Op.Type(), err)
		}
		kernels[i], alias[i] = k, isAlias
	}
	if !ready[g.Output] {
		return nil, fmt.Errorf("fallback: %w: output %q is never produced", graph.ErrGraph, g.Values[g.Output].Name)
	}

	p := &Program{name: g.Name, inShape: shapes[g.Input], outShape: shapes[g.Output], isa: useISA}
	p.inC, p.inS = channelsSpatial(p.inShape)
	p.outC, p.outS = channelsSpatial(p.outShape)
	p.inSize, p.outSize = graph.Numel(p.inShape), graph.Numel(p.outShape)

	// Aliases (Identity, layout-preserving Reshape) share their input's
	// buffer: root maps each value to the value that owns its buffer.
	root := make([]int, nv)
	for v := range root {
		root[v] = v
	}
	for i, n := range g.Nodes {
		if alias[i] {
			root[n.Output] = root[n.Inputs[0]]
		}
	}
	const keep = int(^uint(0) >> 1)
	last := make([]int, nv) // last node reading each root's buffer
	for v := range last {
		last[v] = -1
	}
	for i, n := range g.Nodes {
		for _, v := range n.Inputs {
			last[root[v]] = max(last[root[v]], i)
		}
	}
	last[root[g.Output]] = keep

	// Greedy buffer assignment with in-place reuse for element-wise ops.
	slotOf := make([]int, nv)
	for v := range slotOf {
		slotOf[v] = -1
	}
	var free []int
	take := func(size int) int {
		best := -1
		for fi, s := range free {
			if best < 0 {
				best = fi
				continue
			}
			bs, ss := p.slotSize[free[best]], p.slotSize[s]
			fitsB, fitsS := bs >= size, ss >= size
			switch {
			case fitsS && (!fitsB || ss < bs):
				best = fi
			case !fitsS && !fitsB && ss > bs:
				best = fi
			}
		}
		if best < 0 {
			p.slotSize = append(p.slotSize, size)
			return len(p.slotSize) - 1
		}
		s := free[best]
		free = append(free[:best], free[best+1:]...)
		p.slotSize[s] = max(p.slotSize[s], size)
		return s
	}
	slotOf[g.Input] = take(p.inSize)
	p.inSlot = slotOf[g.Input]
	if last[g.Input] < 0 && root[g.Output] != g.Input {
		free = append(free, slotOf[g.Input])
	}
	for i, n := range g.Nodes {
		size := graph.Numel(shapes[n.Output])
		if alias[i] {
			continue // shares root's slot, assigned below via root
		}
		r0 := root[n.Inputs[0]]
		var s int
		if kernels[i].inPlace() && last[r0] == i {
			s = slotOf[r0]
			p.slotSize[s] = max(p.slotSize[s], size)
		} else {
			s = take(size)
		}
		slotOf[n.Output] = s
		// Release inputs whose buffers die here (once each).
		for j, v := range n.Inputs {
			r := root[v]
			dup := false
			for _, w := range n.Inputs[:j] {
				dup = dup || root[w] == r
			}
			if !dup && last[r] == i && slotOf[r] != s {
				free = append(free, slotOf[r])
			}
		}
		if last[n.Output] < 0 {
			free = append(free, s) // produced but never read
		}
	}
	slot := func(v int) int { return slotOf[root[v]] }
	for i, n := range g.Nodes {
		if alias[i] {
			continue
		}
		st := step{name: n.Name, k: kernels[i], x0: slot(n.Inputs[0]), x1: -1, y: slot(n.Output),
			n0: graph.Numel(shapes[n.Inputs[0]]), ny: graph.Numel(shapes[n.Output])}
		if len(n.Inputs) > 1 {
			st.x1, st.n1 = slot(n.Inputs[1]), graph.Numel(shapes[n.Inputs[1]])
		}
		p.steps = append(p.steps, st)
		p.scratchPerSample = max(p.scratchPerSample, kernels[i].scratch())
	}
	p.outSlot = slot(g.Output)
	return p, nil
}

// newKernel builds the kernel for op on inputs of the given shapes. alias
// reports an op that only re-labels its input's buffer.
func newKernel(op graph.Op, in [][]int, out []int) (k kernel, alias bool, err error) {
	switch o := op.(type) {
	case *graph.Conv2D:
		return newConv(o, in[0], out), false, nil
	case *graph.FC:
		return newFC(o), false, nil
	case *graph.BatchNorm:
		return newBatchNorm(o, in[0]), false, nil
	case *graph.Act:
		return &actKernel{act: o.Act}, false, nil
	case *graph.BiasAdd:
		c, _ := channelsSpatial(in[0])
		return &channelAffine{c: c, shift: append([]float32(nil), o.Bias.Data...)}, false, nil
	case *graph.Scale:
		return &scaleKernel{f: o.Factor}, false, nil
	case *graph.Mul:
		return newMul(in[0], in[1]), false, nil
	case *graph.Identity:
		return nil, true, nil
	case *graph.Reshape:
		_, s0 := channelsSpatial(in[0])
		_, s1 := channelsSpatial(out)
		if s0 == 1 && s1 == 1 {
			return nil, true, nil
		}
		return newReshape(in[0], out), false, nil
	case *graph.GlobalAvgPool:
		return &avgPool{c: in[0][0], s: in[0][1] * in[0][2]}, false, nil
	case *graph.Softmax:
		return &softmax{n: out[0]}, false, nil
	case *graph.SE:
		return newSE(o, in[0]), false, nil
	}
	return nil, false, fmt.Errorf("%w %T", ErrUnsupported, op)
}

// Instance is the per-goroutine state of a Program: activation buffers,
// allocated on first use and grown when a larger batch arrives. One Instance
// runs one inference at a time.
type Instance struct {
	p       *Program
	batch   int // capacity in samples
	slots   [][]float32
	scratch []float32
}

// NewInstance returns a new Instance of p. Buffers are allocated by the
// first Run (or by Reserve).
func (p *Program) NewInstance() *Instance {
	return &Instance{p: p, slots: make([][]float32, len(p.slotSize))}
}

// Reserve allocates buffers for batches up to batch samples so that later
// Runs do not allocate.
func (inst *Instance) Reserve(batch int) {
	if batch <= inst.batch {
		return
	}
	for i, s := range inst.p.slotSize {
		inst.slots[i] = prefault.Slice(make([]float32, s*batch))
	}
	inst.scratch = prefault.Slice(make([]float32, inst.p.scratchPerSample*batch))
	inst.batch = batch
}

// Run computes the network on batch samples: in holds batch ×
// prod(InputShape()) floats in NCHW order, out receives batch ×
// prod(OutputShape()). In steady state (a batch no larger than before) it
// does not allocate.
func (inst *Instance) Run(in []float32, batch int, out []float32) error {
	return inst.run(nil, in, batch, out)
}

// RunContext is Run with cancellation: ctx is checked before each node and
// its error returned as soon as it is done.
func (inst *Instance) RunContext(ctx context.Context, in []float32, batch int, out []float32) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return inst.run(ctx, in, batch, out)
}

// run is Run and RunContext; a nil ctx is never checked.
func (inst *Instance) run(ctx context.Context, in []float32, batch int, out []float32) error {
	p := inst.p
	switch {
	case batch <= 0:
		return fmt.Errorf("%w: batch %d must be positive", ErrInput, batch)
	case len(in) != batch*p.inSize:
		return fmt.Errorf("%w: input has %d floats, want %d (batch %d × %v)", ErrInput, len(in), batch*p.inSize, batch, p.inShape)
	case len(out) != batch*p.outSize:
		return fmt.Errorf("%w: output has %d floats, want %d (batch %d × %v)", ErrInput, len(out), batch*p.outSize, batch, p.outShape)
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	inst.Reserve(batch)
	x := inst.slots[p.inSlot][:batch*p.inSize]
	toChannelsLast(x, in, batch, p.inC, p.inS)
	for i := range p.steps {
		st := &p.steps[i]
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var x1 []float32
		if st.x1 >= 0 {
			x1 = inst.slots[st.x1][:batch*st.n1]
		}
		st.k.run(inst.slots[st.y][:batch*st.ny], inst.slots[st.x0][:batch*st.n0], x1, batch,
			inst.scratch[:batch*p.scratchPerSample])
	}
	toChannelsFirst(out, inst.slots[p.outSlot][:batch*p.outSize], batch, p.outC, p.outS)
	return nil
}

// toChannelsLast converts batch samples of [C, S] (NCHW) to [S, C].
func toChannelsLast(dst, src []float32, batch, c, s int) {
	if s == 1 || c == 1 {
		copy(dst, src)
		return
	}
	n := c * s
	for b := range batch {
		d, x := dst[b*n:(b+1)*n], src[b*n:(b+1)*n]
		if c == 3 { // images: one pass, sequential writes
			r, g, bl := x[:s], x[s:2*s], x[2*s:3*s]
			d = d[:3*s]
			for si := range r {
				p := d[si*3 : si*3+3 : si*3+3]
				p[0], p[1], p[2] = r[si], g[si], bl[si]
			}
			continue
		}
		// Blocks of 64 pixels keep the c write streams in cache.
		for s0 := 0; s0 < s; s0 += 64 {
			s1 := min(s0+64, s)
			for ci := range c {
				row := x[ci*s+s0 : ci*s+s1]
				for j, v := range row {
					d[(s0+j)*c+ci] = v
				}
			}
		}
	}
}

// toChannelsFirst converts batch samples of [S, C] to [C, S] (NCHW).
func toChannelsFirst(dst, src []float32, batch, c, s int) {
	if s == 1 || c == 1 {
		copy(dst, src)
		return
	}
	n := c * s
	for b := range batch {
		d, x := dst[b*n:(b+1)*n], src[b*n:(b+1)*n]
		for ci := range c {
			row := d[ci*s : (ci+1)*s]
			for si := range row {
				row[si] = x[si*c+ci]
			}
		}
	}
}
