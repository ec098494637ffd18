package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/dnn"
)

// lcnetBench runs the command in-process and returns its exit code and
// output.
func lcnetBench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := lcnetBench(t, args...)
	if code != 0 {
		t.Fatalf("lcnet-bench %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestLayers profiles a built-in model: every step of a run in the text
// table, and JSON whose per-step means are consistent.
func TestLayers(t *testing.T) {
	out := mustRun(t, "layers", "-m", "pplcnet_x0_25", "--runs", "3", "--warmup", "1")
	if !strings.Contains(out, "profiled runs") || !strings.Contains(out, "conv1.conv") || !strings.Contains(out, "softmax") {
		t.Errorf("layers:\n%s", out)
	}
	var r layersResult
	if err := json.Unmarshal([]byte(mustRun(t, "layers", "-m", "pplcnet_x0_25", "--runs", "3", "--json")), &r); err != nil {
		t.Fatal(err)
	}
	sum, pct := 0.0, 0.0
	for _, st := range r.Steps {
		sum += st.MeanUS
		pct += st.Percent
	}
	if len(r.Steps) < 1 || dnn.Available() && len(r.Steps) < 3 || r.Runs != 3 || sum <= 0 || sum/1e3 > r.RunMS*1.05 || pct < 99.9 || pct > 100.1 {
		t.Errorf("layers --json: %d steps, runs %d, steps %.3f ms, run %.3f ms, %.1f%%", len(r.Steps), r.Runs, sum/1e3, r.RunMS, pct)
	}
}

func TestPaperJSON(t *testing.T) {
	out := mustRun(t, "paper", "--scales", "0.25", "--runs", "3", "--warmup", "1", "--json", "-q")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	r := rows[0]
	for _, k := range []string{"scale", "params", "flops", "paper_top1", "paper_top5", "paper_latency_ms", "paper_hardware", "measurements"} {
		if _, ok := r[k]; !ok {
			t.Errorf("row has no %q: %v", k, r)
		}
	}
	if p := r["params"].(float64); r["scale"] != 0.25 || r["paper_top1"] != 51.86 || r["paper_latency_ms"] != 1.74 || p < 1.5e6 || p > 1.55e6 {
		t.Errorf("row = %v", r)
	}
	if !strings.Contains(r["paper_hardware"].(string), "Xeon Gold 6148") {
		t.Errorf("paper_hardware = %q", r["paper_hardware"])
	}
	ms := r["measurements"].([]any)
	if len(ms) != 1 {
		t.Fatalf("%d measurements, want 1 (default backend, 1 thread)", len(ms))
	}
	m := ms[0].(map[string]any)
	for _, k := range []string{"backend", "threads", "median_ms", "min_ms", "max_ms", "runs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("measurement has no %q: %v", k, m)
		}
	}
	if m["threads"] != 1.0 || m["runs"] != 3.0 {
		t.Errorf("measurement = %v", m)
	}
	lo, med, hi := m["min_ms"].(float64), m["median_ms"].(float64), m["max_ms"].(float64)
	if !(lo > 0 && lo <= med && med <= hi) {
		t.Errorf("min %v, median %v, max %v", lo, med, hi)
	}
}

func TestPaperMarkdownAndProgress(t *testing.T) {
	// Only flags: the default command is paper.
	code, out, errOut := lcnetBench(t, "--scales", "x0.25,1.0", "--backend", "all", "--threads", "1,2", "--runs", "2", "--warmup", "0")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"| scale |", "| x0.25 |", "| x1.0 |", "paper ms", "Xeon Gold 6148", "go t=1 ms", "51.86", "71.32"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "go t=2") {
		t.Errorf("the single-goroutine Go backend was measured at 2 threads:\n%s", out)
	}
	// stderr is not a terminal: plain progress lines.
	if !strings.Contains(errOut, "lcnet-bench:") || !strings.Contains(errOut, "inferences") {
		t.Errorf("no progress lines on stderr:\n%s", errOut)
	}
}

