package main

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/internal/npy"
	"github.com/lcnet-go/lcnet/internal/textrender"
)

func TestInferTextlineSin(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := npy.WriteFile(in, &npy.Array{Shape: []int{1, 3, 80, 160}, Data: sinValues(3 * 80 * 160)}); err != nil {
		t.Fatal(err)
	}
	for _, be := range []string{"go", "auto"} {
		code, _, stderr := lcnetRun(t, "infer", "--model", textlinePaddle, "--backend", be, "--input", in, "--output", out)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		y, err := npy.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{0.09793915, 0.90206081}
		if len(y.Data) != 2 {
			t.Fatalf("output shape %v", y.Shape)
		}
		for i := range want {
			if math.Abs(float64(y.Data[i])-want[i]) > 2e-5 {
				t.Errorf("%s: out %v, want %v", be, y.Data, want)
			}
		}
	}
}

func TestClassifyTextLinesJSON(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	paths := writeTextLines(t, dir, 12)
	code, stdout, stderr := lcnetRun(t, "classify", "--model", textlinePaddle, "--json", "--batch", "5", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res []classifyResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(res) != len(paths) {
		t.Fatalf("%d results for %d files", len(res), len(paths))
	}
	for i, r := range res {
		if r.File != paths[i] {
			t.Errorf("result %d is %s, want %s (order)", i, r.File, paths[i])
		}
		if r.Error != "" || len(r.Top) != 2 {
			t.Errorf("%s: %+v", r.File, r)
			continue
		}
		if want := labelOfName(r.File); r.Top[0].Label != want || r.Top[0].Score < r.Top[1].Score {
			t.Errorf("%s: %+v, want %s first", r.File, r.Top, want)
		}
		if id := map[string]int{"0_degree": 0, "180_degree": 1}[r.Top[0].Label]; r.Top[0].ID != id {
			t.Errorf("%s: id %d for %s", r.File, r.Top[0].ID, r.Top[0].Label)
		}
	}
	// The raw JSON has the documented keys.
	var raw []map[string]any
	json.Unmarshal([]byte(stdout), &raw)
	top := raw[0]["top"].([]any)[0].(map[string]any)
	for _, k := range []string{"label", "id", "score"} {
		if _, ok := top[k]; !ok {
			t.Errorf("key %q missing in %v", k, top)
		}
	}

	// Text output: one line per file, file then "label score" pairs.
	code, stdout, stderr = lcnetRun(t, "classify", "--model", textlinePaddle, "--topk", "1", paths[0], paths[1])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("text output:\n%s", stdout)
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 2 || f[0] != paths[i] || !strings.HasPrefix(f[1], labelOfName(paths[i])+" ") {
			t.Errorf("line %q", l)
		}
	}
}

func TestClassifyBadFiles(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	good := writeTextLines(t, dir, 3)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	// A JPEG cut to a third, a PNG cut after its header, a PNG bomb, an
	// empty file, text, and garbage behind a JPEG signature.
	img, _ := textrender.Render(mustFonts(t)[0], "Truncated", textrender.Style{Size: 30, BG: white})
	var jb bytes.Buffer
	jpeg.Encode(&jb, textrender.ToImage(img), nil)
	pb, _ := os.ReadFile(good[0])
	bad := map[string][]byte{
		"cut.jpg":      jb.Bytes()[:jb.Len()/3],
		"cut.png":      pb[:60],
		"bomb.png":     pngBomb(30000, 30000),
		"empty.png":    nil,
		"README.md":    []byte("# not an image\n"),
		"garbage.jpg":  append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x42}, 500)...),
		"sub/data.bin": bytes.Repeat([]byte{0, 1, 2, 3}, 100),
	}
	for name, b := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, asJSON := range []bool{true, false} {
		args := []string{"classify", "--model", textlinePaddle, "--batch", "2", dir}
		if asJSON {
			args = append(args, "--json")
		}
		code, stdout, stderr := lcnetRun(t, args...)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stderr, strconv.Itoa(len(bad))+" of "+strconv.Itoa(len(bad)+len(good))+" files") {
			t.Errorf("stderr %q", stderr)
		}
		got := map[string]classifyResult{}
		if asJSON {
			var res []classifyResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("%v\n%s", err, stdout)
			}
			for _, r := range res {
				got[r.File] = r
			}
		} else {
			for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
				file, rest, _ := strings.Cut(l, "\t")
				if e, ok := strings.CutPrefix(rest, "error: "); ok {
					got[file] = classifyResult{File: file, Error: e}
				} else {
					got[file] = classifyResult{File: file, Top: parseTextTop(t, rest)}
				}
			}
		}
		if len(got) != len(bad)+len(good) {
			t.Errorf("%d results, want %d", len(got), len(bad)+len(good))
		}
		for _, p := range good {
			if r := got[p]; r.Error != "" || len(r.Top) == 0 || r.Top[0].Label != labelOfName(p) {
				t.Errorf("%s: %+v", p, r)
			}
		}
		reasons := map[string]string{
			"bomb.png": "too large", "empty.png": "empty", "README.md": "not an image",
			"sub/data.bin": "not an image", "cut.jpg": "corrupt", "cut.png": "corrupt", "garbage.jpg": "corrupt",
		}
		for name, reason := range reasons {
			r := got[filepath.Join(dir, name)]
			if !strings.Contains(r.Error, reason) || len(r.Top) != 0 {
				t.Errorf("%s: %+v, want an error saying %q", name, r, reason)
			}
		}
		if asJSON {
			t.Logf("errors reported:")
			for name := range reasons {
				t.Logf("  %s: %s", name, got[filepath.Join(dir, name)].Error)
			}
		}
	}
}

