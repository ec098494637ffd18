package lcnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
	"github.com/lcnet-go/lcnet/preprocess"
)

// Int8 post-training quantization.
//
// A Calibration records, for every node of the optimized graph, the range
// (max |x|) of its input and output values over a set of calibration
// inputs, and which nodes run in int8. Convolutions (the stem and the head
// conv included) and the FC run in int8 (s8 weights per output channel,
// symmetric; s8 activations per tensor, scale 127/range); squeeze-excite,
// pooling and reshapes follow the node before them, and softmax stays fp32.
// Activations are s8 rather than u8 because hardswish outputs go down to
// -0.375. Sensitivity then moves the layers that cost agreement with fp32
// back to fp32, greedily, until a target agreement is met.
//
// File format: the optimized fp32 graph as ONNX (valid for any runtime) with
// metadata_props "lcnet.int8" holding the Calibration as JSON, plus
// "lcnet.preprocess" and "lcnet.labels" (JSON) when the source model had
// them. Load sees "lcnet.int8" and plans the int8 nodes on oneDNN when the
// CPU has VNNI (Options.NoInt8 turns it off).

// MetaInt8 is the ONNX metadata_props key of the calibration table.
const MetaInt8 = "lcnet.int8"

// Metadata keys for the model's preprocessing and labels in a quantized file.
const (
	MetaPreprocess = "lcnet.preprocess"
	MetaLabels     = "lcnet.labels"
)

// Calibration is an int8 calibration table.
type Calibration struct {
	Version int    `json:"version"` // 1
	Method  string `json:"method"`  // "maxabs" or "percentile"
	// Percentile is the percentile of |x| used as the range (method
	// "percentile"), e.g. 99.99.
	Percentile float64 `json:"percentile,omitempty"`
	Samples    int     `json:"samples"` // calibration inputs seen
	// Nodes is keyed by node name in the optimized graph.
	Nodes map[string]NodeCalibration `json:"nodes"`
}

// NodeCalibration is one node's entry.
type NodeCalibration struct {
	Int8     bool    `json:"int8"`
	InRange  float32 `json:"in_range"`  // max |input| (or its percentile)
	OutRange float32 `json:"out_range"` // max |output| after the activation
	Why      string  `json:"why,omitempty"`
}

// CalibrateOptions tune Calibrate.
type CalibrateOptions struct {
	// Percentile, when in (0, 100), uses that percentile of |x| over all
	// calibration values instead of the maximum. 0 means max-abs.
	Percentile float64
	// FP32 lists node names to keep in fp32 in addition to the defaults.
	FP32 []string
}

// ErrCalibration is wrapped by calibration errors (no inputs, bad table).
var ErrCalibration = errors.New("lcnet: calibration")

