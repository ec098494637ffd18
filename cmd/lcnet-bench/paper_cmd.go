package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/spf13/pflag"
)

// paperResult is one scale of the paper's main table with our measurements.
type paperResult struct {
	tableRow
	PaperHardware string        `json:"paper_hardware"`
	Measurements  []measurement `json:"measurements"`
	// PeerMaxRelDiff is max |ours - peer| / max |ours| over our backends,
	// when the peer ran.
	PeerMaxRelDiff *float64 `json:"peer_max_rel_diff,omitempty"`
	PeerError      string   `json:"peer_error,omitempty"`
}

// errPeer is returned, after the table is printed, when --peer was given
// and the peer could not run or disagreed with us.
var errPeer = errors.New("the peer comparison failed (see the note under the table)")

func runPaper(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("paper", pflag.ContinueOnError)
	var bf benchFlags
	bf.register(fs)
	scalesFlag := fs.String("scales", "all", "comma-separated paper scales to measure, e.g. 0.25,1.0")
	plotPath := fs.String("plot", "", "also draw latency against the paper's top-1 into FILE.png or FILE.svg")
	peerFlag := fs.String("peer", "", "onnxruntime=PATH/libonnxruntime.so.1: time ONNX Runtime's CPU provider on the same weights, alternately with ours")
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
	scales, err := parseScales(*scalesFlag)
	if err != nil {
		return err
	}
	peer, err := parsePeer(*peerFlag)
	if err != nil {
		return err
	}
	if err := checkPlotPath(*plotPath); err != nil {
		return err
	}
	var rows []paperResult
	for _, s := range scales {
		rows = append(rows, paperResult{tableRow: tableRow{Scale: s}, PaperHardware: paperHardware})
	}

	sched := schedule{runs: bf.runs, warmup: bf.warmup}
	pr := peerRun{spec: peer}
	if peer.name != "" {
		pr.version, pr.initErr = initPeer(peer)
		if pr.initErr != nil {
			fmt.Fprintf(stderr, "lcnet-bench: %v; measuring without it\n", pr.initErr)
		}
	}
	per := 0
	for _, be := range backends {
		per += len(threadsFor(be, bf.threads))
	}
	if pr.ok() {
		per += len(bf.threads)
	}
	p := newProgress(stderr, len(rows)*per*sched.inferences(), bf.quiet)
	for i := range rows {
		if err := measureScale(&rows[i], backends, bf, sched, &pr, p); err != nil {
			p.finish()
			return err
		}
	}
	p.finish()

	switch bf.format {
	case "json":
		err = writeJSON(stdout, rows)
	case "benchstat":
		err = writePaperBenchstat(stdout, rows)
	default:
		err = writePaperMarkdown(stdout, rows, bf, &pr)
	}
	if err != nil {
		return err
	}
	if *plotPath != "" {
		if err := writePlot(*plotPath, rows); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "lcnet-bench: wrote %s\n", *plotPath)
	}
	if pr.failed() {
		return errPeer
	}
	return nil
}

// peerRun is the state of --peer across a command.
type peerRun struct {
	spec    peerSpec
	version string
	initErr error
	errs    []string // per scale and thread count, after a successful load
	maxDiff float64
	int8    bool // ours ran int8 layers: compared with ORT's fp32 at int8Tol
}

// tol is the largest max |ours - peer| / max |ours| accepted for this run.
func (p *peerRun) tol() float64 {
	if p.int8 {
		return int8Tol
	}
	return agreeTol
}

func (p *peerRun) ok() bool     { return p.spec.name != "" && p.initErr == nil }
func (p *peerRun) failed() bool { return p.spec.name != "" && (p.initErr != nil || len(p.errs) > 0) }

