package paddle

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
)

// opDesc is one op of either program format, normalised: a canonical type
// and positional inputs in the order of Paddle 3's op definitions (the
// legacy importer maps its named slots onto them).
type opDesc struct {
	typ   string   // canonical type: "conv2d", "batch_norm", "add", ...
	where string   // for errors: "op 147 (1.conv2d)"
	in    []string // value references; "" is an absent optional input
	out   []string
	attrs attrs
}

// tensorType is a value's declared type.
type tensorType struct {
	dtype string // "float32", "int64", ...
	dims  []int64
}

// program is a parsed program of either format.
type program struct {
	name   string
	ops    []opDesc
	params []paramSpec
	types  map[string]tensorType // declared value types, by reference
	// legacy programs may write a variable again (batch_norm's MeanOut is
	// its Mean): a later write replaces the binding of a first output and
	// is ignored for the others. PIR values are defined once.
	legacy bool
}

type bindKind uint8

const (
	bGraph bindKind = iota + 1 // a computed tensor: a graph value
	bParam                     // a parameter (or a reshape of one)
	bInts                      // a constant int array (full_int_array)
	bFloat                     // a constant scalar (full)
	bOther                     // defined, but not usable by the importer
)

// binding is what a program value is to the importer.
type binding struct {
	kind  bindKind
	v     int           // bGraph: graph value index
	t     *graph.Tensor // bParam
	pname string        // bParam: the parameter's name
	ints  []int64       // bInts
	f     float64       // bFloat
	what  string        // bOther: what it is, for errors
}

// builder turns a program into a graph.
type builder struct {
	p      *program
	opt    Options
	g      *graph.Graph
	vals   map[string]binding
	names  map[string]bool
	output int
	op     *opDesc
}

// paramsIn is a .pdiparams blob to read: its size bytes from r.
type paramsIn struct {
	r    io.Reader
	size int64
}

// blobIn is a .pdiparams blob in memory.
func blobIn(b []byte) paramsIn { return paramsIn{bytes.NewReader(b), int64(len(b))} }

// importCommon loads the parameters of p from params and builds the graph.
func importCommon(p *program, params paramsIn, opt Options) (*graph.Graph, error) {
	tensors, err := readParams(params.r, params.size, p.params)
	if err != nil {
		return nil, err
	}
	b := &builder{p: p, opt: opt, vals: make(map[string]binding), names: make(map[string]bool), output: -1}
	for _, s := range p.params {
		if _, dup := b.vals[s.ref]; dup {
			return nil, formatErr("value %s is defined by two parameters", s.ref)
		}
		b.vals[s.ref] = binding{kind: bParam, t: tensors[s.name], pname: s.name}
	}
	for i := range p.ops {
		b.op = &p.ops[i]
		if err := b.apply(); err != nil {
			return nil, fmt.Errorf("paddle: %s: %w", b.op.where, err)
		}
	}
	if b.g == nil {
		return nil, formatErr("the program has no input (data or feed op)")
	}
	if b.output < 0 {
		return nil, formatErr("the program has no output (fetch op)")
	}
	b.g.Output = b.output
	b.prune()
	mergeBiases(b.g)
	if err := b.g.Validate(); err != nil {
		return nil, fmt.Errorf("paddle: %w", err)
	}
	return b.g, nil
}

// prune drops nodes that do not contribute to the output.
func (b *builder) prune() {
	live := make([]bool, len(b.g.Values))
	live[b.g.Output] = true
	keep := make([]bool, len(b.g.Nodes))
	for i := len(b.g.Nodes) - 1; i >= 0; i-- {
		n := b.g.Nodes[i]
		if !live[n.Output] {
			continue
		}
		keep[i] = true
		for _, in := range n.Inputs {
			live[in] = true
		}
	}
	nodes := b.g.Nodes[:0]
	for i, n := range b.g.Nodes {
		if keep[i] {
			nodes = append(nodes, n)
		}
	}
	b.g.Nodes = nodes
}