// Calibrate runs the model's optimized graph in fp32 (pure Go, node by
// node) on inputs, each one preprocessed sample of InputShape, and returns
// the calibration table.
func (m *Model) Calibrate(inputs [][]float32, o *CalibrateOptions) (*Calibration, error) {
	var opt CalibrateOptions
	if o != nil {
		opt = *o
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("%w: no calibration inputs", ErrCalibration)
	}
	g := m.opt
	type nodeRun struct {
		inst *fallback.Instance
		size int
	}
	runs := make([]nodeRun, len(g.Nodes))
	for k, n := range g.Nodes {
		sg, err := extract(g, []int{k})
		if err != nil {
			return nil, fmt.Errorf("%w: node %q: %v", ErrCalibration, n.Name, err)
		}
		p, err := fallback.Compile(sg)
		if err != nil {
			return nil, fmt.Errorf("%w: node %q: %v", ErrCalibration, n.Name, err)
		}
		runs[k] = nodeRun{p.NewInstance(), graph.Numel(g.Values[n.Output].Shape)}
	}
	// per value: max |x|, and for percentiles a histogram of |x| / max
	vmax := make([]float64, len(g.Values))
	vals := make([][]float32, len(g.Values))
	var hist [][]int64
	const bins = 4096
	pct := opt.Percentile > 0 && opt.Percentile < 100
	// pass 1: maxima; pass 2 (percentile): histograms against the maxima
	passes := 1
	if pct {
		passes = 2
		hist = make([][]int64, len(g.Values))
		for i := range hist {
			hist[i] = make([]int64, bins)
		}
	}
	for pass := 0; pass < passes; pass++ {
		for _, x := range inputs {
			if len(x) != m.inSize {
				return nil, fmt.Errorf("%w: input has %d values, want %d", ErrCalibration, len(x), m.inSize)
			}
			vals[g.Input] = x
			for k, n := range g.Nodes {
				if vals[n.Output] == nil {
					vals[n.Output] = make([]float32, runs[k].size)
				}
				if len(n.Inputs) != 1 {
					return nil, fmt.Errorf("%w: node %q has %d inputs", ErrCalibration, n.Name, len(n.Inputs))
				}
				if err := runs[k].inst.RunContext(context.Background(), vals[n.Inputs[0]], 1, vals[n.Output]); err != nil {
					return nil, fmt.Errorf("%w: node %q: %v", ErrCalibration, n.Name, err)
				}
			}
			for v, a := range vals {
				if a == nil {
					continue
				}
				if pass == 0 {
					for _, f := range a {
						vmax[v] = max(vmax[v], math.Abs(float64(f)))
					}
					continue
				}
				if vmax[v] == 0 {
					continue
				}
				h, s := hist[v], float64(bins)/vmax[v]
				for _, f := range a {
					b := int(math.Abs(float64(f)) * s)
					h[min(b, bins-1)]++
				}
			}
		}
	}
	rng := func(v int) float32 {
		r := vmax[v]
		if pct && r > 0 {
			var total int64
			for _, c := range hist[v] {
				total += c
			}
			want := int64(math.Ceil(float64(total) * opt.Percentile / 100))
			var acc int64
			for b, c := range hist[v] {
				acc += c
				if acc >= want {
					r = vmax[v] * float64(b+1) / bins
					break
				}
			}
		}
		if r == 0 {
			r = 1
		}
		return float32(r)
	}
	cal := &Calibration{Version: 1, Method: "maxabs", Samples: len(inputs), Nodes: map[string]NodeCalibration{}}
	if pct {
		cal.Method, cal.Percentile = "percentile", opt.Percentile
	}
	keep := map[string]bool{}
	for _, s := range opt.FP32 {
		keep[s] = true
	}
	for _, n := range g.Nodes {
		why := int8Eligible(g, n)
		if why == "" && keep[n.Name] {
			why = "kept in fp32 by request"
		}
		cal.Nodes[n.Name] = NodeCalibration{Int8: why == "", InRange: rng(n.Inputs[0]), OutRange: rng(n.Output), Why: why}
	}
	return cal, nil
}

// int8Eligible returns "" when node n can run in int8, or why not.
// Convolutions (stem and head included) and the FC run in int8; squeeze-
// excite, global pooling and [C,1,1]<->[C] reshapes run on the s8 tensor
// inside an int8 segment (markInt8 keeps them int8 only after an int8 node).
func int8Eligible(g *graph.Graph, n *graph.Node) string {
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		if dh, dw := op.Dilation(); dh != 1 || dw != 1 {
			return "dilated convolution"
		}
		switch op.Act.Kind {
		case graph.ActNone, graph.ActReLU, graph.ActHardSwish:
		default:
			return "activation " + op.Act.String() + " has no int8 post-op here"
		}
		return ""
	case *graph.FC:
		if in := g.Values[n.Inputs[0]].Shape; graph.Numel(in) != op.In || (len(in) == 3 && in[1]*in[2] != 1) {
			return "fc on a spatial input stays fp32"
		}
		switch op.Act.Kind {
		case graph.ActNone, graph.ActReLU, graph.ActHardSwish:
		default:
			return "activation " + op.Act.String() + " has no int8 post-op here"
		}
		return ""
	case *graph.SE:
		if op.Act.Kind != graph.ActReLU {
			return "squeeze-excite inner activation " + op.Act.String()
		}
		switch op.Gate.Kind {
		case graph.ActHardSigmoid, graph.ActSigmoid:
			return ""
		}
		return "squeeze-excite gate " + op.Gate.String()
	case *graph.GlobalAvgPool:
		return ""
	case *graph.Reshape:
		if flatView(g.Values[n.Inputs[0]].Shape) && flatView(g.Values[n.Output].Shape) {
			return ""
		}
		return "reshape stays fp32"
	}
	return n.Op.Type() + " stays fp32"
}