func parseTextTop(t *testing.T, s string) []lcnet.Prediction {
	var top []lcnet.Prediction
	for _, f := range strings.Split(s, "\t") {
		i := strings.LastIndex(f, " ")
		if i < 0 {
			t.Fatalf("bad text field %q", f)
		}
		v, err := strconv.ParseFloat(f[i+1:], 32)
		if err != nil {
			t.Fatalf("bad text field %q", f)
		}
		top = append(top, lcnet.Prediction{Label: f[:i], Score: float32(v)})
	}
	return top
}

func TestClassifyFlags(t *testing.T) {
	needTextline(t)
	dir := t.TempDir()
	p := writeTextLines(t, dir, 1)[0]
	lab := filepath.Join(dir, "labels.txt")
	os.WriteFile(lab, []byte("0 upright\n1 upside down\n"), 0o644)
	code, stdout, stderr := lcnetRun(t, "classify", "-m", textlinePaddle, "--labels", lab, "--json", "-k", "1", p)
	if code != 0 || !strings.Contains(stdout, `"label":"upright"`) && !strings.Contains(stdout, `"label":"upside down"`) {
		t.Errorf("--labels: exit %d %s %s", code, stdout, stderr)
	}
	os.WriteFile(lab, []byte("a\nb\nc\n"), 0o644)
	if code, _, stderr := lcnetRun(t, "classify", "-m", textlinePaddle, "--labels", lab, p); code != 1 || !strings.Contains(stderr, "3 labels") {
		t.Errorf("wrong label count: exit %d %s", code, stderr)
	}
	for _, args := range [][]string{
		{"classify", "-m", textlinePaddle},                       // no paths
		{"classify", p},                                          // no model
		{"classify", "-m", textlinePaddle, "--batch", "0", p},    //
		{"classify", "-m", textlinePaddle, "--topk", "-1", p},    //
		{"classify", "-m", textlinePaddle, "--bogus", p},         //
		{"classify", "-m", textlinePaddle, "--progress", "x", p}, //
		{"classify", "-m", textlinePaddle, "--backend", "tpu", p},
		{"preprocess", "-m", textlinePaddle, p},             // no output
		{"preprocess", "-m", textlinePaddle, "-o", "x.npy"}, // no images
		{"export", "-m", textlinePaddle, "--format", "tflite", "-o", "x"},
		{"export", "-m", textlinePaddle, "--opset", "3", "-o", "x"},
		{"export", "-m", textlinePaddle},
		{"infer", "-m", textlinePaddle, "--nope"},
		{"nosuchcommand"},
	} {
		if code, _, stderr := lcnetRun(t, args...); code != 2 || stderr == "" {
			t.Errorf("%q: exit %d (want 2), stderr %q", args, code, stderr)
		}
	}
	if code, _, _ := lcnetRun(t, "classify", "--help"); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}

func mustFonts(t *testing.T) []*textrender.Font {
	fs, err := textrender.Fonts()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}
