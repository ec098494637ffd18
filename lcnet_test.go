package lcnet_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

func sinInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(0.01 * float64(i)))
	}
	return x
}

func TestBadInput(t *testing.T) {
	m, err := lcnet.BuiltIn("pplcnet_x0_25", 1, &lcnet.Options{Backend: lcnet.Go})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := graph.Numel(m.InputShape())
	nan := sinInput(n)
	nan[17] = float32(math.NaN())
	inf := sinInput(n)
	inf[n-1] = float32(math.Inf(-1))
	tests := []struct {
		name  string
		in    []float32
		batch int
	}{
		{"short", make([]float32, n-1), 1},
		{"long", make([]float32, n+1), 1},
		{"batch 0", nil, 0},
		{"negative batch", make([]float32, n), -2},
		{"batch mismatch", make([]float32, n), 2},
		{"NaN", nan, 1},
		{"Inf", inf, 1},
	}
	for _, tt := range tests {
		_, err := m.Run(tt.in, tt.batch)
		if !errors.Is(err, lcnet.ErrInput) {
			t.Errorf("%s: got %v, want ErrInput", tt.name, err)
		}
	}
	if err := m.RunInto(sinInput(n), 1, make([]float32, 3)); !errors.Is(err, lcnet.ErrInput) {
		t.Errorf("short output buffer: got %v", err)
	}
}

func TestBadModels(t *testing.T) {
	for _, name := range []string{"pplcnet_x3_0", "resnet50", ""} {
		if _, err := lcnet.Open(name, nil); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
	}
	for _, tweak := range []func(*pplcnet.Config){
		func(c *pplcnet.Config) { c.Scale = 0 },
		func(c *pplcnet.Config) { c.Scale = -1 },
		func(c *pplcnet.Config) { c.Scale = math.NaN() },
		func(c *pplcnet.Config) { c.Classes = 0 },
		func(c *pplcnet.Config) { c.InputH = -5 },
		func(c *pplcnet.Config) { c.InputH, c.InputW = 8, 8 }, // too small for 5 stride-2 stages? still valid: 1x1
		func(c *pplcnet.Config) { c.Kernels[3] = 4 },
		func(c *pplcnet.Config) { c.DropoutProb = 1 },
	} {
		c := pplcnet.Default(0.5)
		tweak(&c)
		m, err := lcnet.Build(c, 1, nil)
		if err == nil {
			// Only the tiny input is legal; it must run.
			if c.InputH != 8 {
				t.Errorf("config %+v built", c)
			}
			m.Close()
		}
	}
}

func TestBackendsAgree(t *testing.T) {
	if lcnet.DNNLISA() == "" {
		t.Skip("built without oneDNN")
	}
	cfgs := map[string]pplcnet.Config{"x0_25": pplcnet.Default(0.25), "textline": pplcnet.TextLine(0.25)}
	if !testing.Short() {
		for _, s := range pplcnet.Scales {
			cfgs[pplcnet.NameOf(s)] = pplcnet.Default(s)
		}
	}
	for name, c := range cfgs {
		g, err := pplcnet.Build(c, 3)
		if err != nil {
			t.Fatal(err)
		}
		var outs [][]float32
		for _, be := range []lcnet.Backend{lcnet.Go, lcnet.DNNL} {
			m, err := lcnet.New(g, &lcnet.Options{Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			y, err := m.Run(sinInput(2*graph.Numel(m.InputShape())), 2)
			if err != nil {
				t.Fatalf("%s %s: %v", name, be, err)
			}
			outs = append(outs, y)
			m.Close()
		}
		if e := maxRelErr(outs[1], outs[0]); e > 1e-4 {
			t.Errorf("%s: dnnl vs go max relative error %.3g", name, e)
		}
	}
}

func TestConcurrentRunsAndClose(t *testing.T) {
	for _, be := range backends(t) {
		m, err := lcnet.BuiltIn("pplcnet_x0_25", 1, &lcnet.Options{Backend: be, MaxInstances: 3})
		if err != nil {
			t.Fatal(err)
		}
		n := graph.Numel(m.InputShape())
		in := sinInput(n)
		want, err := m.Run(in, 1)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := make([]float32, len(want))
				for i := 0; i < 10; i++ {
					if err := m.RunInto(in, 1, out); err != nil {
						if errors.Is(err, lcnet.ErrClosed) {
							return
						}
						errs <- err
						return
					}
					for k := range out {
						if out[k] != want[k] {
							errs <- errors.New("concurrent result differs from serial")
							return
						}
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s: %v", be, err)
		}
		if _, err := m.Run(in, 1); !errors.Is(err, lcnet.ErrClosed) {
			t.Errorf("%s: Run after Close: %v", be, err)
		}
	}
}

func TestContextDeadline(t *testing.T) {
	m, err := lcnet.BuiltIn("pplcnet_x0_25", 1, &lcnet.Options{Backend: lcnet.Go, MaxInstances: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := graph.Numel(m.InputShape())
	if err := m.RunContext(ctx, sinInput(n), 1, make([]float32, 1000)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}