// int8Follower reports whether n runs in int8 only as part of a segment
// that an int8 convolution starts (it keeps the scale of its input).
func int8Follower(n *graph.Node) bool {
	switch n.Op.(type) {
	case *graph.SE, *graph.GlobalAvgPool, *graph.Reshape:
		return true
	}
	return false
}

// Int8Nodes returns the names of the nodes the table runs in int8, in
// sorted order.
func (c *Calibration) Int8Nodes() []string {
	var s []string
	for k, v := range c.Nodes {
		if v.Int8 {
			s = append(s, k)
		}
	}
	sort.Strings(s)
	return s
}

// SaveInt8 writes the model's optimized graph as ONNX to path with the
// calibration table (and the model's preprocessing and labels) in its
// metadata_props. Load reads it back as an int8 model.
func (m *Model) SaveInt8(path string, cal *Calibration) error {
	if cal == nil {
		return fmt.Errorf("%w: nil calibration", ErrCalibration)
	}
	tb, err := json.Marshal(cal)
	if err != nil {
		return err
	}
	md := map[string]string{MetaInt8: string(tb)}
	if m.Preprocess != nil {
		if b, err := json.Marshal(m.Preprocess); err == nil {
			md[MetaPreprocess] = string(b)
		}
	}
	if len(m.Labels) > 0 {
		if b, err := json.Marshal(m.Labels); err == nil {
			md[MetaLabels] = string(b)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lcnet: %w", err)
	}
	if err := onnx.Export(m.opt, f, onnx.ExportOptions{Metadata: md}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Int8 reports whether the model runs int8 layers and, when a calibration
// table was given but int8 is not used, why (e.g. no VNNI).
func (m *Model) Int8() (active bool, note string) {
	return m.plan.int8Active, m.plan.int8Note
}

// int8Name is the backend name of int8 segments in plans and Layers.
const int8Name = "dnnl-int8"

// markInt8 moves the calibrated int8 nodes of g onto the int8 backend. It
// returns a note when it does not (and then changes nothing).
func markInt8(g *graph.Graph, cal *Calibration, nodeBackend []string, pref string) (bool, string) {
	if pref != string(DNNL) {
		return false, "int8 calibration ignored: int8 needs the oneDNN backend (running " + pref + ")"
	}
	if ok, why := dnn.Int8Supported(); !ok {
		return false, "int8 calibration ignored, running fp32: " + why
	}
	n := 0
	producer := map[int]int{}
	for i, nd := range g.Nodes {
		producer[nd.Output] = i
		if _, ok := nd.Op.(*graph.Softmax); ok && n > 0 && nodeBackend[i] == pref {
			// a softmax over a [C] vector right after the int8 chain ends it
			// (in fp32) instead of costing a segment of its own
			k, ok := producer[nd.Inputs[0]]
			if in := g.Values[nd.Inputs[0]].Shape; ok && k == i-1 && nodeBackend[k] == int8Name && len(in) == 1 {
				nodeBackend[i] = int8Name
			}
			continue
		}
		e, ok := cal.Nodes[nd.Name]
		if !ok || nodeBackend[i] != pref || int8Eligible(g, nd) != "" {
			continue
		}
		if !e.Int8 {
			// kept in fp32 by the table: after the first int8 node it runs
			// in fp32 inside the int8 chain (see int8Backend.compile), so
			// that the chain is not cut into segments with NCHW fp32
			// boundaries; before it, it stays on the fp32 backend
			if n == 0 || !isConvOrFC(nd) {
				continue
			}
		}
		if !(e.InRange > 0) || !(e.OutRange > 0) || math.IsInf(float64(e.InRange), 0) || math.IsInf(float64(e.OutRange), 0) {
			continue
		}
		if int8Follower(nd) {
			// SE, pooling and reshapes keep their input's scale: int8 only
			// right after an int8 node
			k, ok := producer[nd.Inputs[0]]
			if !ok || k != i-1 || nodeBackend[k] != int8Name {
				continue
			}
		}
		nodeBackend[i] = int8Name
		n++
	}
	// a segment must not end in a reshape alone after pooling: harmless, but
	// drop trailing reshapes so the fp32 side sees the usual shapes
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if _, ok := g.Nodes[i].Op.(*graph.Reshape); ok && nodeBackend[i] == int8Name &&
			(i == len(g.Nodes)-1 || nodeBackend[i+1] != int8Name) {
			nodeBackend[i] = pref
			n--
		}
	}
	if n == 0 {
		return false, "int8 calibration matches no node of this graph: running fp32"
	}
	return true, ""
}

func isConvOrFC(n *graph.Node) bool {
	switch n.Op.(type) {
	case *graph.Conv2D, *graph.FC:
		return true
	}
	return false
}

// int8Backend compiles chains of calibrated convolutions to dnn.Int8Plan.
type int8Backend struct {
	cal      *Calibration
	threads  int
	noTuning bool
}

func (int8Backend) name() string { return int8Name }

func (int8Backend) supports(*graph.Graph, *graph.Node) error { return nil }

func (b int8Backend) compile(seg *graph.Graph) (program, error) {
	in := seg.InputShape()
	net := &dnn.Int8Net{NoTuning: b.noTuning}
	switch len(in) {
	case 3:
		net.InC, net.InH, net.InW = in[0], in[1], in[2]
	case 1:
		net.InC, net.InH, net.InW = in[0], 1, 1
	default:
		return nil, fmt.Errorf("int8 segment input %v is not [C,H,W]", in)
	}
	first := seg.Nodes[0].Name
	net.InScale = 127 / b.cal.Nodes[first].InRange
	scale := net.InScale
	prev := seg.Input
	for _, n := range seg.Nodes {
		if len(n.Inputs) != 1 || n.Inputs[0] != prev {
			return nil, &nodeError{node: n.Name, err: fmt.Errorf("int8 segment is not a chain")}
		}
		prev = n.Output
		l := dnn.Layer{Name: n.Name}
		fp32 := isConvOrFC(n) && !b.cal.Nodes[n.Name].Int8
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			l = dnn.Layer{Kind: dnn.LayerConv, Name: n.Name,
				InC: op.InC, OutC: op.OutC, KH: op.KH, KW: op.KW, StrideH: op.StrideH, StrideW: op.StrideW,
				PadTop: op.PadT, PadLeft: op.PadL, PadBottom: op.PadB, PadRight: op.PadR, Groups: op.Groups,
				Weight: op.Weight.Data, Bias: data(op.Bias), Act: toDNNAct(op.Act)}
			scale = 127 / b.cal.Nodes[n.Name].OutRange
		case *graph.FC:
			l.Kind, l.InC, l.OutC = dnn.LayerFC, op.In, op.Out
			l.Weight, l.Bias, l.Act = op.Weight.Data, data(op.Bias), toDNNAct(op.Act)
			scale = 127 / b.cal.Nodes[n.Name].OutRange
		case *graph.SE:
			l.Kind, l.InC, l.SEReduce = dnn.LayerSE, op.C, op.Reduce
			l.W1, l.B1, l.W2, l.B2 = op.W1.Data, data(op.B1), op.W2.Data, data(op.B2)
			l.Gate = toDNNAct(op.Gate)
		case *graph.GlobalAvgPool:
			l.Kind = dnn.LayerGlobalAvgPool
		case *graph.Softmax:
			l.Kind = dnn.LayerSoftmax // markInt8 admitted only a [C] input
		case *graph.Reshape:
			continue // a view: int8Eligible admitted only [C,1,1] <-> [C]
		default:
			return nil, &nodeError{node: n.Name, err: fmt.Errorf("op %s has no int8 mapping", n.Op.Type())}
		}
		net.Layers = append(net.Layers, l)
		net.OutScales = append(net.OutScales, scale)
		net.FP32 = append(net.FP32, fp32)
	}
	p, err := dnn.CompileInt8(net, dnn.Options{Threads: b.threads})
	if err != nil {
		// name the node so that the planner runs it in fp32 and retries
		var ne *dnn.NetError
		var de *dnn.DNNLError
		switch {
		case errors.As(err, &ne) && ne.Name != "":
			return nil, &nodeError{node: ne.Name, err: err}
		case errors.As(err, &de) && de.Name != "":
			return nil, &nodeError{node: de.Name, err: err}
		case len(seg.Nodes) > 0:
			return nil, &nodeError{node: seg.Nodes[0].Name, err: err}
		}
		return nil, err
	}
	impls := map[string]string{}
	names := make([]string, len(net.Layers))
	for i, s := range p.LayerImpls() {
		impls[net.Layers[i].Name] = s
	}
	for i, l := range net.Layers {
		names[i] = l.Name
	}
	return int8Program{p, impls, names, b.threads}, nil
}

type int8Program struct {
	p     *dnn.Int8Plan
	impls map[string]string
	names []string // node name of each layer of the int8 net
	thr   int
}

func (d int8Program) implOf(node string) string { return d.impls[node] }

func (d int8Program) newInstance() (instance, error) { return d.newInstanceOn(nil) }

func (d int8Program) newInstanceOn(w *dnn.Worker) (instance, error) {
	i, err := d.p.NewInstanceOn(w)
	if err != nil {
		return nil, err
	}
	return int8Instance{i, d.names}, nil
}

func (d int8Program) threads() int { return d.thr }

func (d int8Program) close() error { return d.p.Close() }

type int8Instance struct {
	i     *dnn.Int8Instance
	names []string
}

func (d int8Instance) setProfiling(on bool) error { return d.i.SetProfiling(on) }
func (d int8Instance) profile(batch int) ([]dnn.StepTime, error) {
	return d.i.Profile(batch)
}
func (d int8Instance) layerNames() []string { return d.names }

func (d int8Instance) run(_ context.Context, in []float32, batch int, out []float32) error {
	return d.i.Run(in, batch, out)
}

func (d int8Instance) close() error { return d.i.Close() }

// parseInt8Metadata returns the calibration table, preprocessing and
// labels in the metadata of an ONNX file written by SaveInt8 (nil table
// when it has none).
func parseInt8Metadata(path string, md map[string]string) (*Calibration, []byte, []string, error) {
	var cal *Calibration
	if s, ok := md[MetaInt8]; ok {
		cal = &Calibration{}
		if err := json.Unmarshal([]byte(s), cal); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: %s: metadata %s: %v", ErrCalibration, path, MetaInt8, err)
		}
		if cal.Version != 1 {
			return nil, nil, nil, fmt.Errorf("%w: %s: calibration version %d (want 1)", ErrCalibration, path, cal.Version)
		}
	}
	var labels []string
	if s, ok := md[MetaLabels]; ok {
		_ = json.Unmarshal([]byte(s), &labels)
	}
	var pp []byte
	if s, ok := md[MetaPreprocess]; ok {
		pp = []byte(s)
	}
	return cal, pp, labels, nil
}

