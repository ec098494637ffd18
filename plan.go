package lcnet

import (
	"context"
	"errors"
	"fmt"

	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/graph"
)

// backend is the seam between the planner and a family of kernels: it says
// which nodes it can run and compiles a segment of them.
type backend interface {
	name() string
	// supports returns nil if the backend runs n well, or why not.
	supports(g *graph.Graph, n *graph.Node) error
	// compile prepares a segment: a single-input, single-output graph.
	compile(seg *graph.Graph) (program, error)
}

// program is a compiled segment; its instances share its weights.
type program interface {
	newInstance() (instance, error)
	close() error
}

// instance runs one inference of a segment at a time. Run reads batch
// samples from in and writes batch outputs to out (NCHW, flat).
type instance interface {
	run(ctx context.Context, in []float32, batch int, out []float32) error
	close() error
}

// segment is a run of consecutive nodes of the optimized graph on one backend.
type segment struct {
	backend string
	nodes   []int // indices into plan.g.Nodes
	g       *graph.Graph
	prog    program
	outSize int // per sample
}

// plan assigns every node of an optimized graph to a backend and compiles
// the segments once.
type plan struct {
	g    *graph.Graph
	segs []*segment
	// nodeBackend[i] is the backend of g.Nodes[i]; nodeWhy[i] why it is
	// not on the preferred one (empty when it is).
	nodeBackend []string
	nodeWhy     []string
	preferred   string
	// int8Active: some nodes run on the int8 backend; int8Note says why
	// not when a calibration table was given but is not used.
	int8Active bool
	int8Note   string
	int8BE     backend
}

func newPlan(g *graph.Graph, o Options) (*plan, error) {
	pref, err := pickBackend(o)
	if err != nil {
		return nil, err
	}
	goBE := goBackend{}
	p := &plan{g: g, preferred: pref.name()}
	p.nodeBackend = make([]string, len(g.Nodes))
	p.nodeWhy = make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		p.nodeBackend[i] = pref.name()
		if err := pref.supports(g, n); err != nil {
			p.nodeBackend[i] = goBE.name()
			p.nodeWhy[i] = err.Error()
		}
	}
	if o.Calibration != nil && !o.NoInt8 {
		p.int8Active, p.int8Note = markInt8(g, o.Calibration, p.nodeBackend, pref.name())
		p.int8BE = int8Backend{cal: o.Calibration, threads: o.Threads, noTuning: o.noTuning}
		for i, n := range g.Nodes {
			if e := o.Calibration.Nodes[n.Name]; p.nodeBackend[i] == int8Name && isConvOrFC(n) && !e.Int8 {
				p.nodeWhy[i] = "fp32 inside the int8 chain"
				if e.Why != "" {
					p.nodeWhy[i] += ": " + e.Why
				}
			}
		}
	}
	// A node the preferred backend accepted but then failed to compile
	// (a validation rule supports() does not know, a primitive oneDNN does
	// not implement) moves to Go, visibly, and the plan is made again.
	for attempt := 0; ; attempt++ {
		err := p.compile(pref)
		if err == nil {
			return p, nil
		}
		p.close()
		p.segs = nil
		moved := false
		var ne *nodeError
		if errors.As(err, &ne) && attempt <= len(g.Nodes) {
			for i, n := range g.Nodes {
				if n.Name == ne.node && p.nodeBackend[i] == int8Name {
					// an int8 node oneDNN cannot build runs in fp32
					p.nodeBackend[i] = pref.name()
					p.nodeWhy[i] = "int8 failed, fp32: " + ne.err.Error()
					moved = true
					continue
				}
				if n.Name == ne.node && p.nodeBackend[i] != goBE.name() {
					p.nodeBackend[i] = goBE.name()
					p.nodeWhy[i] = ne.err.Error()
					moved = true
				}
			}
		}
		if !moved {
			return nil, err
		}
	}
}

