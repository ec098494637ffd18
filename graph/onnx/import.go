package onnx

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/lcnet-go/lcnet/graph"
)

// Opset range the importer accepts for the default (ai.onnx) domain.
const (
	MinOpset = 7
	MaxOpset = 17
)

// ref is what an ONNX value name resolves to: a constant or a graph value.
type ref struct {
	c *constT
	v int
}

// affine records that graph value v equals a*src + b element-wise, so a
// later Clip can be read as a hardsigmoid of src.
type affine struct {
	src  int
	a, b float64
}

type importer struct {
	opt   Options
	opset int64
	g     *graph.Graph
	env   map[string]*ref
	prod  map[int]*graph.Node // graph value -> producing node
	aff   map[int]affine
	names map[string]bool
	node  *pNode // node being imported, for error messages
	idx   int
	// weights is what the graph's tensors may still take, in bytes;
	// counted holds the tensor data already counted (shared tensors
	// count once).
	weights int64
	counted map[*float32]bool
}

// Bound of the weight data the importer materialises in graph tensors:
// maxWeightFactor times the file's bytes plus maxWeightSlack. A weight read
// by many nodes is converted once and shared, and an initializer's values
// are in the file (4 bytes or fewer each: float16 and int8 tensors widen
// to float32), so only what a node computes from a constant (a transposed
// Gemm weight, a Mul folded into a scale) can add to it.
const (
	maxWeightFactor = 4
	maxWeightSlack  = 16 << 20
)

// importModel builds the graph of m, decoded from size bytes.
func importModel(m *pModel, opt Options, size int) (*graph.Graph, error) {
	if m.graph == nil {
		return nil, fmt.Errorf("%w: no graph", ErrFormat)
	}
	opset, ok := m.opsets[""]
	if v, ok2 := m.opsets["ai.onnx"]; ok2 {
		opset, ok = v, true
	}
	if !ok {
		if len(m.opsets) != 0 || m.irVersion >= 3 {
			return nil, fmt.Errorf("%w: no ai.onnx opset import", ErrFormat)
		}
		opset = 1
	}
	if opset < MinOpset || opset > MaxOpset {
		return nil, fmt.Errorf("%w: opset %d (supported: %d–%d)", ErrUnsupported, opset, MinOpset, MaxOpset)
	}
	pg := m.graph
	if len(pg.nodes) > opt.MaxNodes {
		return nil, fmt.Errorf("%w: %d nodes, limit %d", ErrTooLarge, len(pg.nodes), opt.MaxNodes)
	}
	if pg.hasSparse {
		return nil, fmt.Errorf("%w: sparse initializers", ErrUnsupported)
	}
	im := &importer{opt: opt, opset: opset, env: map[string]*ref{}, prod: map[int]*graph.Node{},
		aff: map[int]affine{}, names: map[string]bool{}, idx: -1,
		weights: maxWeightFactor*int64(size) + maxWeightSlack, counted: map[*float32]bool{}}
	for _, t := range pg.initializer {
		c, err := toConst(t, opt.MaxElements)
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", t.name, err)
		}
		im.env[t.name] = &ref{c: c, v: -1}
	}
	// The network input: the one graph input that is not an initializer.
	var in *pValueInfo
	for _, v := range pg.inputs {
		if _, isInit := im.env[v.name]; isInit {
			continue
		}
		if in != nil {
			return nil, fmt.Errorf("%w: more than one input (%q, %q)", ErrUnsupported, in.name, v.name)
		}
		in = v
	}
	if in == nil {
		return nil, fmt.Errorf("%w: no input", ErrFormat)
	}
	shape, err := im.inputShape(in)
	if err != nil {
		return nil, err
	}
	name := pg.name
	if name == "" {
		name = "onnx"
	}
	im.g = graph.New(name, in.name, shape...)
	im.env[in.name] = &ref{v: im.g.Input}
	for i, n := range pg.nodes {
		im.node, im.idx = n, i
		if n.domain != "" && n.domain != "ai.onnx" {
			return nil, im.errf(ErrUnsupported, "operator domain %q", n.domain)
		}
		outs, err := im.importNode(n)
		if err != nil {
			return nil, err
		}
		if len(outs) > len(n.outputs) {
			return nil, im.errf(ErrFormat, "%d outputs, want %d", len(n.outputs), len(outs))
		}
		for k, r := range outs {
			if n.outputs[k] == "" {
				continue
			}
			if _, dup := im.env[n.outputs[k]]; dup {
				return nil, im.errf(ErrFormat, "value %q is produced twice", n.outputs[k])
			}
			im.env[n.outputs[k]] = r
		}
	}
	im.node, im.idx = nil, -1
	if len(pg.outputs) != 1 {
		return nil, fmt.Errorf("%w: %d outputs, want 1", ErrUnsupported, len(pg.outputs))
	}
	out, ok := im.env[pg.outputs[0].name]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: output %q is never produced", ErrFormat, pg.outputs[0].name)
	case out.c != nil:
		return nil, fmt.Errorf("%w: output %q is a constant", ErrUnsupported, pg.outputs[0].name)
	}
	return im.finish(out.v)
}