// mergeBiases moves each BiasAdd into the bias-less conv or FC that alone
// feeds it (Paddle writes conv and linear biases as separate adds), so that
// a batch norm after a biased conv still folds.
func mergeBiases(g *graph.Graph) {
	producer := make(map[int]int, len(g.Nodes))
	uses := make(map[int]int, len(g.Values))
	for i, n := range g.Nodes {
		producer[n.Output] = i
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	drop := make(map[int]bool)
	for ni, n := range g.Nodes {
		ba, ok := n.Op.(*graph.BiasAdd)
		if !ok {
			continue
		}
		pi, ok := producer[n.Inputs[0]]
		if !ok || drop[pi] || uses[n.Inputs[0]] != 1 || n.Inputs[0] == g.Output {
			continue
		}
		p := g.Nodes[pi]
		switch op := p.Op.(type) {
		case *graph.Conv2D:
			if op.Bias != nil || op.Act.Kind != graph.ActNone || ba.Bias.Len() != op.OutC {
				continue
			}
			op.Bias = ba.Bias
		case *graph.FC:
			if op.Bias != nil || op.Act.Kind != graph.ActNone || ba.Bias.Len() != op.Out {
				continue
			}
			op.Bias = ba.Bias
		default:
			continue
		}
		// The producer now writes the BiasAdd's value.
		p.Output = n.Output
		drop[ni] = true
	}
	if len(drop) == 0 {
		return
	}
	nodes := g.Nodes[:0]
	for i, n := range g.Nodes {
		if !drop[i] {
			nodes = append(nodes, n)
		}
	}
	g.Nodes = nodes
}

func (b *builder) input(i int) (binding, error) {
	if i >= len(b.op.in) || b.op.in[i] == "" {
		return binding{}, fmt.Errorf("%w: missing input %d", ErrFormat, i)
	}
	v, ok := b.vals[b.op.in[i]]
	if !ok {
		return binding{}, fmt.Errorf("%w: input %d (%s) is used before it is defined", ErrFormat, i, b.op.in[i])
	}
	if v.kind == bOther {
		return binding{}, fmt.Errorf("%w: input %d (%s) is %s", ErrUnsupported, i, b.op.in[i], v.what)
	}
	return v, nil
}

func (b *builder) hasInput(i int) bool { return i < len(b.op.in) && b.op.in[i] != "" }

// graphIn returns input i, which must be a computed tensor, and its shape.
func (b *builder) graphIn(i int) (int, []int, error) {
	v, err := b.input(i)
	if err != nil {
		return 0, nil, err
	}
	if v.kind != bGraph {
		return 0, nil, fmt.Errorf("%w: input %d must be a computed tensor, not %s", ErrUnsupported, i, v.describe())
	}
	return v.v, b.g.Values[v.v].Shape, nil
}

// paramIn returns input i, which must be a parameter.
func (b *builder) paramIn(i int) (binding, error) {
	v, err := b.input(i)
	if err != nil {
		return binding{}, err
	}
	if v.kind != bParam {
		return binding{}, fmt.Errorf("%w: input %d must be a parameter, not %s", ErrUnsupported, i, v.describe())
	}
	return v, nil
}

func (v binding) describe() string {
	switch v.kind {
	case bGraph:
		return "a computed tensor"
	case bParam:
		return fmt.Sprintf("parameter %q", v.pname)
	case bInts:
		return "an int array constant"
	case bFloat:
		return "a scalar constant"
	}
	return v.what
}

func (b *builder) define(i int, v binding) error {
	if i >= len(b.op.out) || b.op.out[i] == "" {
		if i == 0 {
			return fmt.Errorf("%w: the op has no output", ErrFormat)
		}
		return nil
	}
	ref := b.op.out[i]
	if _, dup := b.vals[ref]; dup {
		switch {
		case !b.p.legacy:
			return fmt.Errorf("%w: value %s is defined twice", ErrFormat, ref)
		case i > 0:
			return nil
		}
	}
	b.vals[ref] = v
	return nil
}

// defineRest marks outputs from..end as defined but unusable.
func (b *builder) defineRest(from int) error {
	for i := from; i < len(b.op.out); i++ {
		if err := b.define(i, binding{kind: bOther, what: fmt.Sprintf("output %d of %s, which the importer does not compute", i, b.op.typ)}); err != nil {
			return err
		}
	}
	return nil
}

// nodeName names a node after its parameter ("conv2d_3" for
// "conv2d_3.w_0") or its op type, made unique.
func (b *builder) nodeName(param string) string {
	base := b.op.typ
	if param != "" {
		base, _, _ = strings.Cut(param, ".")
	}
	name := base
	for k := 1; b.names[name]; k++ {
		name = fmt.Sprintf("%s_%d", base, k)
	}
	b.names[name] = true
	return name
}

// add appends a node, checks its shape against the declared type of the
// op's first output, and binds that output (other outputs are unusable).
func (b *builder) add(param string, op graph.Op, inputs ...int) error {
	v, err := b.g.Add(b.nodeName(param), op, inputs...)
	if err != nil {
		return err
	}
	if len(b.op.out) > 0 {
		if t, ok := b.p.types[b.op.out[0]]; ok && len(t.dims) > 0 {
			if err := checkDeclared(t.dims, b.g.Values[v].Shape); err != nil {
				return err
			}
		}
	}
	if err := b.define(0, binding{kind: bGraph, v: v}); err != nil {
		return err
	}
	return b.defineRest(1)
}

// checkDeclared compares a computed per-sample shape with a declared
// full shape (batch first; -1 is unknown).
func checkDeclared(decl []int64, got []int) error {
	if len(decl) != len(got)+1 {
		return fmt.Errorf("%w: computed shape [N %v] has another rank than the declared %v", ErrFormat, got, decl)
	}
	for i, d := range decl[1:] {
		if d != -1 && d != int64(got[i]) {
			return fmt.Errorf("%w: computed shape [N %v] differs from the declared %v", ErrFormat, got, decl)
		}
	}
	return nil
}

func (b *builder) apply() error {
	switch b.op.typ {
	case "data":
		return b.data()
	case "conv2d", "depthwise_conv2d":
		return b.conv()
	case "batch_norm":
		return b.batchNorm()
	case "relu":
		return b.act(graph.ReLU)
	case "sigmoid":
		return b.act(graph.Sigmoid)
	case "hardswish":
		return b.hardSwish()
	case "hardsigmoid":
		return b.hardSigmoid()
	case "pool2d":
		return b.pool()
	case "full_int_array":
		v, ok, err := b.op.attrs.Ints("value")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: full_int_array has no value", ErrFormat)
		}
		return b.define(0, binding{kind: bInts, ints: v})
	case "full":
		return b.full()
	case "reshape":
		return b.reshape()
	case "add":
		return b.addOp()
	case "multiply":
		return b.multiply()
	case "scale":
		return b.scale()
	case "dropout":
		return b.dropout()
	case "flatten":
		return b.flatten()
	case "matmul":
		return b.matmul()
	case "softmax":
		return b.softmax()
	case "fetch":
		return b.fetch()
	}
	return fmt.Errorf("%w: op %q", ErrUnsupported, b.op.typ)
}

