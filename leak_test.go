package lcnet_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// rssBytes reads VmRSS from /proc/self/status (0 where there is none).
func rssBytes(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	return 0
}

// settledRSS collects garbage and returns freed spans to the OS before
// reading RSS, so that what remains is live memory: Go's heap in use and
// C memory (oneDNN's plans, instances and scratchpads). It is a
// measurement, not how memory is freed: LeakedHandles checks that no C
// object was freed by the cleanup safety net meanwhile.
func settledRSS(t *testing.T) int64 {
	debug.FreeOSMemory()
	return rssBytes(t)
}

// TestLoadCloseCycles loads, runs and closes models 10,000 times on each
// backend and requires flat RSS and no C handle left.
//
// The slack: RSS is measured after a warm-up (a tenth of the cycles: the
// first cycles grow glibc's arenas, Go's heap target and oneDNN's
// primitive caches to their working size) and again at the end; 16 MB
// allows for allocator fragmentation, which does not grow with the cycle
// count, while a leak of 2 KB per cycle (a single small C struct) would
// exceed it over 10,000 cycles, and one plan or instance per cycle (tens
// of KB each) would exceed it many times over. A quarter of the way
// through RSS is read too and logged, to show the trend.
func TestLoadCloseCycles(t *testing.T) {
	cycles := 10000
	if testing.Short() || raceBuild {
		cycles = 300
	}
	tiny := filepath.Join("testdata", "hostile", "ok", "pir")
	for _, be := range everyBackend() {
		t.Run(string(be), func(t *testing.T) {
			live0, leaked0 := dnn.LiveHandles(), dnn.LeakedHandles()
			opt := &lcnet.OpenOptions{Options: lcnet.Options{Backend: be}}
			// A tiny Paddle PIR model (the whole loader path: sniffing, JSON,
			// .pdiparams, optimizer, planner, compile) with one inference per
			// cycle, so that each cycle makes and frees an instance too; and
			// every 50th cycle the real text-line model.
			in := make([]float32, 3*8*8)
			var realIn []float32
			cycle := func(i int) {
				path := tiny
				if i%50 == 49 {
					path = textLineModel
				}
				m, err := lcnet.Load(path, opt)
				if err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
				x := in
				if path == textLineModel {
					if realIn == nil {
						realIn = make([]float32, graph.Numel(m.InputShape()))
					}
					x = realIn
				}
				if _, err := m.Run(x, 1); err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
				if err := m.Close(); err != nil {
					t.Fatalf("cycle %d: %v", i, err)
				}
			}
			warm := cycles / 10
			t0 := time.Now()
			for i := range warm {
				cycle(i)
			}
			rss0 := settledRSS(t)
			var rssQuarter int64
			for i := warm; i < cycles; i++ {
				cycle(i)
				if i == warm+(cycles-warm)/4 {
					rssQuarter = settledRSS(t)
				}
			}
			rss1 := settledRSS(t)
			live, leaked := dnn.LiveHandles(), dnn.LeakedHandles()
			t.Logf("%d load/run/close cycles in %v: RSS %.1f MB after warm-up, %.1f MB a quarter on, %.1f MB at the end; C handles %d -> %d, leaked %d",
				cycles, time.Since(t0).Round(time.Millisecond), mb(rss0), mb(rssQuarter), mb(rss1), live0, live, leaked-leaked0)
			if live != live0 {
				t.Errorf("%d live C handles after the cycles, %d before", live, live0)
			}
			if leaked != leaked0 {
				t.Errorf("the cleanup safety net freed %d handles nobody closed", leaked-leaked0)
			}
			if rss0 > 0 && !testing.Short() && !raceBuild && rss1-rss0 > 16<<20 {
				t.Errorf("RSS grew by %.1f MB over %d cycles", mb(rss1-rss0), cycles-warm)
			}
		})
	}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// TestFailedLoadsLeakNothing: loads that fail late (in the planner, after
// some segments compiled) must free what they made.
func TestFailedLoadsLeakNothing(t *testing.T) {
	live0 := dnn.LiveHandles()
	for range 200 {
		// A hardsigmoid of slope 0 passes the graph checks and reaches
		// oneDNN's compile, which refuses it (on the Go backend it runs).
		g := graph.New("fail", "x", 3, 4, 4)
		v, _ := g.Add("conv0", &graph.Conv2D{InC: 3, OutC: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: graph.NewTensor(4, 3, 1, 1)}, g.Input)
		if _, err := g.Add("hs", &graph.Act{Act: graph.HardSigmoid(0, 0.5)}, v); err != nil {
			t.Fatal(err)
		}
		for _, be := range everyBackend() {
			if m, err := lcnet.New(g, &lcnet.Options{Backend: be}); err == nil {
				m.Close()
			}
		}
		// Files that fail in the importers.
		for _, p := range []string{"testdata/hostile/pir/groups_zero.json", "testdata/hostile/onnx/conv_group_0.onnx", "testdata/hostile/pdparams/exec_os_system_p2.pdparams"} {
			if _, err := lcnet.Load(p, nil); err == nil {
				t.Fatalf("%s loaded", p)
			}
		}
	}
	if live := dnn.LiveHandles(); live != live0 {
		t.Errorf("%d live C handles after failed loads, %d before", live, live0)
	}
}

// TestDeadlineWhileWaitingForInstance: with one instance busy on a long
// inference, a call whose deadline expires while it waits for the
// instance returns context.DeadlineExceeded promptly, on every backend.
func TestDeadlineWhileWaitingForInstance(t *testing.T) {
	for _, be := range everyBackend() {
		t.Run(string(be), func(t *testing.T) {
			c := pplcnet.Default(1.0)
			m, err := lcnet.Build(c, 1, &lcnet.Options{Backend: be, MaxInstances: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			n := graph.Numel(m.InputShape())
			one := make([]float32, n)
			if _, err := m.Run(one, 1); err != nil { // make the instance
				t.Fatal(err)
			}
			// Size the busy inference to last about a second.
			t0 := time.Now()
			m.Run(one, 1)
			per := time.Since(t0)
			batch := max(2, min(64, int(time.Second/max(per, time.Millisecond))))
			big := make([]float32, batch*n)
			started := make(chan struct{})
			type result struct {
				at  time.Time
				err error
			}
			busyDone := make(chan result, 1)
			go func() {
				close(started)
				_, err := m.Run(big, batch)
				busyDone <- result{time.Now(), err}
			}()
			<-started
			// Wait until the busy inference holds the instance: a probe with
			// a tiny deadline then times out waiting for it (before, it gets
			// the instance and runs, or times out inside the inference).
			probeOut := make([]float32, graph.Numel(m.OutputShape()))
			for {
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				err := m.RunContext(ctx, one, 1, probeOut)
				cancel()
				if errors.Is(err, context.DeadlineExceeded) && strings.Contains(err.Error(), "waiting for an instance") {
					break
				}
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Fatal(err)
				}
			}
			const deadline = 50 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			t1 := time.Now()
			err = m.RunContext(ctx, one, 1, make([]float32, graph.Numel(m.OutputShape())))
			waited := time.Since(t1)
			returned := time.Now()
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for an instance") {
				t.Fatalf("got %v, want context.DeadlineExceeded while waiting for an instance", err)
			}
			slack := 100 * time.Millisecond
			if raceBuild {
				slack = 500 * time.Millisecond
			}
			if waited > deadline+slack {
				t.Errorf("returned %v after a %v deadline", waited, deadline)
			}
			busy := <-busyDone
			if busy.err != nil {
				t.Fatalf("busy inference: %v", busy.err)
			}
			done := busy.at
			if !returned.Before(done) {
				t.Errorf("the busy inference (batch %d) finished before the deadline call returned: the test did not wait", batch)
			}
			t.Logf("deadline %v honoured after %v while a batch-%d inference held the instance for %v", deadline, waited.Round(time.Millisecond), batch, done.Sub(t0).Round(time.Millisecond))
		})
	}
}

// TestDeadlineDuringGoInference: the Go backend checks the context
// between nodes, so a deadline that expires in the middle of a long
// inference ends it early.
func TestDeadlineDuringGoInference(t *testing.T) {
	m, err := lcnet.Build(pplcnet.Default(1.0), 1, &lcnet.Options{Backend: lcnet.Go, MaxInstances: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := graph.Numel(m.InputShape())
	t0 := time.Now()
	if _, err := m.Run(make([]float32, n), 1); err != nil {
		t.Fatal(err)
	}
	per := time.Since(t0)
	batch := max(2, min(64, int(time.Second/max(per, time.Millisecond))))
	in := make([]float32, batch*n)
	out := make([]float32, batch*graph.Numel(m.OutputShape()))
	m.RunInto(in, batch, out) // grow the buffers outside the timed call
	deadline := time.Duration(batch) * per / 10
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	t1 := time.Now()
	err = m.RunContext(ctx, in, batch, out)
	took := time.Since(t1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	// The slowest node of x1.0 at batch b takes well under half the whole.
	if full := time.Duration(batch) * per; took > full/2+deadline {
		t.Errorf("stopped after %v; the whole inference takes about %v and the deadline was %v", took, full, deadline)
	}
	t.Logf("batch %d (about %v): deadline %v, stopped after %v", batch, time.Duration(batch)*per, deadline.Round(time.Millisecond), took.Round(time.Millisecond))
}
