package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/spf13/pflag"
)

// benchFlags are the flags shared by paper and ablation.
type benchFlags struct {
	threads []int
	backend string
	runs    int
	warmup  int
	batch   int
	seed    uint64
	json    bool
	format  string
	quiet   bool
}

// Defaults: the whole paper table (8 scales, one backend, one thread) in
// about ten seconds on a 2-vCPU machine.
const (
	defaultRuns   = 100
	defaultWarmup = 10
)

func (f *benchFlags) register(fs *pflag.FlagSet) {
	fs.IntSliceVar(&f.threads, "threads", []int{1}, "comma-separated intra-op thread counts to measure")
	fs.StringVar(&f.backend, "backend", "auto", "auto, dnnl, go or all")
	fs.IntVar(&f.runs, "runs", defaultRuns, "timed runs per measurement")
	fs.IntVar(&f.warmup, "warmup", defaultWarmup, "untimed warm-up runs per measurement")
	fs.IntVar(&f.batch, "batch", 1, "images per run")
	fs.Uint64Var(&f.seed, "seed", lcnet.DefaultSeed, "seed of the synthetic weights")
	fs.BoolVar(&f.json, "json", false, "print JSON (same as --format json)")
	fs.StringVar(&f.format, "format", "markdown", "markdown, json or benchstat")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display on stderr")
}

// check validates the flags and resolves the backends.
func (f *benchFlags) check() ([]lcnet.Backend, error) {
	if f.json {
		if f.format != "markdown" && f.format != "json" {
			return nil, fmt.Errorf("%w: --json and --format %s disagree", errUsage, f.format)
		}
		f.format = "json"
	}
	switch f.format {
	case "markdown", "md", "json", "benchstat":
	default:
		return nil, fmt.Errorf("%w: unknown --format %q (want markdown, json or benchstat)", errUsage, f.format)
	}
	if f.runs < 1 || f.runs > 1e6 || f.warmup < 0 || f.warmup > 1e6 || f.batch < 1 || f.batch > 4096 {
		return nil, fmt.Errorf("%w: --runs and --batch must be positive, --warmup not negative", errUsage)
	}
	if len(f.threads) == 0 {
		return nil, fmt.Errorf("%w: --threads needs at least one count", errUsage)
	}
	seen := map[int]bool{}
	var ts []int
	for _, t := range f.threads {
		if t < 1 || t > 1024 {
			return nil, fmt.Errorf("%w: --threads %d must be in [1, 1024]", errUsage, t)
		}
		if !seen[t] {
			seen[t] = true
			ts = append(ts, t)
		}
	}
	f.threads = ts
	return parseBackends(f.backend)
}

// parseBackends resolves auto, dnnl, go and all. An unknown name is a usage
// error; dnnl in a build or on a CPU without oneDNN is an ordinary one.
func parseBackends(s string) ([]lcnet.Backend, error) {
	dnnl := lcnet.DNNLISA() != ""
	switch s {
	case "all":
		if dnnl {
			return []lcnet.Backend{lcnet.DNNL, lcnet.Go}, nil
		}
		return []lcnet.Backend{lcnet.Go}, nil
	case "auto", "":
		if dnnl {
			return []lcnet.Backend{lcnet.DNNL}, nil
		}
		return []lcnet.Backend{lcnet.Go}, nil
	}
	be, err := lcnet.ParseBackend(s)
	if err != nil {
		return nil, fmt.Errorf("%w: unknown backend %q (want auto, dnnl, go or all)", errUsage, s)
	}
	if be == lcnet.DNNL && !dnnl {
		return nil, fmt.Errorf("backend dnnl is not available: this binary was built without oneDNN (CGO_ENABLED=0 or -tags purego)")
	}
	return []lcnet.Backend{be}, nil
}

// threadsFor lists the thread counts measured for a backend: the Go
// backend runs an inference on one goroutine, so it is measured once, at 1.
func threadsFor(be lcnet.Backend, threads []int) []int {
	if be == lcnet.Go {
		return []int{1}
	}
	return threads
}

// parseScales reads --scales: a comma-separated list of the paper's scales.
func parseScales(s string) ([]float64, error) {
	if s == "" || s == "all" {
		return slices.Clone(pplcnet.Scales), nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimPrefix(strings.TrimSpace(f), "x")
		v, err := strconv.ParseFloat(f, 64)
		if _, ok := paperRowOf(v); err != nil || !ok {
			return nil, fmt.Errorf("%w: unknown scale %q (the paper's scales: %s)", errUsage, f, scaleList())
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

func scaleList() string {
	var s []string
	for _, p := range paperTable {
		s = append(s, fmtScale(p.Scale))
	}
	return strings.Join(s, ", ")
}

// fmtScale prints a scale with at least one decimal: 0.25, 1.0, 2.5.
func fmtScale(s float64) string {
	t := strconv.FormatFloat(s, 'f', -1, 64)
	if !strings.Contains(t, ".") {
		t += ".0"
	}
	return t
}

// randomInput returns n values drawn from a fixed normal distribution.
func randomInput(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(rng.NormFloat64())
	}
	return in
}

// cpuName is the processor's model name from /proc/cpuinfo, or the
// architecture where there is none.
func cpuName() string {
	f, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				return strings.Join(strings.Fields(v), " ")
			}
		}
	}
	return runtime.GOARCH + " CPU"
}

// machineLine names this machine: CPU, logical CPUs and oneDNN's ISA.
func machineLine() string {
	s := fmt.Sprintf("%s, %d logical CPUs", cpuName(), runtime.NumCPU())
	if isa := lcnet.DNNLISA(); isa != "" {
		s += ", oneDNN ISA " + isa
	} else {
		s += ", built without oneDNN"
	}
	return s
}