// inputShape reads [N, C, H, W] (or [N, ...]) with a symbolic or fixed
// batch dimension; dynamic H and W take the Options defaults.
func (im *importer) inputShape(v *pValueInfo) ([]int, error) {
	if v.elemType != dtFloat {
		return nil, fmt.Errorf("%w: input %q has element type %d, want float32 (1)", ErrUnsupported, v.name, v.elemType)
	}
	if !v.hasShape || len(v.dims) < 2 {
		return nil, fmt.Errorf("%w: input %q has no [N, C, ...] shape", ErrUnsupported, v.name)
	}
	shape := make([]int, len(v.dims)-1)
	for k, d := range v.dims[1:] {
		switch {
		case d.known && d.value > 0 && d.value <= 1<<16:
			shape[k] = int(d.value)
		case d.known && d.value != 0:
			return nil, fmt.Errorf("%w: input %q dimension %d is %d", ErrUnsupported, v.name, k+1, d.value)
		case len(v.dims) == 4 && k == 1:
			shape[k] = im.opt.InputH
		case len(v.dims) == 4 && k == 2:
			shape[k] = im.opt.InputW
		default:
			return nil, fmt.Errorf("%w: input %q dimension %d is dynamic", ErrUnsupported, v.name, k+1)
		}
	}
	return shape, nil
}

func (im *importer) errf(kind error, format string, args ...any) error {
	n := im.node
	return fmt.Errorf("node %d %q (%s): %w: %s", im.idx, n.name, n.opType, kind, fmt.Sprintf(format, args...))
}

// finish drops nodes the output does not depend on (patterns leave the
// parts they replaced behind) and rebuilds a compact graph.
func (im *importer) finish(out int) (*graph.Graph, error) {
	live := map[int]bool{out: true}
	for i := len(im.g.Nodes) - 1; i >= 0; i-- {
		n := im.g.Nodes[i]
		if live[n.Output] {
			for _, v := range n.Inputs {
				live[v] = true
			}
		}
	}
	old := im.g
	g := graph.New(old.Name, old.Values[old.Input].Name, old.InputShape()...)
	remap := map[int]int{old.Input: g.Input}
	for _, n := range old.Nodes {
		if !live[n.Output] {
			continue
		}
		ins := make([]int, len(n.Inputs))
		for k, v := range n.Inputs {
			ins[k] = remap[v]
		}
		v, err := g.Add(n.Name, n.Op, ins...)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		g.Values[v].Name = old.Values[n.Output].Name
		remap[n.Output] = v
	}
	g.Output = remap[out]
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return g, nil
}

// add appends a graph node for the current ONNX node.
func (im *importer) add(op graph.Op, inputs ...int) (int, error) {
	base := im.node.name
	if base == "" && len(im.node.outputs) > 0 {
		base = im.node.outputs[0]
	}
	if base == "" {
		base = im.node.opType + "_" + strconv.Itoa(im.idx)
	}
	name := base
	for k := 1; im.names[name]; k++ {
		name = base + "_" + strconv.Itoa(k)
	}
	for _, p := range op.Params() {
		if p.T == nil || len(p.T.Data) == 0 || im.counted[&p.T.Data[0]] {
			continue
		}
		im.counted[&p.T.Data[0]] = true
		if im.weights -= 4 * int64(len(p.T.Data)); im.weights < 0 {
			return -1, im.errf(ErrTooLarge, "the graph's weights take more than %d times the file's bytes plus %d MiB",
				maxWeightFactor, maxWeightSlack>>20)
		}
	}
	v, err := im.g.Add(name, op, inputs...)
	if err != nil {
		return -1, im.errf(ErrUnsupported, "%v", err)
	}
	im.names[name] = true
	im.prod[v] = im.g.Nodes[len(im.g.Nodes)-1]
	return v, nil
}

