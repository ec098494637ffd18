package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/graph/safetensors"
	"github.com/lcnet-go/lcnet/internal/npy"
)

// TestPreprocessThenInfer checks the preprocess output shape and that
// running it through infer gives the scores classify reports.
func TestPreprocessThenInfer(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	paths := writeTextLines(t, dir, 3)
	x := filepath.Join(dir, "x.npy")
	code, stdout, stderr := lcnetRun(t, append([]string{"preprocess", "--model", textlinePaddle, "--output", x}, paths...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
	a, err := npy.ReadFile(x)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{len(paths), 3, 80, 160}; len(a.Shape) != 4 || a.Shape[0] != want[0] || a.Shape[1] != 3 || a.Shape[2] != 80 || a.Shape[3] != 160 {
		t.Fatalf("shape %v, want %v", a.Shape, want)
	}
	// White background: (1 - 0.485) / 0.229 in channel 0 at a corner...
	// unless the background is grey; just check the range of normalised
	// 8-bit values.
	for _, v := range a.Data {
		if v < -2.2 || v > 2.7 {
			t.Fatalf("value %v outside the normalised range", v)
		}
	}
	y := filepath.Join(dir, "y.npy")
	if code, _, stderr := lcnetRun(t, "infer", "--model", textlinePaddle, "--input", x, "--output", y); code != 0 {
		t.Fatalf("infer: exit %d: %s", code, stderr)
	}
	out, err := npy.ReadFile(y)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = lcnetRun(t, append([]string{"classify", "--model", textlinePaddle, "--json"}, paths...)...)
	if code != 0 {
		t.Fatalf("classify: exit %d: %s", code, stderr)
	}
	var res []classifyResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		for _, p := range r.Top {
			if d := math.Abs(float64(p.Score - out.Data[2*i+p.ID])); d > 1e-6 {
				t.Errorf("%s: classify %v, preprocess+infer %v", r.File, r.Top, out.Data[2*i:2*i+2])
			}
		}
	}
	// A file that is not an image fails the whole command.
	txt := filepath.Join(dir, "a.txt")
	os.WriteFile(txt, []byte("text"), 0o644)
	if code, _, stderr := lcnetRun(t, "preprocess", "--model", textlinePaddle, "--output", x, paths[0], txt); code != 1 || !strings.Contains(stderr, "a.txt") {
		t.Errorf("non-image: exit %d, %s", code, stderr)
	}
}

func TestExportONNXThenInfer(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	x := filepath.Join(dir, "x.npy")
	if err := npy.WriteFile(x, &npy.Array{Shape: []int{2, 3, 80, 160}, Data: sinValues(2 * 3 * 80 * 160)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, model string
		opset       string
		input       string
	}{
		{"paddle-dir", textlinePaddle, "13", x},
		{"paddle-dir-opset17", textlinePaddle, "17", x},
		{"onnx", textlineONNX, "11", x},
		{"builtin", "pplcnet_x0_35", "13", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.input
			if in == "" {
				in = filepath.Join(dir, c.name+"-x.npy")
				if err := npy.WriteFile(in, &npy.Array{Shape: []int{1, 3, 224, 224}, Data: sinValues(3 * 224 * 224)}); err != nil {
					t.Fatal(err)
				}
			}
			onnxPath := filepath.Join(dir, c.name+".onnx")
			code, stdout, stderr := lcnetRun(t, "export", "--model", c.model, "--format", "onnx", "--opset", c.opset, "--output", onnxPath)
			if code != 0 {
				t.Fatalf("export: exit %d: %s", code, stderr)
			}
			t.Log(strings.TrimSpace(stdout))
			var outs [2]*npy.Array
			for i, m := range []string{c.model, onnxPath} {
				y := filepath.Join(dir, c.name+"-y.npy")
				if code, _, stderr := lcnetRun(t, "infer", "--model", m, "--backend", "go", "--input", in, "--output", y); code != 0 {
					t.Fatalf("infer %s: exit %d: %s", m, code, stderr)
				}
				a, err := npy.ReadFile(y)
				if err != nil {
					t.Fatal(err)
				}
				outs[i] = a
			}
			var maxd float64
			for i := range outs[0].Data {
				maxd = max(maxd, math.Abs(float64(outs[0].Data[i]-outs[1].Data[i])))
			}
			t.Logf("max |original - exported| = %.2g over %v", maxd, outs[0].Shape)
			if maxd > 1e-5 {
				t.Errorf("exported ONNX differs from the original by %.2g", maxd)
			}
		})
	}
	// A failed export leaves no file behind.
	bad := filepath.Join(dir, "bad.onnx")
	if code, _, stderr := lcnetRun(t, "export", "--model", "pplcnet_x9", "--output", bad); code != 1 {
		t.Errorf("unknown model: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a failed export left a file")
	}
}

func TestInferMalformedNPY(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	for name, b := range map[string][]byte{
		"text.npy":      []byte("not numpy at all"),
		"header.npy":    []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'"),
		"truncated.npy": append([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 80, 160), }        \n"), 1, 2, 3),
		"float64.npy":   append([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }                      \n"), make([]byte, 8)...),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		code, _, stderr := lcnetRun(t, "infer", "--model", textlinePaddle, "--input", p)
		if code != 1 || !strings.Contains(stderr, "npy") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		} else {
			t.Logf("%s: %s", name, strings.TrimSpace(stderr))
		}
	}
	// Right format, wrong shape.
	p := filepath.Join(dir, "shape.npy")
	npy.WriteFile(p, &npy.Array{Shape: []int{1, 3, 224, 224}, Data: make([]float32, 3*224*224)})
	if code, _, stderr := lcnetRun(t, "infer", "--model", textlinePaddle, "--input", p); code != 1 || !strings.Contains(stderr, "shape") {
		t.Errorf("wrong shape: exit %d, %s", code, stderr)
	}
}

// TestExportSafetensors writes timm-layout safetensors and reads them back
// with package safetensors: same probabilities as the original model.
func TestExportSafetensors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, model string
		h, w        int
		strides     [5][2]int
	}{
		{"builtin", "pplcnet_x0_25", 224, 224, [5][2]int{}},
	}
	if _, err := os.Stat(textlinePaddle); err == nil {
		cases = append(cases, struct {
			name, model string
			h, w        int
			strides     [5][2]int
		}{"textline", textlinePaddle, 80, 160, pplcnet.TextLine(0.25).Strides})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".safetensors")
			code, stdout, stderr := lcnetRun(t, "export", "--model", c.model, "--format", "safetensors", "--output", p)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			t.Log(strings.TrimSpace(stdout))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			g, err := safetensors.Read(b, safetensors.Options{InputH: c.h, InputW: c.w, Softmax: true, Strides: c.strides})
			if err != nil {
				t.Fatal(err)
			}
			back, err := lcnet.New(g, &lcnet.Options{Backend: lcnet.Go})
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			orig, err := lcnet.Open(c.model, &lcnet.OpenOptions{Options: lcnet.Options{Backend: lcnet.Go}})
			if err != nil {
				t.Fatal(err)
			}
			defer orig.Close()
			x := sinValues(3 * c.h * c.w)
			y0, err := orig.Run(x, 1)
			if err != nil {
				t.Fatal(err)
			}
			y1, err := back.Run(x, 1)
			if err != nil {
				t.Fatal(err)
			}
			var maxd float64
			for i := range y0 {
				maxd = max(maxd, math.Abs(float64(y0[i]-y1[i])))
			}
			t.Logf("max |original - safetensors round trip| = %.2g", maxd)
			if maxd > 1e-5 {
				t.Errorf("differs by %.2g", maxd)
			}
		})
	}
}
