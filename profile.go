package lcnet

import (
	"context"
	"fmt"
	"time"

	"github.com/lcnet-go/lcnet/dnn"
)

// StepTime is where part of the time of a run goes: one step of the
// compiled model, as Model.Profile measured it.
type StepTime struct {
	// Node is the graph node the step belongs to (a oneDNN segment may run
	// several nodes in one step: the first is named); "" for a segment's
	// input and output conversions.
	Node string
	// Backend is the backend of the segment: dnnl, dnnl+int8 or go.
	Backend string
	// What runs: oneDNN's implementation, one of the engine's own kernels
	// ("lcn_chain:avx512 x4", "lcn_stem:avx512", "lcn_dw8", ...), or
	// "segment of N nodes, to LAST" for a pure-Go segment timed whole.
	What string
	// Mean is the mean time per run.
	Mean time.Duration
}

// profiler is an instance that times its own steps (the oneDNN backends).
type profiler interface {
	setProfiling(on bool) error
	profile(batch int) ([]dnn.StepTime, error)
	layerNames() []string
}

// Profile runs the model runs times on in (batch samples) and returns where
// the time of a run goes, step by step in execution order, and the mean
// wall time of a run. Steps of oneDNN segments are timed inside the
// segment (two clock reads per step); pure-Go segments are timed whole.
// The model stays usable; Profile takes one instance for its runs.
func (m *Model) Profile(ctx context.Context, in []float32, batch, runs int) ([]StepTime, time.Duration, error) {
	if runs <= 0 {
		return nil, 0, fmt.Errorf("lcnet: profile: %d runs", runs)
	}
	if batch <= 0 || m.inSize == 0 || len(in)%m.inSize != 0 || len(in)/m.inSize != batch {
		return nil, 0, fmt.Errorf("%w: profile: %d values for batch %d, want %d", ErrInput, len(in), batch, batch*m.inSize)
	}
	out := make([]float32, batch*m.outSize)
	if err := m.checkInput(in, batch, out); err != nil {
		return nil, 0, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, 0, ErrClosed
	}
	r, err := m.acquire(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer func() { m.idle <- r }()
	if err := r.run(ctx, in, batch, out); err != nil { // builds what a first run of this batch size builds
		return nil, 0, err
	}
	segTime := make([]time.Duration, len(r.insts))
	for _, inst := range r.insts {
		if p, ok := inst.(profiler); ok {
			if err := p.setProfiling(true); err != nil {
				return nil, 0, err
			}
			defer p.setProfiling(false)
		}
	}
	var wall time.Duration
	for range runs {
		t0 := time.Now()
		if err := r.runTimed(ctx, in, batch, out, segTime); err != nil {
			return nil, 0, err
		}
		wall += time.Since(t0)
	}
	var steps []StepTime
	for i, inst := range r.insts {
		seg := r.p.segs[i]
		p, ok := inst.(profiler)
		if !ok {
			name, what := "", "segment"
			if k := len(seg.nodes); k > 0 {
				name = r.p.g.Nodes[seg.nodes[0]].Name
				what = fmt.Sprintf("segment of %d nodes, to %s", k, r.p.g.Nodes[seg.nodes[k-1]].Name)
			}
			steps = append(steps, StepTime{Node: name, Backend: seg.backend, What: what,
				Mean: segTime[i] / time.Duration(runs)})
			continue
		}
		prof, err := p.profile(batch)
		if err != nil {
			return nil, 0, err
		}
		names := p.layerNames()
		for _, st := range prof {
			name := ""
			if st.Layer >= 0 && st.Layer < len(names) {
				name = names[st.Layer]
			}
			steps = append(steps, StepTime{Node: name, Backend: seg.backend, What: st.What,
				Mean: st.Total / time.Duration(max(st.Runs, 1))})
		}
	}
	return steps, wall / time.Duration(runs), nil
}

// runTimed is run adding each segment's time to segTime.
func (r *runner) runTimed(ctx context.Context, in []float32, batch int, out []float32, segTime []time.Duration) error {
	x := in
	for i, inst := range r.insts {
		r.cur = i
		dst := out
		if i < len(r.insts)-1 {
			dst = r.bufs[i][:batch*r.p.segs[i].outSize]
		}
		t0 := time.Now()
		if err := inst.run(ctx, x, batch, dst); err != nil {
			return err
		}
		segTime[i] += time.Since(t0)
		x = dst
	}
	return nil
}