func (im *importer) shape(v int) []int { return im.g.Values[v].Shape }

// --- attributes ---

func (im *importer) attr(name string) *pAttr {
	for _, a := range im.node.attrs {
		if a.name == name {
			return a
		}
	}
	return nil
}

// attrType checks an attribute's declared type (old files may omit it).
func (im *importer) attrType(a *pAttr, want int64, field int) error {
	if a.hasRef || a.hasG {
		return im.errf(ErrUnsupported, "attribute %q is a reference or a graph", a.name)
	}
	if a.typ != 0 && a.typ != want {
		return im.errf(ErrFormat, "attribute %q has type %d, want %d", a.name, a.typ, want)
	}
	if a.typ == 0 && field > 0 && !a.present[field] && want != atInts && want != atFloats {
		return im.errf(ErrFormat, "attribute %q has no value", a.name)
	}
	return nil
}

func (im *importer) attrInt(name string, def int64) (int64, error) {
	a := im.attr(name)
	if a == nil {
		return def, nil
	}
	return a.i, im.attrType(a, atInt, 3)
}

func (im *importer) attrFloat(name string, def float32) (float32, error) {
	a := im.attr(name)
	if a == nil {
		return def, nil
	}
	return a.f, im.attrType(a, atFloat, 2)
}

func (im *importer) attrString(name, def string) (string, error) {
	a := im.attr(name)
	if a == nil {
		return def, nil
	}
	return string(a.s), im.attrType(a, atString, 4)
}

func (im *importer) attrInts(name string, def []int64) ([]int64, bool, error) {
	a := im.attr(name)
	if a == nil {
		return def, false, nil
	}
	if len(a.ints) > maxRank*2 {
		return nil, true, im.errf(ErrUnsupported, "attribute %q has %d values", name, len(a.ints))
	}
	return a.ints, true, im.attrType(a, atInts, 8)
}

// --- inputs ---

// in returns input k, or nil when it is absent or named "".
func (im *importer) in(k int) (*ref, error) {
	if k >= len(im.node.inputs) || im.node.inputs[k] == "" {
		return nil, nil
	}
	r, ok := im.env[im.node.inputs[k]]
	if !ok {
		return nil, im.errf(ErrFormat, "input %q is not produced before this node", im.node.inputs[k])
	}
	return r, nil
}

func (im *importer) needInputs(lo, hi int) error {
	if n := len(im.node.inputs); n < lo || n > hi {
		return im.errf(ErrFormat, "%d inputs, want %d to %d", n, lo, hi)
	}
	return nil
}

// variable returns input k, which must be a graph value.
func (im *importer) variable(k int) (int, error) {
	r, err := im.in(k)
	if err != nil {
		return -1, err
	}
	if r == nil {
		return -1, im.errf(ErrFormat, "missing input %d", k)
	}
	if r.c != nil {
		return -1, im.errf(ErrUnsupported, "input %d (%q) is a constant; want a computed value", k, im.node.inputs[k])
	}
	return r.v, nil
}

// constant returns input k, which must be a constant (or nil if optional and absent).
func (im *importer) constant(k int, optional bool) (*constT, error) {
	r, err := im.in(k)
	if err != nil {
		return nil, err
	}
	if r == nil {
		if optional {
			return nil, nil
		}
		return nil, im.errf(ErrFormat, "missing input %d", k)
	}
	if r.c == nil {
		return nil, im.errf(ErrUnsupported, "input %d (%q) must be a constant (an initializer)", k, im.node.inputs[k])
	}
	return r.c, nil
}

func vref(v int) []*ref { return []*ref{{v: v}} }

func cref(c *constT) []*ref { return []*ref{{c: c, v: -1}} }

// allConst reports whether every present input is a constant.
func (im *importer) allConst() bool {
	for _, name := range im.node.inputs {
		if name == "" {
			continue
		}
		if r, ok := im.env[name]; ok && r.c == nil {
			return false
		}
	}
	return true
}

