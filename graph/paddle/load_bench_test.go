package paddle

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// WriteX10Dirs writes PP-LCNet x1.0 (synthetic weights) as two Paddle
// model directories under tb's temporary directory, one with inference.json
// (PIR) and one with inference.pdmodel, each with inference.pdiparams, by
// this package's test exporter. It is exported for the benchmarks of the
// external test package (load + plan through the root package).
func WriteX10Dirs(tb testing.TB) (pir, program string) {
	tb.Helper()
	m := mustExport(tb, buildConfig(tb, pplcnet.Default(1.0)), exportOpts{})
	params := m.pdiparams(false)
	write := func(file string, prog []byte) string {
		dir := tb.TempDir()
		if err := os.WriteFile(filepath.Join(dir, file), prog, 0o644); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "inference.pdiparams"), params, 0o644); err != nil {
			tb.Fatal(err)
		}
		return dir
	}
	return write("inference.json", m.pir(exportOpts{})), write("inference.pdmodel", m.program(exportOpts{}))
}

// BenchmarkLoadDir times the import of PP-LCNet x1.0 from a model
// directory (WriteX10Dirs); BenchmarkLoadPlan adds the graph passes, the
// plan and a first run.
//
//	go test ./graph/paddle -run '^$' -bench LoadDir -benchtime 20x
func BenchmarkLoadDir(b *testing.B) {
	pir, program := WriteX10Dirs(b)
	for _, f := range []struct{ name, dir string }{{"format=pir", pir}, {"format=program", program}} {
		b.Run(f.name+"/model=x1.0", func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadDir(f.dir, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
