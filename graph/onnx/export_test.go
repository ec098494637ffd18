package onnx

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/naive"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// builtin returns PP-LCNet at scale s on a small input (naive execution is slow).
func builtin(t testing.TB, s float64, hw int) *graph.Graph {
	t.Helper()
	c := pplcnet.Default(s)
	c.InputH, c.InputW = hw, hw
	g, err := pplcnet.Build(c, 7)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func roundTrip(t testing.TB, g *graph.Graph, opset int) (*graph.Graph, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Export(g, &buf, ExportOptions{Opset: opset}); err != nil {
		t.Fatal(err)
	}
	h, err := Read(buf.Bytes(), Options{})
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	return h, buf.Bytes()
}

func TestExportRoundTrip(t *testing.T) {
	scales := pplcnet.Scales
	if testing.Short() {
		scales = []float64{0.25, 1.0}
	}
	for _, s := range scales {
		g := builtin(t, s, 32)
		o, err := graph.Optimize(g)
		if err != nil {
			t.Fatal(err)
		}
		in := sinInput(2 * graph.Numel(g.InputShape()))
		want, err := naive.Run(g, in, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, opset := range []int{7, 11, 13, 14, 17} {
			for name, src := range map[string]*graph.Graph{"plain": g, "optimized": o} {
				t.Run(fmt.Sprintf("x%g/opset%d/%s", s, opset, name), func(t *testing.T) {
					h, _ := roundTrip(t, src, opset)
					got, err := naive.Run(h, in, 2)
					if err != nil {
						t.Fatal(err)
					}
					d := maxDiff(got, want)
					if name == "plain" && d != 0 {
						t.Errorf("round trip of the plain graph differs by %g", d)
					}
					if d > 1e-6 {
						t.Errorf("round trip differs by %g", d)
					}
				})
			}
		}
	}
}

// TestExportRealRoundTrip exports the imported real model and reads it back.
func TestExportRealRoundTrip(t *testing.T) {
	g := loadReal(t)
	in := sinInput(3 * 80 * 160)
	want, _ := naive.Run(g, in, 1)
	for _, opset := range []int{7, 13, 17} {
		h, _ := roundTrip(t, g, opset)
		got, err := naive.Run(h, in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(got, want); d != 0 {
			t.Errorf("opset %d: differs by %g", opset, d)
		}
	}
}

// TestExportChecker runs onnx.checker (full check, with shape inference)
// on exported models; it skips without Debian's python3-onnx.
func TestExportChecker(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import onnx").Run(); err != nil {
		t.Skip("python3-onnx not installed")
	}
	dir := t.TempDir()
	var files []string
	for _, s := range []float64{0.25, 1.0} {
		g := builtin(t, s, 224)
		o, err := graph.Optimize(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, opset := range []int{7, 11, 13, 14, 17} {
			for name, src := range map[string]*graph.Graph{"plain": g, "opt": o} {
				var buf bytes.Buffer
				if err := Export(src, &buf, ExportOptions{Opset: opset}); err != nil {
					t.Fatal(err)
				}
				f := filepath.Join(dir, fmt.Sprintf("x%g_%s_%d.onnx", s, name, opset))
				if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
	}
	script := `
import sys, onnx
from onnx import shape_inference
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    out = shape_inference.infer_shapes(m, strict_mode=True).graph.output[0]
    dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    assert dims[0] == "N", dims
print("ok", len(sys.argv) - 1)
`
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
}
