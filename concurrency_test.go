package lcnet_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/graph"
)

// raceBuild reports whether the test binary was built with -race.
var raceBuild = func() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}()

const textLineModel = "third_party/models/pplcnet_x0_25_textline_ori/paddle"

// everyBackend is Go, and oneDNN when it is compiled in and usable.
func everyBackend() []lcnet.Backend {
	bs := []lcnet.Backend{lcnet.Go}
	if lcnet.DNNLISA() != "" {
		bs = append(bs, lcnet.DNNL)
	}
	return bs
}

// job is one inference of the concurrency test: a batch of 1 to 3
// samples, given as indices into the sample pool.
type job struct {
	batch int
	in    []float32
	want  []float32 // the serial result, bit for bit
}

// makeJobs draws n jobs over a pool of distinct samples and computes each
// one's result serially.
func makeJobs(t *testing.T, m *lcnet.Model, n int, seed uint64) []job {
	r := rand.New(rand.NewPCG(seed, 3))
	size := graph.Numel(m.InputShape())
	pool := make([][]float32, 8)
	for i := range pool {
		pool[i] = make([]float32, size)
		for k := range pool[i] {
			pool[i][k] = float32(r.NormFloat64())
		}
	}
	jobs := make([]job, n)
	for i := range jobs {
		b := 1 + i%3
		in := make([]float32, 0, b*size)
		for range b {
			in = append(in, pool[r.IntN(len(pool))]...)
		}
		want, err := m.Run(in, b)
		if err != nil {
			t.Fatal(err)
		}
		jobs[i] = job{batch: b, in: in, want: want}
	}
	return jobs
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestConcurrentInferenceBitIdentical: one model (the real text-line
// classifier) shared by 8 goroutines running 10,000 inferences of mixed
// samples and batch sizes 1-3, through Run, RunInto and RunContext, gives
// exactly the serial results, on every backend.
func TestConcurrentInferenceBitIdentical(t *testing.T) {
	total := 10000
	switch {
	case raceBuild:
		total = 200
	case testing.Short():
		total = 600
	}
	for _, be := range everyBackend() {
		t.Run(string(be), func(t *testing.T) {
			m, err := lcnet.Load(textLineModel, &lcnet.OpenOptions{Options: lcnet.Options{Backend: be, MaxInstances: 4}})
			if err != nil {
				t.Skip("real model:", err)
			}
			defer m.Close()
			jobs := makeJobs(t, m, 24, 7)
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			t0 := time.Now()
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 9))
					outs := make([][]float32, 4) // RunInto buffers by batch
					for {
						i := next.Add(1) - 1
						if i >= int64(total) {
							return
						}
						j := jobs[r.IntN(len(jobs))]
						var got []float32
						var err error
						switch i % 3 {
						case 0:
							got, err = m.Run(j.in, j.batch)
						case 1:
							if outs[j.batch] == nil {
								outs[j.batch] = make([]float32, len(j.want))
							}
							got = outs[j.batch]
							err = m.RunInto(j.in, j.batch, got)
						default:
							got = make([]float32, len(j.want))
							err = m.RunContext(context.Background(), j.in, j.batch, got)
						}
						if err != nil {
							errs <- fmt.Errorf("inference %d: %w", i, err)
							return
						}
						if !sameBits(got, j.want) {
							errs <- fmt.Errorf("inference %d (batch %d): result differs from the serial run", i, j.batch)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			t.Logf("%d inferences on 8 goroutines in %v", total, time.Since(t0).Round(time.Millisecond))
		})
	}
}

// TestCloseDuringInference closes a model while 8 goroutines run it, in
// many rounds with random timing: every call returns nil (it finished) or
// ErrClosed, results that come back are right, and no C object survives.
func TestCloseDuringInference(t *testing.T) {
	rounds := 30
	if raceBuild || testing.Short() {
		rounds = 6
	}
	for _, be := range everyBackend() {
		t.Run(string(be), func(t *testing.T) {
			live0 := dnn.LiveHandles()
			leaked0 := dnn.LeakedHandles()
			r := rand.New(rand.NewPCG(11, uint64(len(be))))
			finished, closed := 0, 0
			for round := range rounds {
				m, err := lcnet.Load(textLineModel, &lcnet.OpenOptions{Options: lcnet.Options{Backend: be, MaxInstances: 1 + round%3}})
				if err != nil {
					t.Skip("real model:", err)
				}
				jobs := makeJobs(t, m, 3, uint64(round))
				var wg sync.WaitGroup
				var nFinished, nClosed atomic.Int64
				errs := make(chan error, 8)
				for w := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for k := 0; ; k++ {
							j := jobs[(w+k)%len(jobs)]
							out := make([]float32, len(j.want))
							ctx, cancel := context.Background(), context.CancelFunc(func() {})
							if k%4 == 3 {
								ctx, cancel = context.WithTimeout(ctx, time.Duration(1+k%5)*time.Millisecond)
							}
							err := m.RunContext(ctx, j.in, j.batch, out)
							cancel()
							switch {
							case errors.Is(err, lcnet.ErrClosed):
								nClosed.Add(1)
								return
							case errors.Is(err, context.DeadlineExceeded):
								continue
							case err != nil:
								errs <- err
								return
							case !sameBits(out, j.want):
								errs <- errors.New("a result finished during Close differs from the serial run")
								return
							}
							nFinished.Add(1)
						}
					}()
				}
				time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Errorf("round %d: %v", round, err)
				}
				if nClosed.Load() != 8 {
					t.Errorf("round %d: %d goroutines saw ErrClosed, want 8", round, nClosed.Load())
				}
				if err := m.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				finished += int(nFinished.Load())
				closed += int(nClosed.Load())
			}
			if live := dnn.LiveHandles(); live != live0 {
				t.Errorf("%d live C handles after all models closed, %d before", live, live0)
			}
			if l := dnn.LeakedHandles(); l != leaked0 {
				t.Errorf("%d handles were freed by the cleanup safety net (leaked), want 0", l-leaked0)
			}
			t.Logf("%d rounds: %d inferences finished, %d calls got ErrClosed", rounds, finished, closed)
		})
	}
}