func TestPaperBenchstat(t *testing.T) {
	out := mustRun(t, "paper", "--scales", "0.25", "--runs", "3", "--warmup", "0", "--format", "benchstat", "-q")
	line := regexp.MustCompile(`^BenchmarkInfer/scale=0\.25/backend=(dnnl|go)/threads=1 \t\s*1\t\s*\d+ ns/op\t\s*[\d.]+ images/s$`)
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(l, "Benchmark"):
			if !line.MatchString(l) {
				t.Errorf("benchstat line %q", l)
			}
			n++
		case strings.HasPrefix(l, "goos:"), strings.HasPrefix(l, "goarch:"), strings.HasPrefix(l, "pkg:"), strings.HasPrefix(l, "cpu:"):
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if n != 3 {
		t.Errorf("%d benchmark lines, want one per run (3):\n%s", n, out)
	}
}

func TestAblationJSON(t *testing.T) {
	out := mustRun(t, "ablation", "--json", "--runs", "2", "--warmup", "0", "-q")
	var rows []ablationResult
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 11 {
		t.Fatalf("%d rows, want 11", len(rows))
	}
	const full = "0000000000011"
	const large = "0000001111111"
	want := []struct {
		se, k5, act string
		last        bool
		top1        float64
	}{
		{"1100000000000", large, "hardswish", true, 61.73},
		{"0000001100000", large, "hardswish", true, 62.17},
		{full, large, "hardswish", true, 63.14},
		{"1111111111111", large, "hardswish", true, 64.27},
		{full, "1111111111111", "hardswish", true, 63.22},
		{full, "1111111000000", "hardswish", true, 62.70},
		{full, large, "hardswish", true, 63.14},
		{full, large, "relu", true, 61.93},
		{"0000000000000", large, "hardswish", true, 62.51},
		{full, "0000000000000", "hardswish", true, 62.44},
		{full, large, "hardswish", false, 59.91},
	}
	names := map[string]bool{}
	fullParams := rows[2].Params
	for i, r := range rows {
		w := want[i]
		if r.SEBlocks != w.se || r.LargeKernelBlocks != w.k5 || r.Activation != w.act || r.LastConv != w.last || r.PaperTop1 != w.top1 {
			t.Errorf("row %d %q: se %s k5 %s act %s last %v top1 %v; want %+v", i+1, r.Name, r.SEBlocks, r.LargeKernelBlocks, r.Activation, r.LastConv, r.PaperTop1, w)
		}
		if names[r.Name] {
			t.Errorf("row name %q repeats", r.Name)
		}
		names[r.Name] = true
		// Every change but the activation changes the parameter count.
		sameNet := r.SEBlocks == full && r.LargeKernelBlocks == large && r.LastConv
		if sameNet != (r.Params == fullParams) {
			t.Errorf("row %d %q: params %d, full network %d", i+1, r.Name, r.Params, fullParams)
		}
		if len(r.Measurements) != 1 {
			t.Fatalf("row %d: %d measurements", i+1, len(r.Measurements))
		}
		m := r.Measurements[0]
		if m.Runs != 2 || !(m.MedianMS > 0) || !(m.VsFull > 0) {
			t.Errorf("row %d measurement %+v", i+1, m)
		}
		if r.PaperMS <= 0 || r.PaperRatio != r.PaperMS/fullAblationMS {
			t.Errorf("row %d: paper %v ms, ratio %v", i+1, r.PaperMS, r.PaperRatio)
		}
	}
	if rows[2].Measurements[0].VsFull != 1 || rows[6].Measurements[0].VsFull != 1 {
		t.Errorf("the full network's rows have ratios %v and %v, want 1", rows[2].Measurements[0].VsFull, rows[6].Measurements[0].VsFull)
	}
	if !(rows[10].Params < fullParams/2) || !(rows[3].Params > fullParams) || !(rows[8].Params < fullParams) {
		t.Errorf("params: no-1280-conv %d, SE-everywhere %d, no-SE %d, full %d", rows[10].Params, rows[3].Params, rows[8].Params, fullParams)
	}
}

func TestAblationMarkdown(t *testing.T) {
	out := mustRun(t, "ablation", "--runs", "1", "--warmup", "0", "-q", "--backend", "go")
	for _, want := range []string{"SE in blocks 1-2", "without the 1280 conv", "| 12-13 |", "paper ratio", "go t=1 ratio", "3.80"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n| "); n != 13 { // header, separator, 11 rows
		t.Errorf("%d table lines, want 13:\n%s", n, out)
	}
}