// applyInt8Meta applies the metadata of an ONNX file written by SaveInt8
// (md: its metadata_props, nil for other formats): the calibration table
// (unless o already has one) and the preprocessing; it returns the labels.
func applyInt8Meta(path string, md map[string]string, o *OpenOptions, cfg **preprocess.Config) ([]string, error) {
	if md == nil {
		return nil, nil
	}
	cal, pp, labels, err := parseInt8Metadata(path, md)
	if err != nil {
		return nil, err
	}
	if cal != nil && o.Calibration == nil {
		o.Calibration = cal
	}
	if pp != nil && *cfg == nil {
		c := &preprocess.Config{}
		if json.Unmarshal(pp, c) == nil {
			*cfg = c
		}
	}
	return labels, nil
}

// SensitivityOptions tune Model.Sensitivity.
type SensitivityOptions struct {
	// MinAgreement is the target top-1 agreement of the int8 model with
	// fp32 over the evaluation inputs (default 0.99). It counts as met
	// when it would still hold with one more disagreement, counting only
	// robust agreements (Agreement.Robust): margins for the inputs the
	// search did not see (with 192 inputs and 0.99 this asks for 192/192,
	// with 200 for 199/200; with 64, where 0.99 leaves none to spare,
	// 64/64).
	MinAgreement float64
	// MaxEvals caps the number of int8 models built and evaluated (each
	// layer alone once, then the whole model after each move to fp32).
	// Default 100.
	MaxEvals int
	// Threads for the oneDNN instances (default 1).
	Threads int
	// Log, when set, receives progress lines.
	Log func(format string, args ...any)
}

