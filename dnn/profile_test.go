//go:build cgo && !purego

package dnn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestProfile checks the per-step profile: every step of every profiled run
// is counted once, the steps sum to (at most) the wall time of the runs and
// cover every layer that is not fused into another step, and turning
// profiling off forgets what was measured.
func TestProfile(t *testing.T) {
	net := ppLCNet(rand.New(rand.NewPCG(1, 1)), 0.25, 64, 64, 10)
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			p, inst := compileInstance(t, net, Options{Threads: threads})
			in := randSlice(rand.New(rand.NewPCG(2, 2)), 3*64*64, 1)
			out := make([]float32, 10)
			if err := inst.Run(in, 1, out); err != nil { // builds the primitives
				t.Fatal(err)
			}
			if prof, err := inst.Profile(1); err != nil || prof != nil {
				t.Fatalf("Profile before SetProfiling = %v, %v; want nil, nil", prof, err)
			}
			if err := inst.SetProfiling(true); err != nil {
				t.Fatal(err)
			}
			const runs = 7
			t0 := time.Now()
			for range runs {
				if err := inst.Run(in, 1, out); err != nil {
					t.Fatal(err)
				}
			}
			wall := time.Since(t0)
			prof, err := inst.Profile(1)
			if err != nil {
				t.Fatal(err)
			}
			if len(prof) < 2 {
				t.Fatalf("Profile has %d steps", len(prof))
			}
			var sum time.Duration
			seen := map[int]bool{}
			for i, st := range prof {
				if st.Runs != runs {
					t.Errorf("step %d (%s): Runs = %d, want %d", i, st.What, st.Runs, runs)
				}
				if st.What == "" || st.Total < 0 {
					t.Errorf("step %d: %+v", i, st)
				}
				if st.Layer < -1 || st.Layer >= len(net.Layers) {
					t.Errorf("step %d: layer %d out of range", i, st.Layer)
				}
				seen[st.Layer] = true
				sum += st.Total
			}
			if last := prof[len(prof)-1]; last.Layer != -1 {
				t.Errorf("last step is layer %d, want the copies (-1)", last.Layer)
			}
			if sum <= 0 || sum > wall {
				t.Errorf("steps sum to %v, wall time of the runs %v", sum, wall)
			}
			for i, impl := range p.LayerImpls() {
				if !seen[i] && !strings.Contains(impl, "fused") && !strings.HasPrefix(impl, "post-op of") && !strings.HasPrefix(impl, "in the chain of") {
					t.Errorf("layer %d (%s) has no step", i, impl)
				}
			}
			if prof2, err := inst.Profile(2); err != nil || prof2 != nil {
				t.Errorf("Profile(2) = %v, %v; want nil (no such run)", prof2, err)
			}
			if err := inst.SetProfiling(false); err != nil {
				t.Fatal(err)
			}
			if err := inst.Run(in, 1, out); err != nil {
				t.Fatal(err)
			}
			if prof, err := inst.Profile(1); err != nil || prof != nil {
				t.Errorf("Profile after SetProfiling(false) = %v, %v; want nil, nil", prof, err)
			}
			inst.Close()
			if _, err := inst.Profile(1); !errors.Is(err, ErrClosed) {
				t.Errorf("Profile after Close: %v, want ErrClosed", err)
			}
			if err := inst.SetProfiling(true); !errors.Is(err, ErrClosed) {
				t.Errorf("SetProfiling after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// BenchmarkLayers prints where the time of one PP-LCNet inference goes:
// the mean time of every step (oneDNN primitive or own kernel) over the
// timed runs, with its share of the total.
//
//	go test ./dnn -run '^$' -bench 'Layers/scale=1.0/threads=1' -benchtime 300x
func BenchmarkLayers(b *testing.B) {
	for _, scale := range []float64{0.25, 1.0, 2.5} {
		net := ppLCNet(rand.New(rand.NewPCG(1, 1)), scale, 224, 224, 1000)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("scale=%s/threads=%d", scaleName(scale), threads), func(b *testing.B) {
				_, inst := compileInstance(b, net, Options{Threads: threads})
				benchProfile(b, net, inst)
			})
		}
	}
}

// profiledInstance is an Instance or an Int8Instance.
type profiledInstance interface {
	Run(in []float32, batch int, out []float32) error
	SetProfiling(on bool) error
	Profile(batch int) ([]StepTime, error)
}

// benchProfile runs inst (PP-LCNet at 224x224, 1000 classes) 30 times,
// then b.N times profiled, and logs the profile.
func benchProfile(b *testing.B, net *Net, inst profiledInstance) {
	in := randSlice(rand.New(rand.NewPCG(2, 2)), 3*224*224, 1)
	out := make([]float32, 1000)
	for range 30 {
		if err := inst.Run(in, 1, out); err != nil {
			b.Fatal(err)
		}
	}
	if err := inst.SetProfiling(true); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := inst.Run(in, 1, out); err != nil {
			b.Fatal(err)
		}
	}
	prof, err := inst.Profile(1)
	if err != nil || len(prof) == 0 {
		b.Fatalf("Profile: %v, %d steps", err, len(prof))
	}
	b.Log("\n" + profileTable(net, prof))
}

