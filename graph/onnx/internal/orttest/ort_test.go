//go:build ort

package orttest

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/onnxtest"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

const realModel = "/work/shared/models/pplcnet_x0_25_textline_ori/model.onnx"

func TestMain(m *testing.M) {
	lib := os.Getenv("LCNET_ORT_LIB")
	if lib == "" {
		fmt.Println("orttest: skipped: set LCNET_ORT_LIB to ONNX Runtime's libonnxruntime.so (see doc.go)")
		os.Exit(0)
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		fmt.Println("orttest: cannot load ONNX Runtime:", err)
		os.Exit(1)
	}
	code := m.Run()
	ort.DestroyEnvironment()
	os.Exit(code)
}

func sinInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(0.01 * float64(i)))
	}
	return x
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// runORT runs a serialized model in ONNX Runtime on batch samples.
func runORT(t *testing.T, model []byte, in []float32, inShape, outShape []int, batch int) []float32 {
	t.Helper()
	inName, outName, err := onnx.IONames(model)
	if err != nil {
		t.Fatal(err)
	}
	dims := func(s []int) ort.Shape {
		d := []int64{int64(batch)}
		for _, v := range s {
			d = append(d, int64(v))
		}
		return ort.NewShape(d...)
	}
	it, err := ort.NewTensor(dims(inShape), in)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Destroy()
	ot, err := ort.NewEmptyTensor[float32](dims(outShape))
	if err != nil {
		t.Fatal(err)
	}
	defer ot.Destroy()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	opts.SetIntraOpNumThreads(1)
	s, err := ort.NewAdvancedSessionWithONNXData(model, []string{inName}, []string{outName},
		[]ort.Value{it}, []ort.Value{ot}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), ot.GetData()...)
}

// runGo runs g with lcnet's pure-Go backend.
func runGo(t *testing.T, g *graph.Graph, in []float32, batch int) []float32 {
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

func check(t *testing.T, g *graph.Graph, batch int) {
	in := sinInput(batch * graph.Numel(g.InputShape()))
	want := runGo(t, g, in, batch)
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, opset := range []int{7, 13, 14, 17} {
		for name, src := range map[string]*graph.Graph{"plain": g, "optimized": o} {
			var buf bytes.Buffer
			if err := onnx.Export(src, &buf, onnx.ExportOptions{Opset: opset}); err != nil {
				t.Fatal(err)
			}
			got := runORT(t, buf.Bytes(), in, g.InputShape(), g.OutputShape(), batch)
			// 1e-5 relative to the output's magnitude (logits can be large).
			d, scale := maxDiff(got, want), 1.0
			for _, v := range want {
				scale = math.Max(scale, math.Abs(float64(v)))
			}
			t.Logf("opset %2d %-9s batch %d: max |ORT - lcnet| = %.2g (max |out| %.3g)", opset, name, batch, d, scale)
			if d > 1e-5*scale {
				t.Errorf("opset %d %s: ORT differs from lcnet by %g", opset, name, d)
			}
		}
	}
}

func TestBuiltinScales(t *testing.T) {
	for _, s := range pplcnet.Scales {
		for _, softmax := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/softmax=%v", pplcnet.NameOf(s), softmax), func(t *testing.T) {
				c := pplcnet.Default(s)
				c.Softmax = softmax
				g, err := pplcnet.Build(c, 1)
				if err != nil {
					t.Fatal(err)
				}
				check(t, g, 2)
			})
		}
	}
}

func TestRealModel(t *testing.T) {
	data, err := os.ReadFile(realModel)
	if err != nil {
		t.Skip(err)
	}
	g, err := onnx.Read(data, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := sinInput(3 * 80 * 160)
	orig := runORT(t, data, in, g.InputShape(), g.OutputShape(), 1)
	ours := runGo(t, g, in, 1)
	ref := []float32{0.09793964, 0.90206039}
	t.Logf("original file in ORT: %v (vs reference %.2g); lcnet: %v (vs ORT %.2g)", orig, maxDiff(orig, ref), ours, maxDiff(ours, orig))
	if d := maxDiff(orig, ours); d > 1e-5 {
		t.Errorf("lcnet differs from ORT on the original file by %g", d)
	}
	check(t, g, 1)
	check(t, g, 3)
}

// TestSyntheticOps runs the synthetic operator models in ONNX Runtime and
// through lcnet's importer, then re-exports the import and runs that too.
func TestSyntheticOps(t *testing.T) {
	for _, c := range onnxtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			data := c.Model.Bytes()
			g, err := onnx.Read(data, onnx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			in := sinInput(2 * graph.Numel(c.InShape))
			want := runORT(t, data, in, c.InShape, g.OutputShape(), 2)
			got := runGo(t, g, in, 2)
			d := maxDiff(got, want)
			t.Logf("max |lcnet - ORT| = %.2g", d)
			if d > 1e-5 {
				t.Errorf("lcnet %v, ORT %v", got, want)
			}
			check(t, g, 2)
		})
	}
}