// maxInputSide bounds the input height and width.
const maxInputSide = 1 << 14

func (b *builder) data() error {
	if b.g != nil {
		return fmt.Errorf("%w: a second input: only single-input networks are supported", ErrUnsupported)
	}
	shape, ok, err := b.op.attrs.Ints("shape")
	if err != nil {
		return err
	}
	if !ok && len(b.op.out) > 0 {
		if t, has := b.p.types[b.op.out[0]]; has {
			shape, ok = t.dims, t.dims != nil
		}
	}
	if !ok {
		return fmt.Errorf("%w: the input has no shape", ErrFormat)
	}
	if len(shape) != 4 {
		return fmt.Errorf("%w: input shape %v: want [N, C, H, W]", ErrUnsupported, shape)
	}
	if dt, err := b.op.attrs.String("dtype", "float32"); err != nil {
		return err
	} else if dt != "float32" {
		return fmt.Errorf("%w: input data type %s, want float32", ErrUnsupported, dt)
	}
	c := shape[1]
	if c <= 0 || c > 1<<16 {
		return fmt.Errorf("%w: input channels %d", ErrUnsupported, c)
	}
	hw := [2]int{}
	for i, want := range [2]int{b.opt.InputH, b.opt.InputW} {
		d := shape[2+i]
		switch {
		case want < 0 || want > maxInputSide:
			return fmt.Errorf("%w: input size option %d out of range", ErrUnsupported, want)
		case d == -1 && want == 0:
			hw[i] = 224
		case d == -1:
			hw[i] = want
		case d <= 0 || d > maxInputSide:
			return fmt.Errorf("%w: input shape %v", ErrFormat, shape)
		case want != 0 && int64(want) != d:
			return fmt.Errorf("%w: input size %dx%d requested, the model's input is %v", ErrUnsupported, b.opt.InputH, b.opt.InputW, shape)
		default:
			hw[i] = int(d)
		}
	}
	name, err := b.op.attrs.String("name", "x")
	if err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "x"
	}
	b.g = graph.New(b.p.name, name, int(c), hw[0], hw[1])
	b.names[name] = true
	if err := b.define(0, binding{kind: bGraph, v: b.g.Input}); err != nil {
		return err
	}
	return b.defineRest(1)
}

// pair reads a 2-element int attribute (a single value is used twice).
func (b *builder) pair(name string, def, lo, hi int64) ([2]int, error) {
	v, ok, err := b.op.attrs.Ints(name)
	if err != nil {
		return [2]int{}, err
	}
	if !ok {
		v = []int64{def, def}
	}
	if len(v) == 1 {
		v = []int64{v[0], v[0]}
	}
	if len(v) != 2 {
		return [2]int{}, fmt.Errorf("%w: %s %v: want 2 values", ErrUnsupported, name, v)
	}
	for _, x := range v {
		if x < lo || x > hi {
			return [2]int{}, fmt.Errorf("%w: %s %v out of range [%d, %d]", ErrUnsupported, name, v, lo, hi)
		}
	}
	return [2]int{int(v[0]), int(v[1])}, nil
}