// profileTable formats a profile: one line per step, slowest marked.
func profileTable(net *Net, prof []StepTime) string {
	var total time.Duration
	for _, st := range prof {
		total += st.Total
	}
	top := slices.Clone(prof)
	slices.SortFunc(top, func(a, b StepTime) int { return int(b.Total - a.Total) })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-4s %-28s %-44s %9s %6s\n", "#", "layer", "runs as", "mean us", "%")
	for i, st := range prof {
		name := "input/output"
		if st.Layer >= 0 {
			name = fmt.Sprintf("%d %s", st.Layer, net.Layers[st.Layer].Name)
		}
		mark := ""
		if len(top) >= 5 && st.Total >= top[4].Total {
			mark = " *"
		}
		fmt.Fprintf(&sb, "%-4d %-28.28s %-44.44s %9.1f %6.2f%s\n", i, name, st.What,
			float64(st.Total.Microseconds())/float64(st.Runs), 100*float64(st.Total)/float64(total), mark)
	}
	fmt.Fprintf(&sb, "sum of steps: %.3f ms per run (%d runs)", float64(total.Microseconds())/1000/float64(prof[0].Runs), prof[0].Runs)
	return sb.String()
}

// TestInt8Profile checks the per-step profile of an int8 instance.
func TestInt8Profile(t *testing.T) {
	if ok, why := Int8Supported(); !ok {
		t.Skip(why)
	}
	net, q, in := int8HeadFixed()
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			p, inst := compileInt8Instance(t, q, Options{Threads: threads})
			out := make([]float32, 10)
			if err := inst.SetProfiling(true); err != nil {
				t.Fatal(err)
			}
			const runs = 5
			t0 := time.Now()
			for range runs {
				if err := inst.Run(in, 1, out); err != nil {
					t.Fatal(err)
				}
			}
			wall := time.Since(t0)
			prof, err := inst.Profile(1)
			if err != nil || len(prof) < 2 {
				t.Fatalf("Profile: %v, %d steps", err, len(prof))
			}
			var sum time.Duration
			seen := map[int]bool{}
			for i, st := range prof {
				if st.Runs != runs || st.What == "" || st.Layer < -1 || st.Layer >= len(net.Layers) {
					t.Errorf("step %d: %+v", i, st)
				}
				seen[st.Layer] = true
				sum += st.Total
			}
			if prof[0].Layer != -1 || prof[0].What != "quantize input" {
				t.Errorf("first step %+v, want the input's quantization", prof[0])
			}
			if sum <= 0 || sum > wall {
				t.Errorf("steps sum to %v, wall time of the runs %v", sum, wall)
			}
			for i, impl := range p.LayerImpls() {
				if !seen[i] && !strings.Contains(impl, "fused") && !strings.HasPrefix(impl, "post-op") {
					t.Errorf("layer %d (%s) has no step", i, impl)
				}
			}
			if prof2, err := inst.Profile(2); err != nil || prof2 != nil {
				t.Errorf("Profile(2) = %v, %v; want nil", prof2, err)
			}
			if err := inst.SetProfiling(false); err != nil {
				t.Fatal(err)
			}
			if prof, err := inst.Profile(1); err != nil || prof != nil {
				t.Errorf("Profile after SetProfiling(false) = %v, %v; want nil, nil", prof, err)
			}
		})
	}
}

// BenchmarkInt8Layers prints where the time of one int8 PP-LCNet inference
// goes (every layer int8, synthetic calibration scales: the kernels and
// their speed do not depend on the scales).
//
//	go test ./dnn -run '^$' -bench 'Int8Layers/scale=1.0/threads=1' -benchtime 300x
func BenchmarkInt8Layers(b *testing.B) {
	if ok, why := Int8Supported(); !ok {
		b.Skip(why)
	}
	for _, scale := range []float64{0.25, 1.0, 2.5} {
		net := ppLCNet(rand.New(rand.NewPCG(1, 1)), scale, 224, 224, 1000)
		// the 0.8 dropout scale has no int8 kernel (lcnet folds it into the FC)
		net.Layers = slices.DeleteFunc(net.Layers, func(l Layer) bool { return l.Kind == LayerScale })
		q := &Int8Net{InC: net.InC, InH: net.InH, InW: net.InW, InScale: 127 / 3.0, Layers: net.Layers}
		for range net.Layers {
			q.OutScales = append(q.OutScales, 127/6.0)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("scale=%s/threads=%d", scaleName(scale), threads), func(b *testing.B) {
				_, inst := compileInt8Instance(b, q, Options{Threads: threads})
				benchProfile(b, net, inst)
			})
		}
	}
}

// compileInt8Instance is compileInstance for an int8 chain.
func compileInt8Instance(tb testing.TB, q *Int8Net, o Options) (*Int8Plan, *Int8Instance) {
	tb.Helper()
	p, err := CompileInt8(q, o)
	return startTestInstance[*Int8Plan, *Int8Instance](tb, p, err)
}

// compileInstance compiles net and starts one instance, both closed when
// the test ends.
func compileInstance(tb testing.TB, net *Net, o Options) (*Plan, *Instance) {
	tb.Helper()
	p, err := Compile(net, o)
	return startTestInstance[*Plan, *Instance](tb, p, err)
}

// startTestInstance fails tb on a compile error, else starts one instance of
// plan p; both are closed when the test ends.
func startTestInstance[P interface {
	NewInstance() (I, error)
	Close() error
}, I interface{ Close() error }](tb testing.TB, p P, err error) (P, I) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	inst, err := p.NewInstance()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { inst.Close() })
	return p, inst
}