func TestPlot(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"fig.png", "fig.svg"} {
		path := filepath.Join(dir, name)
		mustRun(t, "paper", "--scales", "0.25,0.5", "--runs", "2", "--warmup", "0", "-q", "--plot", path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".png") {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
				t.Errorf("%s is %v", name, b)
			}
		} else if !bytes.Contains(data, []byte("<svg")) || !bytes.Contains(data, []byte("top-1")) {
			t.Errorf("%s is not an SVG with the axis label", name)
		}
	}
}

func TestPeerBadPath(t *testing.T) {
	bad := "onnxruntime=" + filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	code, out, errOut := lcnetBench(t, "paper", "--scales", "0.25", "--runs", "2", "--warmup", "0", "-q", "--peer", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "| x0.25 |") || !strings.Contains(out, "peer error") {
		t.Errorf("the table or the error note is missing:\n%s", out)
	}
	if !strings.Contains(errOut, "onnxruntime") {
		t.Errorf("stderr does not name the peer:\n%s", errOut)
	}

	code, out, _ = lcnetBench(t, "paper", "--scales", "0.25", "--runs", "2", "--warmup", "0", "-q", "--json", "--peer", bad)
	var rows []paperResult
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if len(rows) != 1 || rows[0].PeerError == "" || len(rows[0].Measurements) != 1 {
		t.Errorf("rows = %+v", rows)
	}

	// A file that is not a shared library.
	junk := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(junk, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = lcnetBench(t, "paper", "--scales", "0.25", "--runs", "2", "--warmup", "0", "-q", "--peer", "onnxruntime="+junk)
	if code != 1 || !strings.Contains(out, "| x0.25 |") || !strings.Contains(out, "peer error") {
		t.Errorf("junk library: exit %d\n%s", code, out)
	}

	code, out, _ = lcnetBench(t, "latency", "--runs", "2", "--warmup", "0", "-m", "pplcnet_x0_25", "--peer", bad)
	if code != 1 || !strings.Contains(out, "median") || !strings.Contains(out, "peer error") {
		t.Errorf("latency: exit %d\n%s", code, out)
	}

	code, out, _ = lcnetBench(t, "layers", "--runs", "2", "--warmup", "0", "-m", "pplcnet_x0_25", "--peer", bad)
	if code != 1 || !strings.Contains(out, "runs as") || !strings.Contains(out, "peer error") {
		t.Errorf("layers: exit %d\n%s", code, out)
	}
}

// TestParseORTProfile reads ONNX Runtime profiles: per-node means after the
// warm-up runs, in first-run order, non-node and session events ignored;
// and rejects what is not one.
func TestParseORTProfile(t *testing.T) {
	ev := func(cat, name string, dur float64, op string) string {
		return fmt.Sprintf(`{"cat":%q,"pid":1,"tid":1,"dur":%g,"ts":0,"ph":"X","name":%q,"args":{"op_name":%q,"provider":"CPUExecutionProvider"}}`, cat, dur, name, op)
	}
	runs := []string{ev("Session", "model_loading_uri", 900, "")}
	for i, d := range []float64{100, 10, 12} { // run 0 is the warm-up
		runs = append(runs, ev("Node", "conv1_fence_before", 1, "Conv"), ev("Node", "conv1_kernel_time", d, "Conv"),
			ev("Node", "fc_kernel_time", 2*d+float64(i), "Gemm"))
	}
	data := "[\n" + strings.Join(runs, ",\n") + "\n]"
	got, err := parseORTProfile([]byte(data), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []peerNode{{Node: "conv1", Op: "Conv", MeanUS: 11, Runs: 2}, {Node: "fc", Op: "Gemm", MeanUS: 23.5, Runs: 2}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []struct{ data, want string }{
		{"not json", "profile"},
		{"[" + ev("Session", "x", 1, "") + "]", "no node timings"},
		{data, "no node timings"}, // skip all 3 runs
	} {
		skip := 1
		if bad.data == data {
			skip = 3
		}
		if _, err := parseORTProfile([]byte(bad.data), skip); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%.30q: err %v, want %q", bad.data, err, bad.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"paper", "--scales", "0.3"}, "unknown scale"},
		{[]string{"paper", "--scales", "abc"}, "unknown scale"},
		{[]string{"paper", "--backend", "tpu"}, "unknown backend"},
		{[]string{"ablation", "--backend", "cuda"}, "unknown backend"},
		{[]string{"paper", "--threads", "0"}, "--threads"},
		{[]string{"paper", "--runs", "0"}, "--runs"},
		{[]string{"paper", "--format", "csv"}, "--format"},
		{[]string{"paper", "--plot", "fig.gif"}, ".png or .svg"},
		{[]string{"paper", "--peer", "tensorrt=/x.so"}, "unknown peer"},
		{[]string{"paper", "--peer", "onnxruntime"}, "onnxruntime=PATH"},
		{[]string{"latency", "--backend", "tpu"}, "unknown backend"},
		{[]string{"latency", "--concurrency", "2", "--peer", "onnxruntime=/x.so"}, "--concurrency 1"},
		{[]string{"layers", "--runs", "0"}, "--runs"},
		{[]string{"layers", "--backend", "tpu"}, "unknown backend"},
		{[]string{"bogus"}, "unknown command"},
	} {
		code, _, errOut := lcnetBench(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// TestPeerORT runs ONNX Runtime beside us when LCNET_ORT_LIB names its
// library (see README.md).
func TestPeerORT(t *testing.T) {
	lib := os.Getenv("LCNET_ORT_LIB")
	if lib == "" {
		t.Skip("set LCNET_ORT_LIB to ONNX Runtime's libonnxruntime.so.1 to test --peer (npm install --ignore-scripts onnxruntime-node@1.30.0)")
	}
	out := mustRun(t, "paper", "--scales", "0.25", "--threads", "1,2", "--runs", "3", "--warmup", "1", "-q", "--json", "--peer", "onnxruntime="+lib)
	var rows []paperResult
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := rows[0]
	if r.PeerError != "" || r.PeerMaxRelDiff == nil || *r.PeerMaxRelDiff > agreeTol {
		t.Fatalf("peer error %q, diff %v", r.PeerError, r.PeerMaxRelDiff)
	}
	t.Logf("max |ours - ORT| / max |ours| = %.2g", *r.PeerMaxRelDiff)
	peers := map[int]bool{}
	for _, m := range r.Measurements {
		switch {
		case m.Backend == peerName:
			peers[m.Threads] = true
		case !(m.VsPeer > 0):
			t.Errorf("%s t=%d has no ratio to the peer", m.Backend, m.Threads)
		}
	}
	if !peers[1] || !peers[2] {
		t.Errorf("peer measured at %v, want threads 1 and 2", peers)
	}

	md := mustRun(t, "paper", "--scales", "0.25", "--runs", "2", "--warmup", "0", "-q", "--peer", "onnxruntime="+lib)
	if !strings.Contains(md, "ORT t=1 ms") || !strings.Contains(md, "/ORT t=1") || !strings.Contains(md, "ONNX Runtime 1.") {
		t.Errorf("markdown lacks the ORT columns:\n%s", md)
	}
	lat := mustRun(t, "latency", "-m", "pplcnet_x0_25", "--runs", "3", "--warmup", "1", "--peer", "onnxruntime="+lib)
	if !strings.Contains(lat, "backend=onnxruntime") || !strings.Contains(lat, "ratio ours/ORT") {
		t.Errorf("latency --peer:\n%s", lat)
	}
	var lr layersResult
	if err := json.Unmarshal([]byte(mustRun(t, "layers", "-m", "pplcnet_x0_25", "--runs", "3", "--warmup", "1", "--json", "--peer", "onnxruntime="+lib)), &lr); err != nil {
		t.Fatal(err)
	}
	if lr.PeerError != "" || len(lr.PeerNodes) < 20 || lr.PeerNodes[len(lr.PeerNodes)-1].Runs != 3 {
		t.Errorf("layers --peer: error %q, %d nodes %+v", lr.PeerError, len(lr.PeerNodes), lr.PeerNodes)
	}
}
