package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/spf13/pflag"
)

type latencyResult struct {
	Model       string  `json:"model"`
	Backend     string  `json:"backend"`
	Threads     int     `json:"threads"`
	Batch       int     `json:"batch"`
	Concurrency int     `json:"concurrency"`
	Runs        int     `json:"runs"`
	MedianMS    float64 `json:"median_ms"`
	MinMS       float64 `json:"min_ms"`
	MaxMS       float64 `json:"max_ms"`
	ImagesPerS  float64 `json:"images_per_s"`
	// Peer is ONNX Runtime on the same network, timed alternately with
	// ours (--peer); Ratio is our median over its median.
	Peer      *latencyResult `json:"peer,omitempty"`
	Ratio     float64        `json:"ratio_to_peer,omitempty"`
	MaxRel    *float64       `json:"peer_max_rel_diff,omitempty"`
	PeerError string         `json:"peer_error,omitempty"`
}

type latencyConfig struct {
	runs, warmup, batch, concurrency int
}

// measure runs warm-up inferences, then cfg.runs timed inferences on each of
// cfg.concurrency goroutines, and returns the per-inference latencies and
// the wall time of the timed part.
func measure(m *lcnet.Model, cfg latencyConfig) ([]time.Duration, time.Duration, error) {
	per := graph.Numel(m.InputShape())
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := make(chan struct{})
	ready := sync.WaitGroup{}
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		ready.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 7))
			in := make([]float32, cfg.batch*per)
			for i := range in {
				in[i] = float32(rng.NormFloat64())
			}
			out := make([]float32, cfg.batch*graph.Numel(m.OutputShape()))
			local := make([]time.Duration, 0, cfg.runs)
			var err error
			for i := 0; i < cfg.warmup && err == nil; i++ {
				err = m.RunInto(in, cfg.batch, out)
			}
			ready.Done()
			<-start
			for i := 0; i < cfg.runs && err == nil; i++ {
				t := time.Now()
				err = m.RunInto(in, cfg.batch, out)
				local = append(local, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, local...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}(uint64(w))
	}
	ready.Wait()
	runtime.GC()
	t0 := time.Now()
	close(start)
	wg.Wait()
	return lat, time.Since(t0), firstErr
}

func summarize(lat []time.Duration) (median, lo, hi float64) {
	s := slices.Clone(lat)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return ms(med), ms(s[0]), ms(s[n-1])
}