func (b *builder) dataFormat(name string) error {
	f, err := b.op.attrs.String(name, "NCHW")
	if err != nil {
		return err
	}
	if f != "NCHW" && f != "AnyLayout" && f != "" {
		return fmt.Errorf("%w: %s %q: only NCHW", ErrUnsupported, name, f)
	}
	return nil
}

const maxSize = 1 << 16

func (b *builder) conv() error {
	x, xs, err := b.graphIn(0)
	if err != nil {
		return err
	}
	w, err := b.paramIn(1)
	if err != nil {
		return err
	}
	if len(xs) != 3 {
		return fmt.Errorf("%w: convolution of a %v tensor", ErrUnsupported, xs)
	}
	ws := w.t.Shape
	if len(ws) != 4 {
		return fmt.Errorf("%w: filter %q has shape %v, want 4 dims", ErrFormat, w.pname, ws)
	}
	if err := b.dataFormat("data_format"); err != nil {
		return err
	}
	stride, err := b.pair("strides", 1, 1, maxSize)
	if err != nil {
		return err
	}
	dil, err := b.pair("dilations", 1, 1, maxSize)
	if err != nil {
		return err
	}
	groups, err := b.op.attrs.Int("groups", 1)
	if err != nil {
		return err
	}
	if groups < 1 || groups > maxSize {
		return fmt.Errorf("%w: groups %d", ErrFormat, groups)
	}
	pads, ok, err := b.op.attrs.Ints("paddings")
	if err != nil {
		return err
	}
	if !ok {
		pads = []int64{0, 0}
	}
	var t, bo, l, r int64
	switch len(pads) {
	case 1:
		t, bo, l, r = pads[0], pads[0], pads[0], pads[0]
	case 2:
		t, bo, l, r = pads[0], pads[0], pads[1], pads[1]
	case 4: // Paddle: [top, bottom, left, right]
		t, bo, l, r = pads[0], pads[1], pads[2], pads[3]
	default:
		return fmt.Errorf("%w: paddings %v: want 2 or 4 values", ErrUnsupported, pads)
	}
	for _, p := range []int64{t, bo, l, r} {
		if p < 0 || p > maxSize {
			return fmt.Errorf("%w: paddings %v", ErrUnsupported, pads)
		}
	}
	kh, kw := ws[2], ws[3]
	algo, err := b.op.attrs.String("padding_algorithm", "EXPLICIT")
	if err != nil {
		return err
	}
	switch algo {
	case "EXPLICIT", "":
	case "VALID":
		t, bo, l, r = 0, 0, 0, 0
	case "SAME":
		// Paddle's UpdatePaddingAndDilation: output ceil(in/stride), the
		// extra padding goes to the bottom/right, and dilation becomes 1.
		same := func(in, k, s int) (int64, int64) {
			out := (in + s - 1) / s
			sum := max((out-1)*s+k-in, 0)
			return int64(sum / 2), int64(sum - sum/2)
		}
		t, bo = same(xs[1], kh, stride[0])
		l, r = same(xs[2], kw, stride[1])
		dil = [2]int{1, 1}
	default:
		return fmt.Errorf("%w: padding_algorithm %q", ErrUnsupported, algo)
	}
	if b.hasInput(2) {
		return fmt.Errorf("%w: a convolution with a fused bias input", ErrUnsupported)
	}
	op := &graph.Conv2D{InC: xs[0], OutC: ws[0], KH: kh, KW: kw, StrideH: stride[0], StrideW: stride[1],
		PadT: int(t), PadB: int(bo), PadL: int(l), PadR: int(r), DilH: dil[0], DilW: dil[1],
		Groups: int(groups), Weight: w.t}
	return b.add(w.pname, op, x)
}

// vector returns a parameter as a flat tensor of n values (a view).
func vector(v binding, n int, what string) (*graph.Tensor, error) {
	if v.t.Len() != n {
		return nil, fmt.Errorf("%w: %s %q has shape %v, want %d values", ErrFormat, what, v.pname, v.t.Shape, n)
	}
	return &graph.Tensor{Shape: []int{n}, Data: v.t.Data}, nil
}

