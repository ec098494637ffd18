package paddle_test

import (
	"testing"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph/paddle"
)

// BenchmarkLoadPlan times what issue 7's load target names: PP-LCNet x1.0
// from a Paddle model directory until it can run (lcnet.Load: import, graph
// passes, backend plan with its weight packing, first instance; one Run),
// then Close. The plan's kernel timings are known after the first load in
// the process (a fresh process times them, or reads them from
// Options.KernelCache); the first load happens before the timed loop.
//
//	go test ./graph/paddle -run '^$' -bench LoadPlan -benchtime 20x
func BenchmarkLoadPlan(b *testing.B) {
	pir, program := paddle.WriteX10Dirs(b)
	for _, f := range []struct{ name, dir string }{{"format=pir", pir}, {"format=program", program}} {
		for _, be := range []lcnet.Backend{lcnet.DNNL, lcnet.Go} {
			b.Run(f.name+"/model=x1.0/backend="+string(be), func(b *testing.B) {
				opts := &lcnet.OpenOptions{Options: lcnet.Options{Backend: be}}
				load := func() {
					m, err := lcnet.Load(f.dir, opts)
					if err != nil {
						b.Fatal(err)
					}
					in := make([]float32, 3*224*224)
					if _, err := m.Run(in, 1); err != nil {
						b.Fatal(err)
					}
					m.Close()
				}
				m, err := lcnet.Load(f.dir, opts)
				if err != nil {
					if be == lcnet.DNNL {
						b.Skip(err) // no oneDNN in this build (purego)
					}
					b.Fatal(err)
				}
				m.Close()
				load() // the kernel timings, and a first warm load
				for b.Loop() {
					load()
				}
			})
		}
	}
}
