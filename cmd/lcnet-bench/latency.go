package main

import (
	"encoding/json"
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

func runLatency(args []string, stdout io.Writer) error {
	fs := pflag.NewFlagSet("latency", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	var cfg latencyConfig
	fs.IntVar(&cfg.runs, "runs", 100, "timed runs per goroutine")
	fs.IntVar(&cfg.warmup, "warmup", 10, "untimed warm-up runs per goroutine")
	fs.IntVar(&cfg.batch, "batch", 1, "images per run")
	fs.IntVar(&cfg.concurrency, "concurrency", 1, "goroutines running the model at once")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.runs < 1 || cfg.warmup < 0 || cfg.batch < 1 || cfg.concurrency < 1 || cfg.concurrency > 1024 || cfg.batch > 4096 {
		return fmt.Errorf("%w: --runs, --batch and --concurrency must be positive, --warmup not negative", errUsage)
	}
	m, err := mf.open(cfg.concurrency)
	if err != nil {
		return err
	}
	defer m.Close()
	lat, wall, err := measure(m, cfg)
	if err != nil {
		return err
	}
	med, lo, hi := summarize(lat)
	r := latencyResult{Model: mf.model, Backend: m.Backend(), Threads: mf.threads, Batch: cfg.batch, Concurrency: cfg.concurrency,
		Runs: len(lat), MedianMS: med, MinMS: lo, MaxMS: hi, ImagesPerS: float64(len(lat)*cfg.batch) / wall.Seconds()}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "%s backend=%s threads=%d batch=%d concurrency=%d runs=%d: median %.3f ms, min %.3f ms, max %.3f ms, %.1f images/s\n",
		r.Model, r.Backend, r.Threads, r.Batch, r.Concurrency, r.Runs, r.MedianMS, r.MinMS, r.MaxMS, r.ImagesPerS)
	return nil
}