// importNode translates one ONNX node and returns refs for its outputs.
func (im *importer) importNode(n *pNode) ([]*ref, error) {
	switch n.opType {
	case "Constant":
		return im.constantNode()
	case "Identity", "Dropout":
		if err := im.needInputs(1, 3); err != nil {
			return nil, err
		}
		r, err := im.in(0)
		if err != nil || r == nil {
			return nil, firstErr(err, im.errf(ErrFormat, "missing input"))
		}
		return []*ref{r}, nil
	case "Cast":
		return im.cast()
	}
	if len(n.inputs) > 0 && im.allConst() {
		return im.fold()
	}
	switch n.opType {
	case "Conv":
		return im.conv()
	case "BatchNormalization":
		return im.batchNorm()
	case "Relu", "Sigmoid", "HardSwish", "HardSigmoid":
		return im.activation()
	case "Clip":
		return im.clip()
	case "Mul", "Div":
		return im.mulDiv()
	case "Add", "Sub":
		return im.addSub()
	case "GlobalAveragePool":
		x, err := im.unary()
		if err != nil {
			return nil, err
		}
		return im.gap(x)
	case "AveragePool":
		return im.averagePool()
	case "ReduceMean":
		return im.reduceMean()
	case "Reshape":
		return im.reshape()
	case "Flatten":
		return im.flatten()
	case "Squeeze", "Unsqueeze":
		return im.squeeze(n.opType == "Unsqueeze")
	case "MatMul":
		return im.matMul()
	case "Gemm":
		return im.gemm()
	case "Softmax":
		return im.softmax()
	case "Shape":
		return im.shapeOp()
	}
	return nil, im.errf(ErrUnsupported, "unknown operator %s", n.opType)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (im *importer) unary() (int, error) {
	if err := im.needInputs(1, 1); err != nil {
		return -1, err
	}
	return im.variable(0)
}

func (im *importer) constantNode() ([]*ref, error) {
	if len(im.node.attrs) != 1 {
		return nil, im.errf(ErrFormat, "want exactly one attribute, got %d", len(im.node.attrs))
	}
	a := im.node.attrs[0]
	switch a.name {
	case "value":
		if err := im.attrType(a, atTensor, 5); err != nil {
			return nil, err
		}
		if a.t == nil {
			return nil, im.errf(ErrFormat, "value has no tensor")
		}
		c, err := toConst(a.t, im.opt.MaxElements)
		if err != nil {
			return nil, im.errf(ErrFormat, "%v", err)
		}
		return cref(c), nil
	case "value_float":
		f, err := im.attrFloat(a.name, 0)
		return cref(&constT{f: []float32{f}}), err
	case "value_floats":
		if err := im.attrType(a, atFloats, 7); err != nil {
			return nil, err
		}
		return cref(&constT{shape: []int{len(a.floats)}, f: a.floats}), nil
	case "value_int":
		i, err := im.attrInt(a.name, 0)
		return cref(&constT{i: []int64{i}, isInt: true}), err
	case "value_ints":
		if err := im.attrType(a, atInts, 8); err != nil {
			return nil, err
		}
		return cref(&constT{shape: []int{len(a.ints)}, i: a.ints, isInt: true}), nil
	}
	return nil, im.errf(ErrUnsupported, "constant attribute %q", a.name)
}

func (im *importer) cast() ([]*ref, error) {
	if err := im.needInputs(1, 1); err != nil {
		return nil, err
	}
	to, err := im.attrInt("to", 0)
	if err != nil {
		return nil, err
	}
	r, err := im.in(0)
	if err != nil || r == nil {
		return nil, firstErr(err, im.errf(ErrFormat, "missing input"))
	}
	isFloat := to == dtFloat || to == dtDouble || to == dtFloat16
	isInt := to == dtInt64 || to == dtInt32 || to == dtInt8 || to == dtUint8 || to == dtBool
	if r.c == nil {
		if isFloat {
			return []*ref{r}, nil
		}
		return nil, im.errf(ErrUnsupported, "cast of a computed value to type %d", to)
	}
	switch {
	case isFloat:
		return cref(&constT{shape: r.c.shape, f: r.c.floats()}), nil
	case isInt:
		if r.c.isInt {
			return []*ref{r}, nil
		}
		i := make([]int64, len(r.c.f))
		for k, v := range r.c.f {
			if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 1<<62 {
				return nil, im.errf(ErrUnsupported, "cast of %g to an integer", v)
			}
			i[k] = int64(v)
		}
		return cref(&constT{shape: r.c.shape, i: i, isInt: true}), nil
	}
	return nil, im.errf(ErrUnsupported, "cast to type %d", to)
}

// --- convolution and normalisation ---

func (im *importer) conv() ([]*ref, error) {
	if err := im.needInputs(2, 3); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	w, err := im.constant(1, false)
	if err != nil {
		return nil, err
	}
	b, err := im.constant(2, true)
	if err != nil {
		return nil, err
	}
	xs := im.shape(x)
	if len(xs) != 3 || len(w.shape) != 4 {
		return nil, im.errf(ErrUnsupported, "only 2-D convolution: input %v, weight %v", xs, w.shape)
	}
	group, err := im.attrInt("group", 1)
	if err != nil {
		return nil, err
	}
	kh, kw := w.shape[2], w.shape[3]
	ks, _, err := im.attrInts("kernel_shape", nil)
	if err != nil {
		return nil, err
	}
	if ks != nil && (len(ks) != 2 || ks[0] != int64(kh) || ks[1] != int64(kw)) {
		return nil, im.errf(ErrFormat, "kernel_shape %v does not match weight %v", ks, w.shape)
	}
	strides, _, err := im.attrInts("strides", []int64{1, 1})
	if err != nil {
		return nil, err
	}
	dil, _, err := im.attrInts("dilations", []int64{1, 1})
	if err != nil {
		return nil, err
	}
	pads, hasPads, err := im.attrInts("pads", []int64{0, 0, 0, 0})
	if err != nil {
		return nil, err
	}
	autoPad, err := im.attrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	if len(strides) != 2 || len(dil) != 2 || len(pads) != 4 {
		return nil, im.errf(ErrFormat, "strides %v, dilations %v, pads %v: want 2, 2 and 4 values", strides, dil, pads)
	}
	for _, v := range append(append(slices.Clone(strides), dil...), pads...) {
		if v < 0 || v > 1<<16 {
			return nil, im.errf(ErrFormat, "strides %v, dilations %v, pads %v out of range", strides, dil, pads)
		}
	}
	if group < 1 || group > int64(xs[0]) {
		return nil, im.errf(ErrFormat, "group %d for %d input channels", group, xs[0])
	}
	c := &graph.Conv2D{InC: xs[0], OutC: w.shape[0], KH: kh, KW: kw,
		StrideH: int(strides[0]), StrideW: int(strides[1]), DilH: int(dil[0]), DilW: int(dil[1]),
		Groups: int(group), Weight: w.tensor()}
	switch autoPad {
	case "NOTSET", "":
		c.PadT, c.PadL, c.PadB, c.PadR = int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		if hasPads {
			return nil, im.errf(ErrFormat, "auto_pad %s with explicit pads", autoPad)
		}
		if c.StrideH <= 0 || c.StrideW <= 0 {
			return nil, im.errf(ErrFormat, "strides %v", strides)
		}
		c.PadT, c.PadB = samePad(xs[1], kh, c.StrideH, c.DilH, autoPad == "SAME_UPPER")
		c.PadL, c.PadR = samePad(xs[2], kw, c.StrideW, c.DilW, autoPad == "SAME_UPPER")
	default:
		return nil, im.errf(ErrUnsupported, "auto_pad %q", autoPad)
	}
	if b != nil {
		if b.numel() != c.OutC {
			return nil, im.errf(ErrFormat, "bias has %d values for %d output channels", b.numel(), c.OutC)
		}
		c.Bias = b.vector()
	}
	v, err := im.add(c, x)
	return vref(v), err
}

// samePad splits the total padding of auto_pad SAME_*: the extra pixel goes
// at the end (upper) or the beginning (lower).
func samePad(in, k, s, d int, upper bool) (int, int) {
	out := (in + s - 1) / s
	total := max(0, (out-1)*s+(k-1)*d+1-in)
	if upper {
		return total / 2, total - total/2
	}
	return total - total/2, total / 2
}

func (im *importer) batchNorm() ([]*ref, error) {
	if err := im.needInputs(5, 5); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	var ts [4]*graph.Tensor
	c := im.shape(x)[0]
	for k := range ts {
		t, err := im.constant(k+1, false)
		if err != nil {
			return nil, err
		}
		if t.numel() != c {
			return nil, im.errf(ErrFormat, "input %d has %d values for %d channels", k+1, t.numel(), c)
		}
		ts[k] = t.vector()
	}
	eps, err := im.attrFloat("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if mode, _ := im.attrInt("training_mode", 0); mode != 0 {
		return nil, im.errf(ErrUnsupported, "training_mode=1")
	}
	if sp, _ := im.attrInt("spatial", 1); sp != 1 {
		return nil, im.errf(ErrUnsupported, "spatial=0")
	}
	v, err := im.add(&graph.BatchNorm{Scale: ts[0], Shift: ts[1], Mean: ts[2], Var: ts[3], Eps: eps}, x)
	return vref(v), err
}

// --- activations ---

func (im *importer) activation() ([]*ref, error) {
	x, err := im.unary()
	if err != nil {
		return nil, err
	}
	var a graph.Activation
	switch im.node.opType {
	case "Relu":
		a = graph.ReLU
	case "Sigmoid":
		a = graph.Sigmoid
	case "HardSwish":
		a = graph.HardSwish
	case "HardSigmoid":
		alpha, err := im.attrFloat("alpha", 0.2)
		if err != nil {
			return nil, err
		}
		beta, err := im.attrFloat("beta", 0.5)
		if err != nil {
			return nil, err
		}
		a = graph.HardSigmoid(alpha, beta)
	}
	v, err := im.add(&graph.Act{Act: a}, x)
	return vref(v), err
}

// clip reads Clip(x, lo, hi). Clip(x, 0, +inf) is ReLU; Clip(a*x+b, 0, hi)
// is hi * HardSigmoid(a/hi, b/hi)(x), which covers relu6(x+3)/6 and the
// clip(x*slope + offset, 0, 1) form of hardsigmoid. Other ranges are
// unsupported.
func (im *importer) clip() ([]*ref, error) {
	if err := im.needInputs(1, 3); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if im.opset < 11 {
		l, err := im.attrFloat("min", -math.MaxFloat32)
		if err != nil {
			return nil, err
		}
		h, err := im.attrFloat("max", math.MaxFloat32)
		if err != nil {
			return nil, err
		}
		lo, hi = float64(l), float64(h)
	} else {
		for k, p := range []*float64{&lo, &hi} {
			c, err := im.constant(k+1, true)
			if err != nil {
				return nil, err
			}
			if c == nil {
				continue
			}
			s, ok := c.scalar()
			if !ok {
				return nil, im.errf(ErrFormat, "clip bound %d has %d values", k+1, c.numel())
			}
			*p = s
		}
	}
	if lo <= -math.MaxFloat32 && hi >= math.MaxFloat32 {
		return vref(x), nil
	}
	if lo != 0 || !(hi > 0) {
		return nil, im.errf(ErrUnsupported, "clip to [%g, %g] (only [0, hi] is supported)", lo, hi)
	}
	if hi >= math.MaxFloat32 {
		v, err := im.add(&graph.Act{Act: graph.ReLU}, x)
		return vref(v), err
	}
	af, ok := im.aff[x]
	if !ok {
		af = affine{src: x, a: 1}
	}
	v, err := im.add(&graph.Act{Act: graph.HardSigmoid(float32(af.a/hi), float32(af.b/hi))}, af.src)
	if err != nil {
		return nil, err
	}
	v, err = im.scale(v, hi)
	return vref(v), err
}

// scale multiplies v by f, merging with a Scale that produced v.
func (im *importer) scale(v int, f float64) (int, error) {
	if p := im.prod[v]; p != nil {
		if s, ok := p.Op.(*graph.Scale); ok {
			v, f = p.Inputs[0], f*float64(s.Factor)
		}
	}
	if math.Abs(f-1) < 1e-6 {
		return v, nil
	}
	out, err := im.add(&graph.Scale{Factor: float32(f)}, v)
	if err != nil {
		return -1, err
	}
	af, ok := im.aff[v]
	if !ok {
		af = affine{src: v, a: 1}
	}
	im.aff[out] = affine{src: af.src, a: af.a * f, b: af.b * f}
	return out, nil
}
