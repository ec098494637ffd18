package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
)

// A peer is another runtime that runs the same network on the same
// weights, through the engine's own ONNX export, timed alternately with
// ours. The only peer is ONNX Runtime's CPU provider (peer_ort.go), kept in
// package main so that the library never links it.
type peerSpec struct {
	name string // "onnxruntime"
	lib  string // path of the shared library
}

// peerName is how the peer appears in tables and JSON.
const peerName = "onnxruntime"

// agreeTol is the largest max |ours - peer| / max |ours| accepted.
const agreeTol = 1e-4

// int8Tol is agreeTol for an int8 model (ours) against ORT running the same
// network in fp32: quantization moves outputs by a few percent of their
// range; more means a broken int8 path, not rounding.
const int8Tol = 0.05

// parsePeer reads --peer onnxruntime=PATH. An empty flag gives a zero spec.
func parsePeer(s string) (peerSpec, error) {
	if s == "" {
		return peerSpec{}, nil
	}
	name, lib, ok := strings.Cut(s, "=")
	switch {
	case !ok || lib == "":
		return peerSpec{}, fmt.Errorf("%w: --peer %q: want onnxruntime=PATH/libonnxruntime.so.1", errUsage, s)
	case name != "onnxruntime" && name != "ort":
		return peerSpec{}, fmt.Errorf("%w: --peer %q: unknown peer %q (want onnxruntime=PATH)", errUsage, s, name)
	}
	return peerSpec{name: peerName, lib: lib}, nil
}

// peerSession is one network loaded in the peer with its input and output
// buffers bound, ready to run.
type peerSession interface {
	run() error
	output() []float32
	close() error
}

// peerExportOpset is the ONNX opset the peer gets: 17 has a native
// HardSwish, which ONNX Runtime runs as one kernel.
const peerExportOpset = 17

// peerModel is a network exported for the peer with its I/O names and
// shapes at one batch size.
type peerModel struct {
	onnx              []byte
	inName, outName   string
	inShape, outShape []int64
}

// exportForPeer exports g (ONNX opset peerExportOpset) for batch samples.
func exportForPeer(g *graph.Graph, batch int) (peerModel, error) {
	var buf bytes.Buffer
	if err := onnx.Export(g, &buf, onnx.ExportOptions{Opset: peerExportOpset}); err != nil {
		return peerModel{}, fmt.Errorf("%s: %w", peerName, err)
	}
	inName, outName, err := onnx.IONames(buf.Bytes())
	if err != nil {
		return peerModel{}, fmt.Errorf("%s: %w", peerName, err)
	}
	shape := func(s []int) []int64 {
		d := []int64{int64(batch)}
		for _, v := range s {
			d = append(d, int64(v))
		}
		return d
	}
	return peerModel{buf.Bytes(), inName, outName, shape(g.InputShape()), shape(g.OutputShape())}, nil
}

// openPeerSession exports g and loads it in the peer with intra-op threads
// set to threads and inter-op threads to 1. in must hold batch samples and
// stay unchanged while the session lives.
func openPeerSession(g *graph.Graph, in []float32, batch, threads int) (peerSession, error) {
	pm, err := exportForPeer(g, batch)
	if err != nil {
		return nil, err
	}
	return newORTSession(pm.onnx, pm.inName, pm.outName, in, pm.inShape, pm.outShape, threads)
}

// profilePeer runs the network of g in the peer with its profiler on,
// warmup + runs times, and returns the per-node means of the timed runs.
func profilePeer(g *graph.Graph, in []float32, batch, threads, warmup, runs int) ([]peerNode, error) {
	pm, err := exportForPeer(g, batch)
	if err != nil {
		return nil, err
	}
	data, err := profileORT(pm.onnx, pm.inName, pm.outName, in, pm.inShape, pm.outShape, threads, warmup+runs)
	if err != nil {
		return nil, err
	}
	return parseORTProfile(data, warmup)
}

// relDiff is max |a - b| over max |a| (or 1 when a is all zeros).
func relDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(a[i])))
	}
	if m == 0 {
		m = 1
	}
	return d / m
}

// peerNode is one node of the peer's graph as its profiler timed it.
type peerNode struct {
	Node   string  `json:"node"`
	Op     string  `json:"op"`
	MeanUS float64 `json:"mean_us"`
	Runs   int     `json:"runs"`
}

// parseORTProfile reads ONNX Runtime's profile (a JSON array of Chrome
// trace events) and returns, in the order they first ran, each node's mean
// kernel time over its runs after the first skip ones (warm-up).
func parseORTProfile(data []byte, skip int) ([]peerNode, error) {
	var events []struct {
		Cat  string  `json:"cat"`
		Name string  `json:"name"`
		Dur  float64 `json:"dur"` // us
		Args struct {
			Op string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		return nil, fmt.Errorf("%s profile: %w", peerName, err)
	}
	type acc struct {
		node     peerNode
		seen     int
		sum      float64
		position int
	}
	byName := map[string]*acc{}
	var order []*acc
	for _, e := range events {
		name, ok := strings.CutSuffix(e.Name, "_kernel_time")
		if e.Cat != "Node" || !ok {
			continue
		}
		a := byName[name]
		if a == nil {
			a = &acc{node: peerNode{Node: name, Op: e.Args.Op}, position: len(order)}
			byName[name] = a
			order = append(order, a)
		}
		a.seen++
		if a.seen > skip {
			a.sum += e.Dur
			a.node.Runs++
		}
	}
	var nodes []peerNode
	for _, a := range order {
		if a.node.Runs == 0 {
			continue
		}
		a.node.MeanUS = a.sum / float64(a.node.Runs)
		nodes = append(nodes, a.node)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s profile: no node timings after %d warm-up runs", peerName, skip)
	}
	return nodes, nil
}
