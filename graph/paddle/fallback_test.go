package paddle

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/npy"
)

// run executes g (optimized) on the pure-Go backend.
func run(t *testing.T, g *graph.Graph, in []float32, batch int) []float32 {
	t.Helper()
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fallback.Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, batch*graph.Numel(g.OutputShape()))
	if err := p.NewInstance().Run(in, batch, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRealPIROutput(t *testing.T) {
	g := loadReal(t)
	got := run(t, g, realInput(), 1)
	for i, w := range realReference {
		if math.Abs(float64(got[i]-w)) > 1e-5 {
			t.Fatalf("output %v, want %v (within 1e-5)", got, realReference)
		}
	}
	t.Logf("output %v, Paddle %v", got, realReference)
}

// TestRoundTripOutputs runs every round-tripped graph against the graph it
// was exported from, in both program formats.
func TestRoundTripOutputs(t *testing.T) {
	for name, c := range roundTripConfigs() {
		t.Run(name, func(t *testing.T) {
			g := buildConfig(t, c)
			in := make([]float32, 2*graph.Numel(g.InputShape()))
			for i := range in {
				in[i] = float32(math.Sin(0.37 * float64(i)))
			}
			want := run(t, g, in, 2)
			m := mustExport(t, g, exportOpts{})
			pir, err := ReadPIR(bytes.NewReader(m.pir(exportOpts{})), bytes.NewReader(m.pdiparams(false)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			prog, err := ReadProgram(bytes.NewReader(m.program(exportOpts{})), bytes.NewReader(m.pdiparams(false)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for fname, h := range map[string]*graph.Graph{"pir": pir, "program": prog} {
				got := run(t, h, in, 2)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: output[%d] = %g, want %g", fname, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// checkOutputs runs g on the fixture inputs input_bB and compares with
// output_bB (float64 reference probabilities).
func checkOutputs(t *testing.T, g *graph.Graph, ref map[string]*npy.Array) {
	t.Helper()
	n := 0
	for name, in := range ref {
		b, ok := strings.CutPrefix(name, "input_b")
		if !ok {
			continue
		}
		want := ref["output_b"+b]
		batch := in.Shape[0]
		got := run(t, g, in.Data, batch)
		worst := 0.0
		for i := range want.Data {
			worst = math.Max(worst, math.Abs(float64(got[i]-want.Data[i])))
		}
		if worst > 1e-5 {
			t.Errorf("batch %d: max |diff| %g over the reference probabilities", batch, worst)
		}
		t.Logf("batch %d: max |diff| %.2g from the reference probabilities", batch, worst)
		n++
	}
	if n == 0 {
		t.Fatal("fixture has no inputs")
	}
}
