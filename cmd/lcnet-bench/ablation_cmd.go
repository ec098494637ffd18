package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/spf13/pflag"
)

// ablationResult is one ablation row with our measurements.
type ablationResult struct {
	Group string `json:"group"`
	Name  string `json:"name"`
	// SEBlocks and LargeKernelBlocks are 13 characters, block 1 first:
	// '1' where the block has squeeze-excite / a 5×5 depthwise kernel.
	SEBlocks          string  `json:"se_blocks"`
	LargeKernelBlocks string  `json:"large_kernel_blocks"`
	Activation        string  `json:"activation"`
	LastConv          bool    `json:"last_conv"`
	Params            int64   `json:"params"`
	FLOPs             int64   `json:"flops"`
	PaperTop1         float64 `json:"paper_top1"`
	PaperMS           float64 `json:"paper_latency_ms"`
	// PaperRatio is the paper's latency over the full x0.5 network's.
	PaperRatio   float64       `json:"paper_ratio"`
	Measurements []measurement `json:"measurements"`

	key string // the configuration, for sharing measurements
}

func runAblation(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("ablation", pflag.ContinueOnError)
	var bf benchFlags
	bf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	backends, err := bf.check()
	if err != nil {
		return err
	}
	rows, graphs, err := ablationRows(bf.seed)
	if err != nil {
		return err
	}
	// The distinct networks, in first-appearance order; the full network's
	// rows share one measurement.
	var keys []string
	for _, r := range rows {
		if _, ok := graphs[r.key]; ok && !slices.Contains(keys, r.key) {
			keys = append(keys, r.key)
		}
	}
	var fullKey string
	for i, a := range ablationTable {
		if a.Change == nil {
			fullKey = rows[i].key
			break
		}
	}

	sched := schedule{runs: bf.runs, warmup: bf.warmup}
	groups := 0
	for _, be := range backends {
		groups += len(threadsFor(be, bf.threads))
	}
	p := newProgress(stderr, groups*len(keys)*sched.inferences(), bf.quiet)
	byKey := map[string][]measurement{}
	for _, t := range bf.threads {
		var ts []*target
		var models []*lcnet.Model
		var tkeys []string
		for _, be := range backends {
			if !slices.Contains(threadsFor(be, bf.threads), t) {
				continue
			}
			for _, k := range keys {
				g := graphs[k]
				m, err := lcnet.New(g, &lcnet.Options{Backend: be, Threads: t, MaxInstances: 1})
				if err != nil {
					closeAll(models, nil)
					p.finish()
					return err
				}
				models = append(models, m)
				in := randomInput(bf.batch*graph.Numel(g.InputShape()), bf.seed)
				out := make([]float32, bf.batch*graph.Numel(g.OutputShape()))
				ts = append(ts, &target{backend: m.Backend(), threads: t, label: fmt.Sprintf("%s t=%d %s", m.Backend(), t, shortName(rows, k)),
					run: func() error { return m.RunInto(in, bf.batch, out) }})
				tkeys = append(tkeys, k)
			}
		}
		err := interleave(ts, sched, p)
		closeAll(models, nil)
		if err != nil {
			p.finish()
			return err
		}
		for i, tg := range ts {
			byKey[tkeys[i]] = append(byKey[tkeys[i]], tg.summary(bf.batch))
		}
	}
	p.finish()
	for i := range rows {
		r := &rows[i]
		for _, m := range byKey[r.key] {
			if full, ok := find(byKey[fullKey], mKey{m.Backend, m.Threads}); ok {
				m.VsFull = m.MedianMS / full.MedianMS
			}
			r.Measurements = append(r.Measurements, m)
		}
	}
	switch bf.format {
	case "json":
		return writeJSON(stdout, rows)
	case "benchstat":
		benchstatHeader(stdout)
		for i, r := range rows {
			for _, m := range r.Measurements {
				benchstatLines(stdout, fmt.Sprintf("BenchmarkAblation/row=%02d_%s/backend=%s/threads=%d", i+1, slug(r.Name), m.Backend, m.Threads), m)
			}
		}
		return nil
	}
	writeAblationMarkdown(stdout, rows, bf)
	return nil
}

