package main

import (
	"fmt"
	"runtime"
	"time"
)

// target is one thing timed by interleave: one of our models on one
// backend and thread count, or the peer runtime on the same network.
type target struct {
	backend string // "dnnl", "go" or a peer name such as "onnxruntime"
	threads int
	label   string // what the progress display shows, e.g. "pplcnet_x1_0 dnnl t=1"
	run     func() error

	lat    []time.Duration // every timed run
	blocks []sample        // one per block, for benchstat
}

// sample is the mean of one block of consecutive timed runs.
type sample struct {
	runs int
	mean time.Duration
}

// schedule says how many runs interleave makes per target.
type schedule struct {
	runs, warmup int
}

// maxBlocks bounds the blocks a schedule is cut into: enough samples for
// benchstat, blocks long enough to be cache-warm.
const maxBlocks = 10

func (s schedule) blockCount() int { return min(s.runs, maxBlocks) }

// leadIn reports whether each block starts with one untimed run. It does
// whenever warm-up is wanted: the run absorbs what the previous target
// left behind (cold caches, another runtime's spinning worker threads).
func (s schedule) leadIn() bool { return s.warmup > 0 }

// settle is the idle pause before each block when several targets take
// turns. Thread pools keep spinning for a while after their last run
// (ONNX Runtime's intra-op workers spin up to ~2^20 pause instructions,
// tens of milliseconds, by default), and a spinning pool takes a CPU from
// whichever target runs next: on a 2-CPU machine that halved our 2-thread
// speed beside ONNX Runtime. After the pause each block starts on an idle
// machine; within a block a runtime still profits from its own spinning.
var settle = 100 * time.Millisecond

// inferences is the number of runs interleave makes per target, for the
// progress display.
func (s schedule) inferences() int {
	n := s.warmup + s.runs
	if s.leadIn() {
		n += s.blockCount()
	}
	return n
}

// interleave times every target in turn: each is warmed up, then the timed
// runs are cut into blocks and the targets take turns block by block (in
// alternating order), so that drift of a shared, noisy machine hits all of
// them alike.
func interleave(ts []*target, s schedule, p *progress) error {
	for _, t := range ts {
		p.describe(t.label + " warm-up")
		for range s.warmup {
			if err := t.run(); err != nil {
				return fmt.Errorf("%s: %w", t.label, err)
			}
			p.add(1)
		}
		t.lat = make([]time.Duration, 0, s.runs)
		t.blocks = t.blocks[:0]
	}
	runtime.GC()
	nb := s.blockCount()
	order := make([]*target, len(ts))
	for b := range nb {
		n := s.runs / nb
		if b < s.runs%nb {
			n++
		}
		copy(order, ts)
		if b%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, t := range order {
			p.describe(t.label)
			if len(ts) > 1 {
				time.Sleep(settle)
			}
			if s.leadIn() {
				if err := t.run(); err != nil {
					return fmt.Errorf("%s: %w", t.label, err)
				}
				p.add(1)
			}
			var sum time.Duration
			for range n {
				t0 := time.Now()
				err := t.run()
				d := time.Since(t0)
				if err != nil {
					return fmt.Errorf("%s: %w", t.label, err)
				}
				t.lat = append(t.lat, d)
				sum += d
				p.add(1)
			}
			t.blocks = append(t.blocks, sample{runs: n, mean: sum / time.Duration(n)})
		}
	}
	return nil
}

// measurement is the summary of one target, as printed and as JSON.
type measurement struct {
	Backend    string  `json:"backend"`
	Threads    int     `json:"threads"`
	Batch      int     `json:"batch"`
	Runs       int     `json:"runs"`
	MedianMS   float64 `json:"median_ms"`
	MinMS      float64 `json:"min_ms"`
	MaxMS      float64 `json:"max_ms"`
	ImagesPerS float64 `json:"images_per_s"`
	// VsPeer is our median over the peer's, measured in the same
	// interleaved run (set on our measurements when a peer ran).
	VsPeer float64 `json:"ratio_to_peer,omitempty"`
	// VsFull is the median over the full network's median, on the same
	// backend and thread count (ablation rows).
	VsFull float64 `json:"ratio_to_full,omitempty"`

	samples []sample
}

func (t *target) summary(batch int) measurement {
	med, lo, hi := summarize(t.lat)
	return measurement{Backend: t.backend, Threads: t.threads, Batch: batch, Runs: len(t.lat),
		MedianMS: med, MinMS: lo, MaxMS: hi, ImagesPerS: float64(batch) * 1000 / med,
		samples: append([]sample(nil), t.blocks...)}
}