// measureScale measures one scale on every backend and thread count, and
// the peer beside them, filling r.Measurements.
func measureScale(r *paperResult, backends []lcnet.Backend, bf benchFlags, sched schedule, pr *peerRun, p *progress) error {
	pp, _ := paperRowOf(r.Scale)
	row, g, err := buildPaperRow(pp, bf.seed)
	if err != nil {
		return err
	}
	r.tableRow = row
	if pr.spec.name != "" && !pr.ok() {
		r.PeerError = pr.initErr.Error()
	}
	for _, t := range bf.threads {
		var ours []*lcnet.Model
		for _, be := range backends {
			if !slices.Contains(threadsFor(be, bf.threads), t) {
				continue
			}
			m, err := lcnet.New(g, &lcnet.Options{Backend: be, Threads: t, MaxInstances: 1})
			if err != nil {
				closeAll(ours, nil)
				return err
			}
			ours = append(ours, m)
		}
		if len(ours) == 0 {
			continue
		}
		ms, diff, perr, err := measureGroup(g, ours, r.Model, t, bf.batch, bf.seed, sched, pr, p)
		if err != nil {
			return err
		}
		r.Measurements = append(r.Measurements, ms...)
		if diff >= 0 {
			if r.PeerMaxRelDiff == nil || diff > *r.PeerMaxRelDiff {
				r.PeerMaxRelDiff = &diff
			}
		}
		if perr != "" {
			if r.PeerError != "" {
				r.PeerError += "; "
			}
			r.PeerError += perr
		}
	}
	return nil
}

// measureGroup times the models ours (one network on several backends, all
// at thread count t) and, when the peer is loaded, the peer on the same
// network, interleaved. It closes the models. diff is the peer's max
// relative difference from ours (-1 when the peer did not run); peerErr
// says why the peer is missing or wrong.
func measureGroup(g *graph.Graph, ours []*lcnet.Model, name string, t, batch int, seed uint64, sched schedule,
	pr *peerRun, p *progress) (ms []measurement, diff float64, peerErr string, err error) {
	diff = -1
	var ps peerSession
	defer func() { closeAll(ours, ps) }()
	in := randomInput(batch*graph.Numel(g.InputShape()), seed)
	outN := batch * graph.Numel(g.OutputShape())
	var ts []*target
	var outs [][]float32
	for _, m := range ours {
		out := make([]float32, outN)
		ts = append(ts, &target{backend: m.Backend(), threads: t, label: fmt.Sprintf("%s %s t=%d", name, m.Backend(), t),
			run: func() error { return m.RunInto(in, batch, out) }})
		outs = append(outs, out)
	}
	if pr.ok() {
		ps, err = openPeerSession(g, in, batch, t)
		if err == nil {
			err = ps.run()
		}
		if err != nil {
			peerErr = fmt.Sprintf("threads=%d: %v", t, err)
			pr.errs = append(pr.errs, name+" "+peerErr)
			err = nil
		} else {
			for i, tg := range ts {
				if err := tg.run(); err != nil {
					return nil, diff, "", fmt.Errorf("%s: %w", tg.label, err)
				}
				diff = max(diff, relDiff(outs[i], ps.output()))
			}
			pr.maxDiff = max(pr.maxDiff, diff)
			if diff > agreeTol {
				peerErr = fmt.Sprintf("threads=%d: outputs disagree: max |ours - %s| / max |ours| = %.2g > %g", t, peerName, diff, agreeTol)
				pr.errs = append(pr.errs, name+" "+peerErr)
			}
			ts = append(ts, &target{backend: peerName, threads: t, label: fmt.Sprintf("%s %s t=%d", name, peerName, t), run: ps.run})
		}
	}
	if err := interleave(ts, sched, p); err != nil {
		return nil, diff, peerErr, err
	}
	for _, tg := range ts {
		ms = append(ms, tg.summary(batch))
	}
	if ps != nil {
		ref := ms[len(ms)-1].MedianMS
		for i := range ms[:len(ms)-1] {
			ms[i].VsPeer = ms[i].MedianMS / ref
		}
	}
	return ms, diff, peerErr, nil
}

func closeAll(ms []*lcnet.Model, ps peerSession) {
	for _, m := range ms {
		m.Close()
	}
	if ps != nil {
		ps.close()
	}
}