func (b *builder) batchNorm() error {
	x, xs, err := b.graphIn(0)
	if err != nil {
		return err
	}
	if len(xs) < 1 {
		return fmt.Errorf("%w: batch norm of a scalar", ErrUnsupported)
	}
	if err := b.dataFormat("data_format"); err != nil {
		return err
	}
	if err := b.dataFormat("data_layout"); err != nil {
		return err
	}
	c := xs[0]
	var ts [4]*graph.Tensor // mean, variance, scale, bias
	var scaleName string
	for i, what := range []string{"mean", "variance", "scale", "bias"} {
		p, err := b.paramIn(1 + i)
		if err != nil {
			return err
		}
		if ts[i], err = vector(p, c, "batch-norm "+what); err != nil {
			return err
		}
		if i == 2 {
			scaleName = p.pname
		}
	}
	eps, err := b.op.attrs.Float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if !(eps >= 0 && eps < 1) {
		return fmt.Errorf("%w: batch-norm epsilon %g", ErrUnsupported, eps)
	}
	op := &graph.BatchNorm{Mean: ts[0], Var: ts[1], Scale: ts[2], Shift: ts[3], Eps: float32(eps)}
	return b.add(scaleName, op, x)
}

func (b *builder) act(a graph.Activation) error {
	x, _, err := b.graphIn(0)
	if err != nil {
		return err
	}
	return b.add("", &graph.Act{Act: a}, x)
}

func (b *builder) hardSwish() error {
	// Legacy hard_swish: x * min(max(x + offset, 0), threshold) / scale.
	th, err := b.op.attrs.Float("threshold", 6)
	if err != nil {
		return err
	}
	sc, err := b.op.attrs.Float("scale", 6)
	if err != nil {
		return err
	}
	off, err := b.op.attrs.Float("offset", 3)
	if err != nil {
		return err
	}
	if th != 6 || sc != 6 || off != 3 {
		return fmt.Errorf("%w: hard_swish with threshold %g, scale %g, offset %g (only 6, 6, 3)", ErrUnsupported, th, sc, off)
	}
	return b.act(graph.HardSwish)
}

func (b *builder) hardSigmoid() error {
	// The op definitions' defaults (slope 0.2, offset 0.5) apply only when
	// the attribute is absent: PP-LCNet stores slope 1/6.
	slope, err := b.op.attrs.Float("slope", 0.2)
	if err != nil {
		return err
	}
	off, err := b.op.attrs.Float("offset", 0.5)
	if err != nil {
		return err
	}
	return b.act(graph.HardSigmoid(float32(slope), float32(off)))
}

func (b *builder) pool() error {
	x, xs, err := b.graphIn(0)
	if err != nil {
		return err
	}
	if len(xs) != 3 {
		return fmt.Errorf("%w: pooling of a %v tensor", ErrUnsupported, xs)
	}
	if err := b.dataFormat("data_format"); err != nil {
		return err
	}
	typ, err := b.op.attrs.String("pooling_type", "max")
	if err != nil {
		return err
	}
	if typ != "avg" {
		return fmt.Errorf("%w: %s pooling (only average pooling to 1x1)", ErrUnsupported, typ)
	}
	global, err := b.op.attrs.Bool("global_pooling", false)
	if err != nil {
		return err
	}
	adaptive, err := b.op.attrs.Bool("adaptive", false)
	if err != nil {
		return err
	}
	var k []int64
	if b.hasInput(1) {
		v, err := b.input(1)
		if err != nil {
			return err
		}
		if v.kind != bInts {
			return fmt.Errorf("%w: pooling kernel is %s, want a constant", ErrUnsupported, v.describe())
		}
		k = v.ints
	} else if k, _, err = b.op.attrs.Ints("ksize"); err != nil {
		return err
	}
	if len(k) == 1 {
		k = []int64{k[0], k[0]}
	}
	ok := global
	switch {
	case global:
	case adaptive:
		ok = len(k) == 2 && k[0] == 1 && k[1] == 1
	default:
		// A plain average pool whose window is the whole input, unpadded.
		pads, _, err := b.op.attrs.Ints("paddings")
		if err != nil {
			return err
		}
		zero := true
		for _, p := range pads {
			zero = zero && p == 0
		}
		algo, _ := b.op.attrs.String("padding_algorithm", "EXPLICIT")
		ok = len(k) == 2 && k[0] == int64(xs[1]) && k[1] == int64(xs[2]) && (zero || algo == "VALID")
	}
	if !ok {
		return fmt.Errorf("%w: average pooling with kernel %v (adaptive %v) on %v: only pooling to 1x1", ErrUnsupported, k, adaptive, xs)
	}
	return b.add("", &graph.GlobalAvgPool{}, x)
}

