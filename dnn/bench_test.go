//go:build cgo && !purego

package dnn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

func scaleName(s float64) string {
	if s == float64(int(s)) {
		return strconv.FormatFloat(s, 'f', 1, 64)
	}
	return strconv.FormatFloat(s, 'f', -1, 64)
}

// BenchmarkRun times PP-LCNet 224x224 batch 1 (random weights), the same
// network as /work/shared/tools/dnnl-floor plus the 0.8 scale and softmax.
// median-ms and min-ms are the median and the fastest latency of the timed
// iterations.
//
//	go test ./dnn -run '^$' -bench 'Run/scale=1.0' -benchtime 200x
func BenchmarkRun(b *testing.B) {
	for _, scale := range []float64{0.25, 1.0, 2.5} {
		net := ppLCNet(rand.New(rand.NewPCG(1, 1)), scale, 224, 224, 1000)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("scale=%s/threads=%d", scaleName(scale), threads), func(b *testing.B) {
				p, err := Compile(net, Options{Threads: threads})
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				inst, err := p.NewInstance()
				if err != nil {
					b.Fatal(err)
				}
				defer inst.Close()
				in := randSlice(rand.New(rand.NewPCG(2, 2)), 3*224*224, 1)
				out := make([]float32, 1000)
				for range 30 { // warm-up (primitives, caches, OpenMP pool)
					if err := inst.Run(in, 1, out); err != nil {
						b.Fatal(err)
					}
				}
				times := make([]time.Duration, 0, 1<<14)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					t0 := time.Now()
					if err := inst.Run(in, 1, out); err != nil {
						b.Fatal(err)
					}
					if len(times) < cap(times) {
						times = append(times, time.Since(t0))
					}
				}
				b.StopTimer()
				slices.Sort(times)
				med := times[len(times)/2]
				b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
				b.ReportMetric(float64(times[0].Microseconds())/1000, "min-ms")
				b.ReportMetric(1/med.Seconds(), "images/s")
			})
		}
	}
}

// BenchmarkRunHandoff times a tiny network (per-run overhead dominates) on a
// single-threaded instance, run on the calling goroutine's thread (direct)
// or handed to an OS-locked worker goroutine (worker).
//
//	go test ./dnn -run '^$' -bench RunHandoff -benchtime 20000x
func BenchmarkRunHandoff(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	net := &Net{InC: 8, InH: 4, InW: 4, Layers: []Layer{conv(r, "c", 8, 8, 1, 1, 1, 1, [4]int{}, 1, true, relu)}}
	defer func() { directRuns = true }()
	for _, direct := range []bool{true, false} {
		name := map[bool]string{true: "direct", false: "worker"}[direct]
		b.Run(name, func(b *testing.B) {
			directRuns = direct
			p, err := Compile(net, Options{Threads: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			inst, err := p.NewInstance()
			if err != nil {
				b.Fatal(err)
			}
			defer inst.Close()
			in, out := make([]float32, 8*4*4), make([]float32, 8*4*4)
			times := make([]time.Duration, 0, 1<<16)
			for b.Loop() {
				t0 := time.Now()
				if err := inst.Run(in, 1, out); err != nil {
					b.Fatal(err)
				}
				if len(times) < cap(times) {
					times = append(times, time.Since(t0))
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1000, "median-us")
			b.ReportMetric(float64(times[0].Nanoseconds())/1000, "min-us")
		})
	}
}