// compile splits the nodes into segments by their backends and compiles
// each segment.
func (p *plan) compile(pref backend) error {
	goBE := goBackend{}
	segs, ok := splitSegments(p.g, p.nodeBackend)
	if !ok {
		// The preferred backend's runs do not form single-input,
		// single-output segments: run everything in Go, visibly.
		for i := range p.nodeBackend {
			if p.nodeBackend[i] != goBE.name() {
				p.nodeBackend[i] = goBE.name()
				p.nodeWhy[i] = "graph cannot be split into single-input segments"
			}
		}
		segs, _ = splitSegments(p.g, p.nodeBackend)
	}
	for _, s := range segs {
		var be backend = goBE
		if s.backend == pref.name() {
			be = pref
		} else if s.backend == int8Name {
			be = p.int8BE
		}
		prog, err := be.compile(s.g)
		if err != nil {
			return fmt.Errorf("lcnet: %s backend: %w", s.backend, err)
		}
		s.prog = prog
		p.segs = append(p.segs, s)
	}
	return nil
}

// nodeError is a backend's compile failure caused by one node: the planner
// moves that node to Go and tries again.
type nodeError struct {
	node string
	err  error
}

func (e *nodeError) Error() string { return fmt.Sprintf("node %q: %v", e.node, e.err) }

func (e *nodeError) Unwrap() error { return e.err }

func pickBackend(o Options) (backend, error) {
	switch o.Backend {
	case Go:
		return goBackend{}, nil
	case DNNL:
		be, err := newDNNLBackend(o.Threads)
		if err != nil {
			return nil, fmt.Errorf("lcnet: dnnl backend requested: %w", err)
		}
		return be, nil
	default:
		if be, err := newDNNLBackend(o.Threads); err == nil {
			return be, nil
		}
		return goBackend{}, nil
	}
}

// splitSegments cuts the node list into maximal runs on one backend and
// extracts each as a graph. It reports false when a run would need more
// than one input or output.
func splitSegments(g *graph.Graph, be []string) ([]*segment, bool) {
	var segs []*segment
	for i := 0; i < len(g.Nodes); {
		j := i + 1
		for j < len(g.Nodes) && be[j] == be[i] {
			j++
		}
		idx := make([]int, 0, j-i)
		for k := i; k < j; k++ {
			idx = append(idx, k)
		}
		sg, err := extract(g, idx)
		if err != nil {
			return nil, false
		}
		segs = append(segs, &segment{backend: be[i], nodes: idx, g: sg, outSize: graph.Numel(sg.OutputShape())})
		i = j
	}
	if len(segs) == 0 {
		// A graph with no nodes: the identity. Run it as an empty Go segment.
		sg := graph.New(g.Name, "x", g.InputShape()...)
		segs = append(segs, &segment{backend: "go", g: sg, outSize: graph.Numel(sg.InputShape())})
	}
	return segs, true
}

var errSplit = errors.New("segment needs more than one input or output")

// extract copies nodes idx of g into a graph of their own, whose input is
// the one value they read from outside and whose output is the one value
// read after them (or the graph output).
func extract(g *graph.Graph, idx []int) (*graph.Graph, error) {
	inside := map[int]bool{}
	for _, k := range idx {
		inside[g.Nodes[k].Output] = true
	}
	ext := -1
	for _, k := range idx {
		for _, v := range g.Nodes[k].Inputs {
			if !inside[v] {
				if ext >= 0 && ext != v {
					return nil, errSplit
				}
				ext = v
			}
		}
	}
	outs := map[int]bool{}
	last := idx[len(idx)-1]
	for k, n := range g.Nodes {
		if k >= idx[0] && k <= last {
			continue
		}
		for _, v := range n.Inputs {
			if inside[v] {
				outs[v] = true
			}
		}
	}
	if inside[g.Output] {
		outs[g.Output] = true
	}
	if len(outs) != 1 || ext < 0 {
		return nil, errSplit
	}
	var out int
	for v := range outs {
		out = v
	}
	sg := graph.New(g.Name, g.Values[ext].Name, g.Values[ext].Shape...)
	remap := map[int]int{ext: sg.Input}
	for _, k := range idx {
		n := g.Nodes[k]
		ins := make([]int, len(n.Inputs))
		for i, v := range n.Inputs {
			ins[i] = remap[v]
		}
		id, err := sg.Add(n.Name, n.Op, ins...)
		if err != nil {
			return nil, err
		}
		remap[n.Output] = id
	}
	sg.Output = remap[out]
	return sg, nil
}