func (b *builder) full() error {
	shape, _, err := b.op.attrs.Ints("shape")
	if err != nil {
		return err
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 || d > maxSize {
			return fmt.Errorf("%w: full of shape %v", ErrUnsupported, shape)
		}
		n *= d
	}
	v, err := b.op.attrs.Float("value", 0)
	if err != nil {
		return err
	}
	if n != 1 {
		return b.define(0, binding{kind: bOther, what: fmt.Sprintf("a constant of shape %v", shape)})
	}
	return b.define(0, binding{kind: bFloat, f: v})
}

// reshapeTarget resolves Paddle's reshape rule (0 copies the input's
// dimension, one -1 is inferred) on a static shape.
func reshapeTarget(in []int, shape []int64) ([]int, error) {
	out := make([]int, len(shape))
	numel := graph.Numel(in)
	known, free := 1, -1
	for i, d := range shape {
		switch {
		case d == 0 && i < len(in):
			out[i] = in[i]
		case d == -1 && free < 0:
			free = i
			continue
		case d <= 0 || d > 1<<31:
			return nil, fmt.Errorf("%w: reshape %v to %v", ErrFormat, in, shape)
		default:
			out[i] = int(d)
		}
		if out[i] > numel {
			return nil, fmt.Errorf("%w: reshape %v to %v", ErrFormat, in, shape)
		}
		known *= out[i]
		if known > numel {
			return nil, fmt.Errorf("%w: reshape %v to %v", ErrFormat, in, shape)
		}
	}
	if free >= 0 {
		if known == 0 || numel%known != 0 {
			return nil, fmt.Errorf("%w: reshape %v to %v", ErrFormat, in, shape)
		}
		out[free] = numel / known
		known = numel
	}
	if known != numel {
		return nil, fmt.Errorf("%w: reshape %v to %v", ErrFormat, in, shape)
	}
	return out, nil
}

func (b *builder) reshape() error {
	x, err := b.input(0)
	if err != nil {
		return err
	}
	var shape []int64
	if b.hasInput(1) {
		s, err := b.input(1)
		if err != nil {
			return err
		}
		if s.kind != bInts {
			return fmt.Errorf("%w: reshape to %s, want a constant shape", ErrUnsupported, s.describe())
		}
		shape = s.ints
	} else {
		var ok bool
		if shape, ok, err = b.op.attrs.Ints("shape"); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: reshape without a shape", ErrFormat)
		}
	}
	switch x.kind {
	case bParam:
		out, err := reshapeTarget(x.t.Shape, shape)
		if err != nil {
			return err
		}
		x.t = &graph.Tensor{Shape: out, Data: x.t.Data}
		if err := b.define(0, x); err != nil {
			return err
		}
		return b.defineRest(1)
	case bGraph:
		if b.g == nil {
			return fmt.Errorf("%w: reshape before the input", ErrFormat)
		}
		if len(shape) == 0 || (shape[0] != 0 && shape[0] != -1) {
			return fmt.Errorf("%w: reshape to %v fixes the batch size", ErrUnsupported, shape)
		}
		per := b.g.Values[x.v].Shape
		rest := make([]int64, len(shape)-1)
		free := shape[0] == -1
		for i, d := range shape[1:] {
			switch {
			case d == 0 && i < len(per):
				rest[i] = int64(per[i])
			case d == -1 && !free:
				free = true
				rest[i] = -1
			case d <= 0:
				return fmt.Errorf("%w: reshape to %v", ErrFormat, shape)
			default:
				rest[i] = d
			}
		}
		target, err := reshapeTarget(per, rest)
		if err != nil {
			return err
		}
		return b.add("", &graph.Reshape{Shape: target}, x.v)
	}
	return fmt.Errorf("%w: reshape of %s", ErrUnsupported, x.describe())
}