// Agreement compares an int8 model's outputs with fp32 on a set of inputs.
type Agreement struct {
	Agree, N int // same argmax
	// Robust counts the agreeing inputs whose int8 lead of the top class
	// over the runner-up is at least half of fp32's (not close to a flip),
	// or where fp32 itself is a near tie (lead under tieMargin).
	Robust       int
	MaxProbDiff  float64 // max over inputs and classes of |p_int8 - p_fp32|
	MeanProbDiff float64 // mean over inputs of max over classes
}

// meets reports whether the agreement reaches target with one
// disagreement to spare, counting only robust agreements (see
// SensitivityOptions.MinAgreement).
func (a Agreement) meets(target float64) bool {
	if a.N == 0 {
		return false
	}
	need := int(math.Ceil(target*float64(a.N) - 1e-9))
	if need < a.N {
		need++ // one to spare, where the set is large enough to have one
	}
	return a.Robust >= need
}

// tieMargin is the lead (in probability) under which fp32's top-1 counts
// as a near tie: int8 is not asked to keep that lead.
const tieMargin = 0.01

// margin is how far class top leads the best other class of p.
func margin(p []float32, top int) float64 {
	second := math.Inf(-1)
	for k, v := range p {
		if k != top {
			second = max(second, float64(v))
		}
	}
	if math.IsInf(second, -1) {
		return 0
	}
	return float64(p[top]) - second
}

