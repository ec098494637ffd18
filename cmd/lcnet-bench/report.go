package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// mdTable writes a Markdown table; align has one 'l' or 'r' per column.
func mdTable(w io.Writer, align string, header []string, rows [][]string) {
	line := func(cells []string) {
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---:"
		if i < len(align) && align[i] == 'l' {
			sep[i] = ":---"
		}
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
}

// mKey identifies a measurement column: a backend at a thread count.
type mKey struct {
	backend string
	threads int
}

func (k mKey) String() string {
	b := k.backend
	if b == peerName {
		b = "ORT"
	}
	return fmt.Sprintf("%s t=%d", b, k.threads)
}

// columns lists the measurement keys of all rows in order of first
// appearance.
func columns(sets [][]measurement) []mKey {
	var ks []mKey
	seen := map[mKey]bool{}
	for _, ms := range sets {
		for _, m := range ms {
			k := mKey{m.Backend, m.Threads}
			if !seen[k] {
				seen[k] = true
				ks = append(ks, k)
			}
		}
	}
	return ks
}

func find(ms []measurement, k mKey) (measurement, bool) {
	for _, m := range ms {
		if m.Backend == k.backend && m.Threads == k.threads {
			return m, true
		}
	}
	return measurement{}, false
}

// msCell prints median (min–max) in milliseconds.
func msCell(m measurement) string {
	return fmt.Sprintf("%s (%s–%s)", fmtMS(m.MedianMS), fmtMS(m.MinMS), fmtMS(m.MaxMS))
}

func fmtMS(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func writePaperMarkdown(w io.Writer, rows []paperResult, bf benchFlags, pr *peerRun) error {
	var sets [][]measurement
	for _, r := range rows {
		sets = append(sets, r.Measurements)
	}
	cols := columns(sets)
	header := []string{"scale", "params", "FLOPs", "paper top-1", "paper top-5", "paper ms"}
	align := "rrrrrr"
	type ratioCol struct{ ours, peer mKey }
	var ratios []ratioCol
	for _, k := range cols {
		header = append(header, k.String()+" ms")
		align += "r"
	}
	for _, k := range cols {
		pk := mKey{peerName, k.threads}
		if k.backend != peerName && containsKey(cols, pk) {
			ratios = append(ratios, ratioCol{k, pk})
			header = append(header, fmt.Sprintf("%s/ORT t=%d", k.backend, k.threads))
			align += "r"
		}
	}
	var cells [][]string
	for _, r := range rows {
		c := []string{"x" + fmtScale(r.Scale), fmt.Sprintf("%.2fM", float64(r.Params)/1e6), fmt.Sprintf("%.1fM", float64(r.FLOPs)/1e6),
			fmt.Sprintf("%.2f", r.PaperTop1), fmt.Sprintf("%.2f", r.PaperTop5), fmt.Sprintf("%.2f", r.PaperMS)}
		for _, k := range cols {
			if m, ok := find(r.Measurements, k); ok {
				c = append(c, msCell(m))
			} else {
				c = append(c, "–")
			}
		}
		for _, rc := range ratios {
			if m, ok := find(r.Measurements, rc.ours); ok && m.VsPeer > 0 {
				c = append(c, fmt.Sprintf("%.2f", m.VsPeer))
			} else {
				c = append(c, "–")
			}
		}
		cells = append(cells, c)
	}
	fmt.Fprintf(w, "PP-LCNet, the paper's main table beside latency measured on this machine: %s.\n\n", machineLine())
	mdTable(w, align, header, cells)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- params and FLOPs: counted on the network built here (224x224, Paddle's FLOPs rule); top-1/top-5 and paper ms are quoted from the paper (paper ms: %s). Our weights are synthetic, so accuracy is the paper's.\n", paperHardware)
	fmt.Fprintf(w, "- ours: batch %d, median (min–max) ms of %s after %s per column; the columns of one scale and thread count are measured alternately in %s, so drift of the machine hits them alike.\n",
		bf.batch, plural(bf.runs, "timed run"), plural(bf.warmup, "warm-up run"), plural(schedule{runs: bf.runs}.blockCount(), "block"))
	if containsBackend(cols, "go") && len(bf.threads) > 1 {
		fmt.Fprintln(w, "- go runs one inference on one goroutine, so it is measured at threads=1 only.")
	}
	writePeerNote(w, pr)
	return nil
}

func writePeerNote(w io.Writer, pr *peerRun) {
	switch {
	case pr.spec.name == "":
	case pr.initErr != nil:
		fmt.Fprintf(w, "- **peer error**: %v. The table above is without it.\n", pr.initErr)
	default:
		fmt.Fprintf(w, "- ORT: ONNX Runtime %s, CPU execution provider, intra-op threads = t, inter-op threads 1, default graph optimizations, running the engine's own ONNX export (opset %d) of the same network and weights; ratio = our median / ORT's median (below 1: we are faster). Outputs agree to %.2g (max |ours - ORT| / max |ours|; limit %g).\n",
			pr.version, peerExportOpset, pr.maxDiff, pr.tol())
		if pr.int8 {
			fmt.Fprintf(w, "- ours ran the model's int8 layers (calibration table in the file); ORT ran the same network in fp32.\n")
		}
		for _, e := range pr.errs {
			fmt.Fprintf(w, "- **peer error**: %s\n", e)
		}
	}
}

func containsKey(ks []mKey, k mKey) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func containsBackend(ks []mKey, b string) bool {
	for _, x := range ks {
		if x.backend == b {
			return true
		}
	}
	return false
}

// benchstatHeader is the configuration block benchstat groups results by.
func benchstatHeader(w io.Writer) {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/lcnet-go/lcnet/cmd/lcnet-bench\ncpu: %s\n", runtime.GOOS, runtime.GOARCH, cpuName())
}

// benchstatLines writes one line per block of m, which benchstat reads as
// repeated samples of one benchmark.
func benchstatLines(w io.Writer, name string, m measurement) {
	if m.Batch != 1 {
		name += fmt.Sprintf("/batch=%d", m.Batch)
	}
	for _, s := range m.samples {
		ns := float64(s.mean.Nanoseconds())
		fmt.Fprintf(w, "%s \t%8d\t%12.0f ns/op\t%10.1f images/s\n", name, s.runs, ns, float64(m.Batch)*1e9/ns)
	}
}

func writePaperBenchstat(w io.Writer, rows []paperResult) error {
	benchstatHeader(w)
	for _, r := range rows {
		for _, m := range r.Measurements {
			benchstatLines(w, fmt.Sprintf("BenchmarkInfer/scale=%s/backend=%s/threads=%d", fmtScale(r.Scale), m.Backend, m.Threads), m)
		}
	}
	return nil
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return strconv.Itoa(n) + " " + s + "s"
}
