package paddle

import (
	"bytes"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
)

// The fuzz targets check that no input makes a parser panic, hang or
// return a graph that does not validate. Seeds are the tiny all-op graph
// in each format.

func checkImported(t *testing.T, g *graph.Graph, err error) {
	if err != nil {
		return
	}
	if g == nil {
		t.Fatal("nil graph without an error")
	}
	if err := g.Validate(); err != nil {
		t.Fatalf("imported graph does not validate: %v", err)
	}
	if _, err := graph.Optimize(g); err != nil {
		t.Fatalf("imported graph does not optimize: %v", err)
	}
}

func FuzzPIR(f *testing.F) {
	pir, _, params := tinyFiles(f)
	f.Add(pir, params)
	f.Add([]byte(`{"base_code":{"magic":"pir"},"program":{"regions":[{"blocks":[{"ops":[]}]}]}}`), []byte{})
	f.Fuzz(func(t *testing.T, prog, params []byte) {
		g, err := ReadPIR(bytes.NewReader(prog), bytes.NewReader(params), Options{})
		checkImported(t, g, err)
	})
}

func FuzzProgram(f *testing.F) {
	_, prog, params := tinyFiles(f)
	f.Add(prog, params)
	m := mustExport(f, tinyGraph(f), exportOpts{packed: true, pads4: true, linear: "mul"})
	f.Add(m.program(exportOpts{packed: true, pads4: true, linear: "mul"}), m.pdiparams(true))
	f.Fuzz(func(t *testing.T, prog, params []byte) {
		g, err := ReadProgram(bytes.NewReader(prog), bytes.NewReader(params), Options{})
		checkImported(t, g, err)
	})
}

func FuzzPdiparams(f *testing.F) {
	m := mustExport(f, tinyGraph(f), exportOpts{})
	specs := tinySpecs(f)
	f.Add(m.pdiparams(false))
	f.Add(m.pdiparams(true))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := readPdiparams(data, specs)
		if err != nil {
			return
		}
		for _, s := range specs {
			if ts[s.name] == nil || !dimsMatch(s.dims, toInt64(ts[s.name].Shape)) {
				t.Fatalf("%s: accepted with shape %v, declared %v", s.name, ts[s.name], s.dims)
			}
		}
	})
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func FuzzPickle(f *testing.F) {
	small := map[string]*graph.Tensor{"w": {Shape: []int{2, 1}, Data: []float32{1, 2}}, "b": {Shape: []int{}, Data: []float32{3}}}
	f.Add(pickleStateDict(small, 2, ""))
	f.Add(pickleStateDict(small, 4, "m."))
	f.Add([]byte("\x80\x02cos\nsystem\nq\x00."))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readStateDict(data)
		g, err := ReadPdparams(bytes.NewReader(data), Options{})
		checkImported(t, g, err)
	})
}
