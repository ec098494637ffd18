package paddle

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// BenchmarkLoadDir times the import of PP-LCNet x1.0 from a model
// directory (inference.json or inference.pdmodel + inference.pdiparams, as
// written by this package's test exporter): the Paddle part of the root
// package's BenchmarkLoad target (load + plan of x1.0 from a Paddle file).
//
//	go test ./graph/paddle -run '^$' -bench LoadDir -benchtime 20x
func BenchmarkLoadDir(b *testing.B) {
	g := buildConfig(b, pplcnet.Default(1.0))
	m := mustExport(b, g, exportOpts{})
	for _, f := range []struct{ name, file string }{
		{"format=pir", "inference.json"},
		{"format=program", "inference.pdmodel"},
	} {
		dir := b.TempDir()
		prog := m.pir(exportOpts{})
		if f.file == "inference.pdmodel" {
			prog = m.program(exportOpts{})
		}
		if err := os.WriteFile(filepath.Join(dir, f.file), prog, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "inference.pdiparams"), m.pdiparams(false), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(f.name+"/model=x1.0", func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadDir(dir, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
