package main

import (
	"bytes"
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

// openPeerSession exports g and loads it in the peer with intra-op threads
// set to threads and inter-op threads to 1. in must hold batch samples and
// stay unchanged while the session lives.
func openPeerSession(g *graph.Graph, in []float32, batch, threads int) (peerSession, error) {
	var buf bytes.Buffer
	if err := onnx.Export(g, &buf, onnx.ExportOptions{Opset: peerExportOpset}); err != nil {
		return nil, fmt.Errorf("%s: %w", peerName, err)
	}
	inName, outName, err := onnx.IONames(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", peerName, err)
	}
	shape := func(s []int) []int64 {
		d := []int64{int64(batch)}
		for _, v := range s {
			d = append(d, int64(v))
		}
		return d
	}
	return newORTSession(buf.Bytes(), inName, outName, in, shape(g.InputShape()), shape(g.OutputShape()), threads)
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