// Top1 is the fraction of inputs with the same argmax.
func (a Agreement) Top1() float64 {
	if a.N == 0 {
		return 0
	}
	return float64(a.Agree) / float64(a.N)
}

func (a Agreement) String() string {
	return fmt.Sprintf("top-1 %.2f%% (%d/%d, %d robust), max dp %.4f, mean dp %.4f",
		100*a.Top1(), a.Agree, a.N, a.Robust, a.MaxProbDiff, a.MeanProbDiff)
}

// LayerDamage is what quantizing one layer alone costs.
type LayerDamage struct {
	Name string
	Agreement
	// Score = fraction of argmax flips + mean |prob diff|: the sort key.
	Score float64
}

// SensitivityReport says what Sensitivity measured and did.
type SensitivityReport struct {
	Before, After Agreement     // all eligible layers int8; the returned table
	Damage        []LayerDamage // every int8 layer alone, most damaging first
	FP32          []string      // layers moved to fp32, in order
	Evals         int           // int8 models built
	Met           bool          // After reaches MinAgreement (with its margin)
	Note          string        // why nothing was measured (e.g. no VNNI)
}

// Sensitivity keeps in fp32 the int8 layers that cost accuracy. Starting
// from cal (every eligible layer int8), it measures the agreement of the
// int8 model with fp32 on inputs; below o.MinAgreement it quantizes each
// int8 layer (convolutions and the FC; squeeze-excite and pooling follow
// their producer) alone once, sorts the layers by damage (argmax flips +
// mean |prob diff|) and moves them to fp32 in that order, re-evaluating the
// whole model after each move, until the target is met or o.MaxEvals
// models have been evaluated. It returns a new table (cal is not changed).
// When int8 cannot run here (no oneDNN or VNNI) it returns cal unchanged
// with a note.
func (m *Model) Sensitivity(cal *Calibration, inputs [][]float32, o *SensitivityOptions) (*Calibration, *SensitivityReport, error) {
	opt := SensitivityOptions{MinAgreement: 0.99, MaxEvals: 100, Threads: 1}
	if o != nil {
		if o.MinAgreement > 0 {
			opt.MinAgreement = o.MinAgreement
		}
		if o.MaxEvals > 0 {
			opt.MaxEvals = o.MaxEvals
		}
		if o.Threads > 0 {
			opt.Threads = o.Threads
		}
		opt.Log = o.Log
	}
	logf := func(f string, a ...any) {
		if opt.Log != nil {
			opt.Log(f, a...)
		}
	}
	if cal == nil || len(inputs) == 0 {
		return nil, nil, fmt.Errorf("%w: sensitivity needs a table and inputs", ErrCalibration)
	}
	out := copyCalibration(cal)
	rep := &SensitivityReport{}
	ref := make([][]float32, len(inputs))
	for i, x := range inputs {
		y, err := m.Run(x, 1)
		if err != nil {
			return nil, nil, err
		}
		ref[i] = y
	}
	eval := func(c *Calibration) (Agreement, string, error) {
		rep.Evals++
		q, err := New(m.src, &Options{Calibration: c, Threads: opt.Threads, MaxInstances: 1, noTuning: true})
		if err != nil {
			return Agreement{}, "", err
		}
		defer q.Close()
		if on, note := q.Int8(); !on {
			return Agreement{}, note, nil
		}
		var a Agreement
		y := make([]float32, q.outSize)
		for i, x := range inputs {
			if err := q.RunInto(x, 1, y); err != nil {
				return Agreement{}, "", err
			}
			a.N++
			if top := argmax32(ref[i]); argmax32(y) == top {
				a.Agree++
				if m32 := margin(ref[i], top); m32 < tieMargin || margin(y, top) >= m32/2 {
					a.Robust++
				}
			}
			d := 0.0
			for k := range y {
				d = max(d, math.Abs(float64(y[k]-ref[i][k])))
			}
			a.MaxProbDiff = max(a.MaxProbDiff, d)
			a.MeanProbDiff += d / float64(len(inputs))
		}
		return a, "", nil
	}
	a, note, err := eval(out)
	if err != nil {
		return nil, nil, err
	}
	if note != "" {
		rep.Note = note
		return out, rep, nil
	}
	rep.Before, rep.After = a, a
	logf("all eligible layers int8 (%d nodes): %v", len(out.Int8Nodes()), a)
	if a.meets(opt.MinAgreement) {
		rep.Met = true
		return out, rep, nil
	}
	// candidates: int8 layers that start or carry a segment on their own
	var cand []string
	for _, n := range m.opt.Nodes {
		if e, ok := out.Nodes[n.Name]; ok && e.Int8 && !int8Follower(n) {
			cand = append(cand, n.Name)
		}
	}
	for _, name := range cand {
		if rep.Evals >= opt.MaxEvals {
			logf("evaluation cap %d reached while measuring layers alone", opt.MaxEvals)
			break
		}
		one := copyCalibration(out)
		for _, c := range cand {
			e := one.Nodes[c]
			e.Int8 = c == name
			one.Nodes[c] = e
		}
		a, note, err := eval(one)
		if err != nil {
			return nil, nil, err
		}
		if note != "" { // e.g. oneDNN could not build it alone: unknown damage
			a = Agreement{}
		}
		d := LayerDamage{Name: name, Agreement: a}
		if a.N > 0 {
			d.Score = float64(a.N-a.Agree)/float64(a.N) + a.MeanProbDiff
		}
		rep.Damage = append(rep.Damage, d)
	}
	sort.SliceStable(rep.Damage, func(i, j int) bool { return rep.Damage[i].Score > rep.Damage[j].Score })
	for _, d := range rep.Damage {
		logf("  alone %-12s %v (score %.4f)", d.Name, d.Agreement, d.Score)
	}
	for _, d := range rep.Damage {
		if rep.Evals >= opt.MaxEvals {
			logf("evaluation cap %d reached", opt.MaxEvals)
			break
		}
		e := out.Nodes[d.Name]
		e.Int8 = false
		e.Why = fmt.Sprintf("kept in fp32 by sensitivity (alone: %d/%d argmax flips, mean dp %.4f)", d.N-d.Agree, d.N, d.MeanProbDiff)
		out.Nodes[d.Name] = e
		rep.FP32 = append(rep.FP32, d.Name)
		a, note, err := eval(out)
		if err != nil {
			return nil, nil, err
		}
		if note != "" { // nothing int8 left
			rep.After = Agreement{Agree: len(inputs), Robust: len(inputs), N: len(inputs)}
			rep.Met = true
			return out, rep, nil
		}
		rep.After = a
		logf("+ fp32 %-12s -> %v", d.Name, a)
		if a.meets(opt.MinAgreement) {
			rep.Met = true
			break
		}
	}
	return out, rep, nil
}

func copyCalibration(c *Calibration) *Calibration {
	d := *c
	d.Nodes = make(map[string]NodeCalibration, len(c.Nodes))
	for k, v := range c.Nodes {
		d.Nodes[k] = v
	}
	return &d
}

func argmax32(x []float32) int {
	b := 0
	for i, v := range x {
		if v > x[b] {
			b = i
		}
	}
	return b
}