// ablationRows builds the 11 rows' networks (one graph per distinct
// configuration) and counts them.
func ablationRows(seed uint64) ([]ablationResult, map[string]*graph.Graph, error) {
	graphs := map[string]*graph.Graph{}
	var rows []ablationResult
	for _, a := range ablationTable {
		c := a.config()
		se, large := describeConfig(c)
		act := "hardswish"
		if c.Act == graph.ActReLU {
			act = "relu"
		}
		key := fmt.Sprintf("se=%s k5=%s act=%s last=%v", se, large, act, c.UseLastConv)
		g, ok := graphs[key]
		if !ok {
			var err error
			if g, err = pplcnet.Build(c, seed); err != nil {
				return nil, nil, fmt.Errorf("ablation %q: %w", a.Name, err)
			}
			graphs[key] = g
		}
		cnt := graph.Count(g)
		rows = append(rows, ablationResult{Group: a.Group, Name: a.Name, SEBlocks: se, LargeKernelBlocks: large,
			Activation: act, LastConv: c.UseLastConv, Params: cnt.Params, FLOPs: cnt.FLOPs,
			PaperTop1: a.Top1, PaperMS: a.LatencyMS, PaperRatio: a.LatencyMS / fullAblationMS, key: key})
	}
	return rows, graphs, nil
}

func writeAblationMarkdown(w io.Writer, rows []ablationResult, bf benchFlags) {
	var sets [][]measurement
	for _, r := range rows {
		sets = append(sets, r.Measurements)
	}
	cols := columns(sets)
	header := []string{"ablation (x0.5)", "SE blocks", "5x5 blocks", "act", "params", "FLOPs", "paper top-1", "paper ms", "paper ratio"}
	align := "lllrrrrrr"
	for _, k := range cols {
		header = append(header, k.String()+" ms", k.String()+" ratio")
		align += "rr"
	}
	var cells [][]string
	for _, r := range rows {
		act := r.Activation
		if !r.LastConv {
			act += ", no 1280 conv"
		}
		c := []string{r.Name, blockRanges(r.SEBlocks), blockRanges(r.LargeKernelBlocks), act,
			fmt.Sprintf("%.3fM", float64(r.Params)/1e6), fmt.Sprintf("%.1fM", float64(r.FLOPs)/1e6),
			fmt.Sprintf("%.2f", r.PaperTop1), fmt.Sprintf("%.2f", r.PaperMS), fmt.Sprintf("%.2f", r.PaperRatio)}
		for _, k := range cols {
			if m, ok := find(r.Measurements, k); ok {
				c = append(c, msCell(m), fmt.Sprintf("%.2f", m.VsFull))
			} else {
				c = append(c, "–", "–")
			}
		}
		cells = append(cells, c)
	}
	fmt.Fprintf(w, "PP-LCNet x0.5 ablations, the paper's numbers beside latency measured on this machine: %s.\n\n", machineLine())
	mdTable(w, align, header, cells)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- paper top-1 and ms are quoted from the paper (%s); paper ratio = the row's latency / the full x0.5 network's %.2f ms.\n", paperHardware, fullAblationMS)
	fmt.Fprintf(w, "- ours: batch %d, median (min–max) ms of %s after %s; every network of a backend and thread count is measured alternately in %s. ratio = the row's median / the full x0.5 network's median (its two rows share one measurement).\n",
		bf.batch, plural(bf.runs, "timed run"), plural(bf.warmup, "warm-up run"), plural(schedule{runs: bf.runs}.blockCount(), "block"))
	fmt.Fprintln(w, "- blocks are numbered 1-13 in network order (blocks2.0 = 1 ... blocks6.1 = 13).")
}

// blockRanges prints a 13-character block mask as ranges: "12-13", "none".
func blockRanges(mask string) string {
	var parts []string
	for i := 0; i < len(mask); {
		if mask[i] != '1' {
			i++
			continue
		}
		j := i
		for j+1 < len(mask) && mask[j+1] == '1' {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(i+1))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", i+1, j+1))
		}
		i = j + 1
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// shortName is the name of the first row with configuration key, for the
// progress display.
func shortName(rows []ablationResult, key string) string {
	for _, r := range rows {
		if r.key == key {
			return r.Name
		}
	}
	return key
}

// slug makes a row name usable in a benchmark name.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