// channelVector returns the per-channel values of a constant broadcast
// onto a computed tensor of per-sample shape xs: y is aligned to the full
// shape [N, xs...] at axis (-1: right-aligned, numpy style) and may vary
// along the channel axis only.
func channelVector(y binding, xs []int, axis int64) (*graph.Tensor, string, error) {
	if len(xs) == 0 {
		return nil, "", fmt.Errorf("%w: broadcast onto a scalar", ErrUnsupported)
	}
	c := xs[0]
	if y.kind == bFloat {
		t := graph.NewTensor(c)
		for i := range t.Data {
			t.Data[i] = float32(y.f)
		}
		return t, "", nil
	}
	ys := y.t.Shape
	if axis != -1 {
		for len(ys) > 0 && ys[len(ys)-1] == 1 { // Paddle trims trailing ones
			ys = ys[:len(ys)-1]
		}
	}
	r := len(xs) + 1
	start := int64(r - len(ys))
	if axis != -1 {
		start = axis
	}
	if start < 0 || start+int64(len(ys)) > int64(r) {
		return nil, "", fmt.Errorf("%w: cannot broadcast %q %v onto [N %v] at axis %d", ErrUnsupported, y.pname, y.t.Shape, xs, axis)
	}
	full := make([]int, r)
	for i := range full {
		full[i] = 1
	}
	copy(full[start:], ys)
	for i, d := range full {
		if (i == 1 && d != c && d != 1) || (i != 1 && d != 1) {
			return nil, "", fmt.Errorf("%w: %q %v is not a per-channel constant for [N %v]", ErrUnsupported, y.pname, y.t.Shape, xs)
		}
	}
	if full[1] == c {
		return &graph.Tensor{Shape: []int{c}, Data: y.t.Data}, y.pname, nil
	}
	t := graph.NewTensor(c)
	for i := range t.Data {
		t.Data[i] = y.t.Data[0]
	}
	return t, y.pname, nil
}

func (b *builder) addOp() error {
	x, err := b.input(0)
	if err != nil {
		return err
	}
	y, err := b.input(1)
	if err != nil {
		return err
	}
	if x.kind != bGraph {
		x, y = y, x
	}
	if x.kind != bGraph {
		return fmt.Errorf("%w: add of %s and %s: no computed input", ErrUnsupported, x.describe(), y.describe())
	}
	if y.kind == bGraph {
		return fmt.Errorf("%w: add of two computed tensors (a residual connection)", ErrUnsupported)
	}
	if y.kind != bParam && y.kind != bFloat {
		return fmt.Errorf("%w: add of %s", ErrUnsupported, y.describe())
	}
	axis, err := b.op.attrs.Int("axis", -1)
	if err != nil {
		return err
	}
	bias, name, err := channelVector(y, b.g.Values[x.v].Shape, axis)
	if err != nil {
		return err
	}
	return b.add(name, &graph.BiasAdd{Bias: bias}, x.v)
}

func (b *builder) multiply() error {
	x, err := b.input(0)
	if err != nil {
		return err
	}
	y, err := b.input(1)
	if err != nil {
		return err
	}
	if x.kind != bGraph {
		x, y = y, x
	}
	switch {
	case x.kind != bGraph:
		return fmt.Errorf("%w: multiply of %s and %s: no computed input", ErrUnsupported, x.describe(), y.describe())
	case y.kind == bFloat:
		return b.add("", &graph.Scale{Factor: float32(y.f)}, x.v)
	case y.kind != bGraph:
		return fmt.Errorf("%w: multiply by %s", ErrUnsupported, y.describe())
	}
	// Put the full-size operand first (graph.Mul broadcasts its second).
	if graph.Numel(b.g.Values[x.v].Shape) < graph.Numel(b.g.Values[y.v].Shape) {
		x, y = y, x
	}
	return b.add("", &graph.Mul{}, x.v, y.v)
}

// floatAttrOrInput reads a float attribute (def when absent) that a
// constant operand at input idx overrides, as PIR passes scale and dropout
// probability; what names the value in the error for a non-constant one.
func (b *builder) floatAttrOrInput(name string, def float64, idx int, what string) (float64, error) {
	f, err := b.op.attrs.Float(name, def)
	if err != nil || !b.hasInput(idx) {
		return f, err
	}
	v, err := b.input(idx)
	if err != nil {
		return 0, err
	}
	if v.kind != bFloat {
		return 0, fmt.Errorf("%w: %s %s", ErrUnsupported, what, v.describe())
	}
	return v.f, nil
}

func (b *builder) scale() error {
	x, _, err := b.graphIn(0)
	if err != nil {
		return err
	}
	factor, err := b.floatAttrOrInput("scale", 1, 1, "scale by")
	if err != nil {
		return err
	}
	bias, err := b.op.attrs.Float("bias", 0)
	if err != nil {
		return err
	}
	if bias != 0 {
		return fmt.Errorf("%w: scale with bias %g", ErrUnsupported, bias)
	}
	return b.add("", &graph.Scale{Factor: float32(factor)}, x)
}

func (b *builder) dropout() error {
	// is_test is not read: Paddle Inference forces test mode.
	x, _, err := b.graphIn(0)
	if err != nil {
		return err
	}
	mode, err := b.op.attrs.String("mode", "downgrade_in_infer")
	if err != nil {
		return err
	}
	p, err := b.floatAttrOrInput("p", 0.5, 2, "dropout probability is")
	if err != nil {
		return err
	}
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: dropout probability %g", ErrFormat, p)
	}
	switch mode {
	case "downgrade_in_infer", "downscale_in_infer":
		return b.add("", &graph.Scale{Factor: float32(1 - p)}, x)
	case "upscale_in_train":
		return b.add("", &graph.Identity{}, x)
	}
	return fmt.Errorf("%w: dropout mode %q", ErrUnsupported, mode)
}