// workerProgram is a program whose instances can share a dnn.Worker.
type workerProgram interface {
	newInstanceOn(w *dnn.Worker) (instance, error)
	threads() int
}

// newRunner makes one instance of every segment with the buffers between them.
// Two or more multi-threaded oneDNN segments (fp32 and int8 layers) share one
// worker thread, hence one OpenMP pool (see dnn.Worker).
func (p *plan) newRunner() (*runner, error) {
	r := &runner{p: p}
	shared := 0
	for _, s := range p.segs {
		if wp, ok := s.prog.(workerProgram); ok && wp.threads() > 1 {
			shared++
		}
	}
	if shared > 1 {
		r.worker = dnn.NewWorker()
	}
	for _, s := range p.segs {
		var inst instance
		var err error
		if wp, ok := s.prog.(workerProgram); ok && r.worker != nil {
			inst, err = wp.newInstanceOn(r.worker)
		} else {
			inst, err = s.prog.newInstance()
		}
		if err != nil {
			r.close()
			return nil, fmt.Errorf("lcnet: %s backend: %w", s.backend, err)
		}
		r.insts = append(r.insts, inst)
	}
	r.bufs = make([][]float32, len(p.segs))
	return r, nil
}

func (p *plan) close() error {
	var errs []error
	for _, s := range p.segs {
		if s.prog != nil {
			errs = append(errs, s.prog.close())
			s.prog = nil
		}
	}
	return errors.Join(errs...)
}

// runner is one set of instances: one inference at a time.
type runner struct {
	p      *plan
	worker *dnn.Worker // shared by the oneDNN segments' instances, or nil
	insts  []instance
	bufs   [][]float32 // outputs of all but the last segment
	cur    int         // the segment running, for errors
	closed bool
}

func (r *runner) run(ctx context.Context, in []float32, batch int, out []float32) error {
	x := in
	for i, inst := range r.insts {
		r.cur = i
		dst := out
		if i < len(r.insts)-1 {
			n := batch * r.p.segs[i].outSize
			if cap(r.bufs[i]) < n {
				r.bufs[i] = make([]float32, n)
			}
			dst = r.bufs[i][:n]
		}
		if i > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := inst.run(ctx, x, batch, dst); err != nil {
			return err
		}
		x = dst
	}
	return nil
}

// where names the segment the runner is in (or last ran): its backend and
// its first and last nodes with their ops.
func (r *runner) where() string {
	if r.cur < 0 || r.cur >= len(r.p.segs) {
		return "no segment"
	}
	s := r.p.segs[r.cur]
	desc := fmt.Sprintf("%s segment %d of %d", s.backend, r.cur+1, len(r.p.segs))
	if len(s.nodes) == 0 {
		return desc + " (no nodes)"
	}
	node := func(k int) string {
		n := r.p.g.Nodes[k]
		return fmt.Sprintf("%q (%s)", n.Name, n.Op.Type())
	}
	first, last := s.nodes[0], s.nodes[len(s.nodes)-1]
	if first == last {
		return desc + ", node " + node(first)
	}
	return fmt.Sprintf("%s, nodes %s to %s", desc, node(first), node(last))
}

func (r *runner) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	for _, inst := range r.insts {
		errs = append(errs, inst.close())
	}
	r.worker.Close() // after its instances
	return errors.Join(errs...)
}
