//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSplitBatch checks batches that run image by image up to the global
// pool and as a batch after it: every sample matches the batch-1 run of the
// same image and the whole-batch run, on one and two threads, and the
// profile of a split batch lists the body's steps and the head's.
func TestSplitBatch(t *testing.T) {
	defer setSplit(1)
	net := ppLCNet(rand.New(rand.NewPCG(5, 6)), 0.5, 64, 48, 37)
	const batch = 3
	per := net.InC * net.InH * net.InW
	in := randSlice(rand.New(rand.NewPCG(7, 8)), batch*per, 1)
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			run := func(split int, in []float32, n int) []float32 {
				setSplit(split)
				_, inst := compileInstance(t, net, Options{Threads: threads})
				out := make([]float32, n*37)
				if err := inst.Run(in, n, out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			split, whole := run(1, in, batch), run(0, in, batch)
			var one []float32
			for b := range batch {
				one = append(one, run(1, in[b*per:(b+1)*per], 1)...)
			}
			for i := range split {
				if d := math.Abs(float64(split[i] - one[i])); d > 1e-6 {
					t.Fatalf("sample %d value %d: split batch %g, alone %g", i/37, i%37, split[i], one[i])
				}
				if d := math.Abs(float64(split[i] - whole[i])); d > 1e-6 {
					t.Fatalf("sample %d value %d: split batch %g, whole batch %g", i/37, i%37, split[i], whole[i])
				}
			}
		})
	}
	setSplit(1)
	_, inst := compileInstance(t, net, Options{Threads: 1})
	out := make([]float32, batch*37)
	inst.SetProfiling(true)
	for range 4 {
		if err := inst.Run(in, batch, out); err != nil {
			t.Fatal(err)
		}
	}
	prof, err := inst.Profile(batch)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, st := range prof {
		if st.Runs != 4 {
			t.Errorf("step %+v: runs %d, want 4", st, st.Runs)
		}
		seen[st.Layer] = true
	}
	for _, l := range []int{0, len(net.Layers) - 1, -1} {
		if !seen[l] {
			t.Errorf("profile of a split batch has no step of layer %d: %+v", l, prof)
		}
	}
}

// BenchmarkSplitBatch times x1.0 batch 8 per image with split batches on
// and off, beside batch 1 (one thread; run with -count and benchstat, the
// sub-benchmarks alternate when -count > 1).
//
//	go test ./dnn -run '^$' -bench SplitBatch -benchtime 10x -count 6
func BenchmarkSplitBatch(b *testing.B) {
	defer setSplit(1)
	net := ppLCNet(rand.New(rand.NewPCG(1, 1)), 1.0, 224, 224, 1000)
	_, inst := compileInstance(b, net, Options{Threads: 1})
	in := randSlice(rand.New(rand.NewPCG(2, 2)), 8*3*224*224, 1)
	out := make([]float32, 8*1000)
	for _, c := range []struct {
		name         string
		batch, split int
	}{{"batch=8/split=on", 8, 1}, {"batch=8/split=off", 8, 0}, {"batch=1", 1, 1}} {
		b.Run(c.name, func(b *testing.B) {
			setSplit(c.split)
			x, y := in[:c.batch*3*224*224], out[:c.batch*1000]
			for range 3 {
				if err := inst.Run(x, c.batch, y); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if err := inst.Run(x, c.batch, y); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.batch)/1e6, "ms/image")
		})
	}
}
