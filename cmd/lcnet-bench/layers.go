package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
)

// layersResult is what "layers" prints (also as JSON).
type layersResult struct {
	Model   string      `json:"model"`
	Backend string      `json:"backend"`
	Threads int         `json:"threads"`
	Batch   int         `json:"batch"`
	Runs    int         `json:"runs"`
	RunMS   float64     `json:"run_ms"` // mean wall time of a profiled run
	Steps   []layerStep `json:"steps"`
	// With --peer: ONNX Runtime's own profile of the same network (its
	// version, the nodes' mean kernel times), or why it could not run.
	PeerVersion string     `json:"peer_version,omitempty"`
	PeerNodes   []peerNode `json:"peer_nodes,omitempty"`
	PeerError   string     `json:"peer_error,omitempty"`
}

type layerStep struct {
	Node    string  `json:"node"`
	Backend string  `json:"backend"`
	What    string  `json:"what"`
	MeanUS  float64 `json:"mean_us"`
	Percent float64 `json:"percent"`
}

func runLayers(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("layers", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	runs := fs.Int("runs", 100, "profiled runs")
	warmup := fs.Int("warmup", 10, "untimed warm-up runs")
	batch := fs.Int("batch", 1, "images per run")
	asJSON := fs.Bool("json", false, "print JSON")
	peerFlag := fs.String("peer", "", "onnxruntime=PATH/libonnxruntime.so.1: also profile ONNX Runtime's CPU provider on the same network (its own per-node profiler) and print its nodes' times")
	if err := parse(fs, args); err != nil {
		return err
	}
	peer, err := parsePeer(*peerFlag)
	if err != nil {
		return err
	}
	if *runs < 1 || *warmup < 0 || *batch < 1 || *batch > 4096 {
		return fmt.Errorf("%w: --runs and --batch must be positive, --warmup not negative", errUsage)
	}
	m, err := mf.open(1)
	if err != nil {
		return err
	}
	defer m.Close()
	s := m.InputShape()
	in := randomInput(*batch*s[0]*s[1]*s[2], mf.seed)
	out := make([]float32, *batch*m.OutputShape()[0])
	for range *warmup {
		if err := m.RunInto(in, *batch, out); err != nil {
			return err
		}
	}
	steps, wall, err := m.Profile(context.Background(), in, *batch, *runs)
	if err != nil {
		return err
	}
	r := layersResult{Model: mf.model, Backend: backendLabel(m), Threads: mf.threads, Batch: *batch, Runs: *runs,
		RunMS: ms(wall)}
	var total time.Duration
	for _, st := range steps {
		total += st.Mean
	}
	for _, st := range steps {
		r.Steps = append(r.Steps, layerStep{Node: st.Node, Backend: st.Backend, What: st.What,
			MeanUS: float64(st.Mean.Nanoseconds()) / 1e3, Percent: 100 * st.Mean.Seconds() / max(total.Seconds(), 1e-12)})
	}
	if peer.name != "" {
		r.PeerVersion, err = initPeer(peer)
		if err == nil {
			r.PeerNodes, err = profilePeer(m.Graph(), in, *batch, mf.threads, *warmup, *runs)
		}
		if err != nil {
			r.PeerError = err.Error()
			fmt.Fprintf(stderr, "lcnet-bench: %v; the table above has ours only\n", err)
		}
	}
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printLayers(stdout, r, total)
		if len(r.PeerNodes) > 0 {
			printPeerNodes(stdout, r)
		} else if r.PeerError != "" {
			fmt.Fprintf(stdout, "\npeer error: %s\n", r.PeerError)
		}
	}
	if r.PeerError != "" {
		return errPeer
	}
	return nil
}

// printPeerNodes prints the peer's per-node profile.
func printPeerNodes(w io.Writer, r layersResult) {
	var sum float64
	for _, n := range r.PeerNodes {
		sum += n.MeanUS
	}
	fmt.Fprintf(w, "\n%s %s, same network (the engine's ONNX export), intra-op threads %d, batch %d: its profiler's kernel\n",
		peerName, r.PeerVersion, r.Threads, r.Batch)
	fmt.Fprintf(w, "times, mean of %d runs after the warm-up, sum %.3f ms\n\n", r.Runs, sum/1e3)
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tnode\top\tmean us\t%\t")
	for i, n := range r.PeerNodes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f\t%.1f\t\n", i, n.Node, n.Op, n.MeanUS, 100*n.MeanUS/max(sum, 1e-12))
	}
	tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func printLayers(w io.Writer, r layersResult, total time.Duration) {
	fmt.Fprintf(w, "%s backend=%s threads=%d batch=%d: %d profiled runs, %.3f ms per run (steps sum to %.3f ms)\n\n",
		r.Model, r.Backend, r.Threads, r.Batch, r.Runs, r.RunMS, ms(total))
	top := slices.Clone(r.Steps)
	slices.SortFunc(top, func(a, b layerStep) int {
		switch {
		case a.MeanUS > b.MeanUS:
			return -1
		case a.MeanUS < b.MeanUS:
			return 1
		}
		return 0
	})
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tnode\tbackend\truns as\tmean us\t%\t")
	for i, st := range r.Steps {
		node := st.Node
		if node == "" {
			node = "(input/output)"
		}
		mark := ""
		if len(top) > 5 && st.MeanUS >= top[4].MeanUS {
			mark = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.1f\t%.1f\t%s\n", i, node, st.Backend, st.What, st.MeanUS, st.Percent, mark)
	}
	tw.Flush()
	fmt.Fprintln(w, "\n* the five slowest steps. Steps are timed inside the run (two clock reads each); a oneDNN step may run several")
	fmt.Fprintln(w, "  nodes (post-ops, fused blocks, chains): it is listed under its first node. Pure-Go segments are timed whole.")
}