func runLatency(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("latency", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	var cfg latencyConfig
	fs.IntVar(&cfg.runs, "runs", 100, "timed runs per goroutine")
	fs.IntVar(&cfg.warmup, "warmup", 10, "untimed warm-up runs per goroutine")
	fs.IntVar(&cfg.batch, "batch", 1, "images per run")
	fs.IntVar(&cfg.concurrency, "concurrency", 1, "goroutines running the model at once")
	asJSON := fs.Bool("json", false, "print JSON")
	peerFlag := fs.String("peer", "", "onnxruntime=PATH/libonnxruntime.so.1: time ONNX Runtime's CPU provider on the same network, alternately with ours (needs --concurrency 1)")
	if err := parse(fs, args); err != nil {
		return err
	}
	peer, err := parsePeer(*peerFlag)
	if err != nil {
		return err
	}
	if peer.name != "" && cfg.concurrency != 1 {
		return fmt.Errorf("%w: --peer needs --concurrency 1", errUsage)
	}
	if cfg.runs < 1 || cfg.warmup < 0 || cfg.batch < 1 || cfg.concurrency < 1 || cfg.concurrency > 1024 || cfg.batch > 4096 {
		return fmt.Errorf("%w: --runs, --batch and --concurrency must be positive, --warmup not negative", errUsage)
	}
	m, err := mf.open(cfg.concurrency)
	if err != nil {
		return err
	}
	defer m.Close()
	var r latencyResult
	var pr peerRun
	if peer.name != "" {
		r, pr, err = latencyWithPeer(m, mf, cfg, peer, stderr)
	} else {
		var lat []time.Duration
		var wall time.Duration
		lat, wall, err = measure(m, cfg)
		if err != nil {
			return err
		}
		med, lo, hi := summarize(lat)
		r = latencyResult{Model: mf.model, Backend: backendLabel(m), Threads: mf.threads, Batch: cfg.batch, Concurrency: cfg.concurrency,
			Runs: len(lat), MedianMS: med, MinMS: lo, MaxMS: hi, ImagesPerS: float64(len(lat)*cfg.batch) / wall.Seconds()}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printLatency(stdout, r)
		if r.Peer != nil {
			printLatency(stdout, *r.Peer)
			fmt.Fprintf(stdout, "ratio ours/ORT (median): %.2f\n", r.Ratio)
		}
		writePeerNote(stdout, &pr)
	}
	if pr.failed() {
		return errPeer
	}
	return nil
}

// backendLabel is m's backend, "+int8" when it runs int8 layers.
func backendLabel(m *lcnet.Model) string {
	if on, _ := m.Int8(); on {
		return m.Backend() + "+int8"
	}
	return m.Backend()
}

func printLatency(w io.Writer, r latencyResult) {
	fmt.Fprintf(w, "%s backend=%s threads=%d batch=%d concurrency=%d runs=%d: median %.3f ms, min %.3f ms, max %.3f ms, %.1f images/s\n",
		r.Model, r.Backend, r.Threads, r.Batch, r.Concurrency, r.Runs, r.MedianMS, r.MinMS, r.MaxMS, r.ImagesPerS)
}

// latencyWithPeer times m and the peer on the same network alternately, one
// inference at a time. When the peer cannot run, ours is still measured and
// the error is reported in the result.
func latencyWithPeer(m *lcnet.Model, mf modelFlags, cfg latencyConfig, peer peerSpec, stderr io.Writer) (latencyResult, peerRun, error) {
	pr := peerRun{spec: peer}
	pr.int8, _ = m.Int8()
	pr.version, pr.initErr = initPeer(peer)
	g := m.Graph()
	in := randomInput(cfg.batch*graph.Numel(g.InputShape()), mf.seed)
	out := make([]float32, cfg.batch*graph.Numel(g.OutputShape()))
	ts := []*target{{backend: backendLabel(m), threads: mf.threads, label: mf.model, run: func() error { return m.RunInto(in, cfg.batch, out) }}}
	var res latencyResult
	if pr.initErr != nil {
		res.PeerError = pr.initErr.Error()
		fmt.Fprintf(stderr, "lcnet-bench: %v; measuring without it\n", pr.initErr)
	} else {
		ps, err := openPeerSession(g, in, cfg.batch, mf.threads)
		if err == nil {
			defer ps.close()
			err = ps.run()
		}
		if err == nil {
			if err := m.RunInto(in, cfg.batch, out); err != nil {
				return res, pr, err
			}
			d := relDiff(out, ps.output())
			pr.maxDiff, res.MaxRel = d, &d
			if d > pr.tol() {
				err = fmt.Errorf("outputs disagree: max |ours - %s| / max |ours| = %.2g > %g", peerName, d, pr.tol())
			}
			ts = append(ts, &target{backend: peerName, threads: mf.threads, label: peerName, run: ps.run})
		}
		if err != nil {
			pr.errs = append(pr.errs, err.Error())
			res.PeerError = err.Error()
		}
	}
	if err := interleave(ts, schedule{runs: cfg.runs, warmup: cfg.warmup}, nil); err != nil {
		return res, pr, err
	}
	sum := func(t *target) latencyResult {
		s := t.summary(cfg.batch)
		return latencyResult{Model: mf.model, Backend: s.Backend, Threads: s.Threads, Batch: cfg.batch, Concurrency: 1,
			Runs: s.Runs, MedianMS: s.MedianMS, MinMS: s.MinMS, MaxMS: s.MaxMS, ImagesPerS: s.ImagesPerS}
	}
	ours := sum(ts[0])
	ours.MaxRel, ours.PeerError = res.MaxRel, res.PeerError
	if len(ts) > 1 {
		p := sum(ts[1])
		ours.Peer = &p
		ours.Ratio = ours.MedianMS / p.MedianMS
	}
	return ours, pr, nil
}