func (b *builder) flatten() error {
	x, xs, err := b.graphIn(0)
	if err != nil {
		return err
	}
	r := int64(len(xs) + 1)
	start, err := b.op.attrs.Int("start_axis", 1)
	if err != nil {
		return err
	}
	stop, err := b.op.attrs.Int("stop_axis", -1)
	if err != nil {
		return err
	}
	if start < 0 {
		start += r
	}
	if stop < 0 {
		stop += r
	}
	if start < 1 || start > stop || stop >= r {
		return fmt.Errorf("%w: flatten axes %d..%d of a rank-%d tensor (the batch must stay)", ErrUnsupported, start, stop, r)
	}
	shape := []int{-1} // flattening every per-sample axis
	if start > 1 || stop < r-1 {
		shape = append([]int(nil), xs[:start-1]...)
		shape = append(shape, graph.Numel(xs[start-1:stop]))
		shape = append(shape, xs[stop:]...)
	}
	return b.add("", &graph.Reshape{Shape: shape}, x)
}

func (b *builder) matmul() error {
	x, xs, err := b.graphIn(0)
	if err != nil {
		return err
	}
	w, err := b.paramIn(1)
	if err != nil {
		return err
	}
	tx, err := b.op.attrs.Bool("transpose_x", false)
	if err != nil {
		return err
	}
	ty, err := b.op.attrs.Bool("transpose_y", false)
	if err != nil {
		return err
	}
	if tx {
		return fmt.Errorf("%w: matmul with transpose_x", ErrUnsupported)
	}
	ws := w.t.Shape
	if len(ws) != 2 {
		return fmt.Errorf("%w: matmul by %q of shape %v, want 2 dims", ErrUnsupported, w.pname, ws)
	}
	in, out := ws[0], ws[1]
	if ty {
		in, out = out, in
	}
	if len(xs) != 1 {
		// mul (x_num_col_dims 1) flattens its input; matmul would not.
		flat, err := b.op.attrs.Bool("flatten_x", false)
		if err != nil {
			return err
		}
		if !flat {
			return fmt.Errorf("%w: matmul of a [N %v] tensor (only [N, K])", ErrUnsupported, xs)
		}
		if x, err = b.g.Add(b.nodeName("flatten"), &graph.Reshape{Shape: []int{-1}}, x); err != nil {
			return err
		}
		xs = b.g.Values[x].Shape
	}
	if xs[0] != in {
		return fmt.Errorf("%w: matmul of [N %v] by %q %v", ErrFormat, xs, w.pname, ws)
	}
	wt := w.t
	if !ty { // Paddle [In, Out] -> graph [Out, In]
		wt = graph.NewTensor(out, in)
		graph.Transpose(wt.Data, w.t.Data, in, out)
	} else {
		wt = &graph.Tensor{Shape: []int{out, in}, Data: w.t.Data}
	}
	alpha, err := b.op.attrs.Float("alpha", 1)
	if err != nil {
		return err
	}
	fc := &graph.FC{In: in, Out: out, Weight: wt}
	if alpha == 1 {
		return b.add(w.pname, fc, x)
	}
	v, err := b.g.Add(b.nodeName(w.pname), fc, x)
	if err != nil {
		return err
	}
	return b.add("", &graph.Scale{Factor: float32(alpha)}, v)
}

func (b *builder) softmax() error {
	x, xs, err := b.graphIn(0)
	if err != nil {
		return err
	}
	axis, err := b.op.attrs.Int("axis", -1)
	if err != nil {
		return err
	}
	if len(xs) != 1 || (axis != -1 && axis != 1) {
		return fmt.Errorf("%w: softmax over axis %d of [N %v] (only the last axis of [N, K])", ErrUnsupported, axis, xs)
	}
	return b.add("", &graph.Softmax{}, x)
}

func (b *builder) fetch() error {
	x, _, err := b.graphIn(0)
	if err != nil {
		return err
	}
	if b.output >= 0 {
		return fmt.Errorf("%w: a second output: only single-output networks are supported", ErrUnsupported)
	}
	b.output = x
	for i := range b.op.out {
		if err := b.define(i, binding{kind: bOther, what: "a fetched output"}); err != nil {
			return err
		}
	}
	return nil
}
