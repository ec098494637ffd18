package lcnet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
)

// BenchmarkLoad times model load + plan (parse, graph passes, backend
// compile, weight reorders, first instance) until the model can run, then
// Close. The target is x1.0 from a file in <= 50 ms.
//
//	go test -run '^$' -bench Load -benchtime 20x
func BenchmarkLoad(b *testing.B) {
	m, err := BuiltIn("pplcnet_x1_0", 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	x10 := filepath.Join(b.TempDir(), "x1_0.onnx")
	f, err := os.Create(x10)
	if err != nil {
		b.Fatal(err)
	}
	if err := onnx.Export(m.src, f, onnx.ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	m.Close()
	for _, tc := range []struct{ name, path string }{
		{"file=onnx/model=x1.0", x10},
		{"file=paddle/model=textline-x0.25", "third_party/models/pplcnet_x0_25_textline_ori/paddle"},
	} {
		for _, be := range []Backend{DNNL, Go} {
			b.Run(tc.name+"/backend="+string(be), func(b *testing.B) {
				if _, err := os.Stat(tc.path); err != nil {
					b.Skip(err)
				}
				for b.Loop() {
					m, err := Load(tc.path, &OpenOptions{Options: Options{Backend: be}})
					if err != nil {
						if be == DNNL {
							b.Skip(err)
						}
						b.Fatal(err)
					}
					in := make([]float32, graph.Numel(m.InputShape()))
					if _, err := m.Run(in, 1); err != nil {
						b.Fatal(err)
					}
					m.Close()
				}
			})
		}
	}
}
