//go:build cgo && !purego

package dnn

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"unsafe"
)

var dw8Shapes = []struct{ k, s, c, hw int }{
	{3, 1, 16, 112}, {3, 2, 32, 112}, {3, 1, 64, 56}, {3, 2, 64, 56}, {3, 1, 128, 28},
	{3, 2, 128, 28}, {5, 1, 256, 14}, {5, 2, 256, 14}, {5, 1, 512, 7},
}

// BenchmarkDW8Pair runs lcn_dw8 and oneDNN back to back in each iteration
// and reports the min and median of each (µs), which a busy machine
// disturbs less than ns/op:
//
//	OMP_NUM_THREADS=1 go test ./dnn -run '^$' -bench DW8Pair -benchtime 400x
func BenchmarkDW8Pair(b *testing.B) {
	for _, s := range dw8Shapes {
		d := dw8Desc{C: s.c, H: s.hw, W: s.hw, KH: s.k, KW: s.k, SH: s.s, SW: s.s,
			PT: s.k / 2, PL: s.k / 2, PB: s.k / 2, PR: s.k / 2, Act: actHS, Threads: 1}
		p := newDW8Data(d, 1, 1)
		y := make([]int8, p.outLen())
		b.Run(fmt.Sprintf("k=%d/s=%d/c=%d/hw=%d", s.k, s.s, s.c, s.hw), func(b *testing.B) {
			k, err := newDW8(d, p.w, p.b, p.sx, p.sy)
			if err != nil {
				b.Fatal(err)
			}
			defer k.close()
			h, err := newDW8DNNL(d, 1, p.w, p.b, p.sx, p.sy)
			if err != nil {
				b.Fatal(err)
			}
			defer h.close()
			var tl, td []float64
			for b.Loop() {
				t0 := time.Now()
				k.run(p.x, unsafe.Pointer(&y[0]), 1, 1)
				t1 := time.Now()
				if err := h.run(p.x, unsafe.Pointer(&y[0])); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				tl = append(tl, float64(t1.Sub(t0).Nanoseconds())/1e3)
				td = append(td, float64(t2.Sub(t1).Nanoseconds())/1e3)
			}
			slices.Sort(tl)
			slices.Sort(td)
			b.ReportMetric(tl[0], "lcn-min-us")
			b.ReportMetric(tl[len(tl)/2], "lcn-med-us")
			b.ReportMetric(td[0], "dnnl-min-us")
			b.ReportMetric(td[len(td)/2], "dnnl-med-us")
		})
	}
}

// BenchmarkDW8 times lcn_dw8 (impl=lcn) and oneDNN's int8 depthwise built as
// the int8 chain builds it (impl=dnnl) on the PP-LCNet x1.0 depthwise shapes,
// hardswish, s8 out, 1 thread, alternating per shape:
//
//	OMP_NUM_THREADS=1 go test ./dnn -run '^$' -bench DW8 -count 6 | tee /tmp/dw8.txt
//	benchstat -col /impl /tmp/dw8.txt
func BenchmarkDW8(b *testing.B) {
	for _, s := range dw8Shapes {
		d := dw8Desc{C: s.c, H: s.hw, W: s.hw, KH: s.k, KW: s.k, SH: s.s, SW: s.s,
			PT: s.k / 2, PL: s.k / 2, PB: s.k / 2, PR: s.k / 2, Act: actHS, Threads: 1}
		p := newDW8Data(d, 1, 1)
		y := make([]int8, p.outLen())
		name := fmt.Sprintf("k=%d/s=%d/c=%d/hw=%d", s.k, s.s, s.c, s.hw)
		b.Run(name+"/impl=lcn", func(b *testing.B) {
			k, err := newDW8(d, p.w, p.b, p.sx, p.sy)
			if err != nil {
				b.Fatal(err)
			}
			defer k.close()
			for b.Loop() {
				k.run(p.x, unsafe.Pointer(&y[0]), 1, 1)
			}
		})
		b.Run(name+"/impl=dnnl", func(b *testing.B) {
			h, err := newDW8DNNL(d, 1, p.w, p.b, p.sx, p.sy)
			if err != nil {
				b.Fatal(err)
			}
			defer h.close()
			for b.Loop() {
				if err := h.run(p.x, unsafe.Pointer(&y[0])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
