package onnx

import (
	"math"
	"slices"

	"github.com/lcnet-go/lcnet/graph"
)

// channelConst reports whether c broadcasts onto a value of per-sample
// shape s (full shape [N, s...]) as one value per channel: after right
// alignment every axis but the channel axis has size 1.
func channelConst(c *constT, s []int) bool {
	if len(s) == 0 || c.numel() != s[0] || len(c.shape) > len(s)+1 {
		return false
	}
	full := len(s) + 1
	off := full - len(c.shape)
	for k, d := range c.shape {
		axis := off + k
		if axis == 0 && d != 1 {
			return false
		}
		if axis == 1 && d != s[0] {
			return false
		}
		if axis > 1 && d != 1 {
			return false
		}
	}
	return true
}

// operands splits a binary node into (variable, constant, constant-first).
func (im *importer) operands() (x int, c *constT, cFirst bool, both bool, err error) {
	if err = im.needInputs(2, 2); err != nil {
		return
	}
	a, err := im.in(0)
	if err != nil {
		return
	}
	b, err := im.in(1)
	if err != nil {
		return
	}
	if a == nil || b == nil {
		err = im.errf(ErrFormat, "missing input")
		return
	}
	switch {
	case a.c == nil && b.c == nil:
		return a.v, nil, false, true, nil
	case a.c == nil:
		return a.v, b.c, false, false, nil
	default:
		return b.v, a.c, true, false, nil
	}
}

// mulDiv handles Mul and Div. By a scalar constant: graph.Scale. By one
// constant per channel: a BatchNorm with unit variance (folded by
// graph.Optimize). x * HardSigmoid(1/6, 0.5)(x): graph.Act{HardSwish}.
// Two other values: graph.Mul.
func (im *importer) mulDiv() ([]*ref, error) {
	x, c, cFirst, both, err := im.operands()
	if err != nil {
		return nil, err
	}
	div := im.node.opType == "Div"
	if both {
		if div {
			return nil, im.errf(ErrUnsupported, "division of two computed values")
		}
		a, _ := im.variable(0)
		b, _ := im.variable(1)
		if v, ok, err := im.hardSwish(a, b); ok || err != nil {
			return vref(v), err
		}
		if v, ok, err := im.hardSwish(b, a); ok || err != nil {
			return vref(v), err
		}
		// graph.Mul broadcasts its second input: put the smaller one there.
		if graph.Numel(im.shape(a)) < graph.Numel(im.shape(b)) {
			a, b = b, a
		}
		v, err := im.add(&graph.Mul{}, a, b)
		return vref(v), err
	}
	if div && cFirst {
		return nil, im.errf(ErrUnsupported, "division of a constant by a computed value")
	}
	vals := c.floats()
	if s, ok := c.scalar(); ok && (len(c.shape) <= len(im.shape(x))+1) {
		if div {
			if s == 0 {
				return nil, im.errf(ErrUnsupported, "division by zero")
			}
			s = 1 / s
		}
		v, err := im.scale(x, s)
		return vref(v), err
	}
	xs := im.shape(x)
	if !channelConst(c, xs) {
		return nil, im.errf(ErrUnsupported, "multiplication of %v by a constant of shape %v (only scalars and per-channel constants)", xs, c.shape)
	}
	ch := xs[0]
	bn := &graph.BatchNorm{Scale: graph.NewTensor(ch), Shift: graph.NewTensor(ch), Mean: graph.NewTensor(ch), Var: graph.NewTensor(ch)}
	for k := range ch {
		f := vals[k]
		if div {
			f = 1 / f
		}
		bn.Scale.Data[k], bn.Var.Data[k] = f, 1
	}
	v, err := im.add(bn, x)
	return vref(v), err
}

// hardSwish recognises x * g where g = HardSigmoid(1/6, 0.5)(x), possibly
// scaled: the result is HardSwish(x), scaled alike.
func (im *importer) hardSwish(x, g int) (int, bool, error) {
	p := im.prod[g]
	factor := 1.0
	if p != nil {
		if s, ok := p.Op.(*graph.Scale); ok {
			factor = float64(s.Factor)
			p = im.prod[p.Inputs[0]]
		}
	}
	if p == nil || p.Inputs[0] != x {
		return -1, false, nil
	}
	a, ok := p.Op.(*graph.Act)
	if !ok || a.Act.Kind != graph.ActHardSigmoid || math.Abs(float64(a.Act.Slope)-1.0/6) > 1e-6 || math.Abs(float64(a.Act.Offset)-0.5) > 1e-6 {
		return -1, false, nil
	}
	v, err := im.add(&graph.Act{Act: graph.HardSwish}, x)
	if err != nil {
		return -1, true, err
	}
	v, err = im.scale(v, factor)
	return v, true, err
}

// addSub handles Add and Sub with a constant: per channel (or scalar) it is
// graph.BiasAdd, or the bias of a MatMul-made FC.
func (im *importer) addSub() ([]*ref, error) {
	x, c, cFirst, both, err := im.operands()
	if err != nil {
		return nil, err
	}
	if both {
		return nil, im.errf(ErrUnsupported, "%s of two computed values (residual connections are not supported)", im.node.opType)
	}
	sub := im.node.opType == "Sub"
	if sub && cFirst {
		return nil, im.errf(ErrUnsupported, "subtraction of a computed value from a constant")
	}
	xs := im.shape(x)
	vals := slices.Clone(c.floats())
	if sub {
		for k := range vals {
			vals[k] = -vals[k]
		}
	}
	scalar := c.numel() == 1 && len(c.shape) <= len(xs)+1
	if !scalar && !channelConst(c, xs) {
		return nil, im.errf(ErrUnsupported, "addition of a constant of shape %v to %v (only scalars and per-channel constants)", c.shape, xs)
	}
	bias := graph.NewTensor(xs[0])
	for k := range bias.Data {
		if scalar {
			bias.Data[k] = vals[0]
		} else {
			bias.Data[k] = vals[k]
		}
	}
	// MatMul + Add bias -> one FC.
	if p := im.prod[x]; p != nil {
		if fc, ok := p.Op.(*graph.FC); ok && fc.Bias == nil && fc.Act.Kind == graph.ActNone {
			nfc := *fc
			nfc.Bias = bias
			v, err := im.add(&nfc, p.Inputs[0])
			return vref(v), err
		}
	}
	v, err := im.add(&graph.BiasAdd{Bias: bias}, x)
	if err != nil {
		return nil, err
	}
	if scalar {
		af, ok := im.aff[x]
		if !ok {
			af = affine{src: x, a: 1}
		}
		im.aff[v] = affine{src: af.src, a: af.a, b: af.b + float64(vals[0])}
	}
	return vref(v), nil
}

// --- pooling ---

func (im *importer) gap(x int) ([]*ref, error) {
	if len(im.shape(x)) != 3 {
		return nil, im.errf(ErrUnsupported, "pooling of a %v value", im.shape(x))
	}
	v, err := im.add(&graph.GlobalAvgPool{}, x)
	return vref(v), err
}

// averagePool accepts an AveragePool whose window covers the whole input.
func (im *importer) averagePool() ([]*ref, error) {
	x, err := im.unary()
	if err != nil {
		return nil, err
	}
	xs := im.shape(x)
	ks, _, err := im.attrInts("kernel_shape", nil)
	if err != nil {
		return nil, err
	}
	pads, _, err := im.attrInts("pads", []int64{0, 0, 0, 0})
	if err != nil {
		return nil, err
	}
	ap, err := im.attrString("auto_pad", "NOTSET")
	if err != nil {
		return nil, err
	}
	if len(xs) != 3 || len(ks) != 2 || ks[0] != int64(xs[1]) || ks[1] != int64(xs[2]) || slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) ||
		(ap != "NOTSET" && ap != "VALID" && ap != "") {
		return nil, im.errf(ErrUnsupported, "average pool with kernel %v, pads %v on %v (only a window covering the whole input)", ks, pads, xs)
	}
	return im.gap(x)
}

// reduceMean accepts a mean over H and W.
func (im *importer) reduceMean() ([]*ref, error) {
	if err := im.needInputs(1, 2); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	axes, _, err := im.attrInts("axes", nil)
	if err != nil {
		return nil, err
	}
	if c, err := im.constant(1, true); err != nil {
		return nil, err
	} else if c != nil {
		if axes, err = c.ints(); err != nil {
			return nil, im.errf(ErrFormat, "axes: %v", err)
		}
	}
	keep, err := im.attrInt("keepdims", 1)
	if err != nil {
		return nil, err
	}
	xs := im.shape(x)
	norm := normAxes(axes, len(xs)+1)
	slices.Sort(norm)
	if len(xs) != 3 || !slices.Equal(norm, []int{2, 3}) {
		return nil, im.errf(ErrUnsupported, "mean over axes %v of %v (only over H and W)", axes, xs)
	}
	r, err := im.gap(x)
	if err != nil || keep != 0 {
		return r, err
	}
	v, err := im.add(&graph.Reshape{Shape: []int{xs[0]}}, r[0].v)
	return vref(v), err
}

func normAxes(axes []int64, rank int) []int {
	out := make([]int, len(axes))
	for k, a := range axes {
		if a < 0 {
			a += int64(rank)
		}
		if a < 0 || a >= int64(rank) {
			return nil
		}
		out[k] = int(a)
	}
	return out
}

// --- shapes ---

// reshapeTo emits a graph.Reshape to the per-sample shape s (or nothing if
// it is already s).
func (im *importer) reshapeTo(x int, s []int) ([]*ref, error) {
	if slices.Equal(im.shape(x), s) {
		return vref(x), nil
	}
	v, err := im.add(&graph.Reshape{Shape: s}, x)
	return vref(v), err
}

func (im *importer) reshape() ([]*ref, error) {
	var target []int64
	if im.opset < 5 {
		t, _, err := im.attrInts("shape", nil)
		if err != nil {
			return nil, err
		}
		target = t
	} else {
		if err := im.needInputs(2, 2); err != nil {
			return nil, err
		}
		c, err := im.constant(1, false)
		if err != nil {
			return nil, im.errf(ErrUnsupported, "reshape target must be a constant (or a Shape/Gather/Concat chain): %v", err)
		}
		if target, err = c.ints(); err != nil || len(c.shape) != 1 {
			return nil, im.errf(ErrFormat, "reshape target of shape %v: %v", c.shape, err)
		}
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	if az, _ := im.attrInt("allowzero", 0); az != 0 && slices.Contains(target, 0) {
		return nil, im.errf(ErrUnsupported, "allowzero=1 with a zero dimension")
	}
	xs := im.shape(x)
	if len(target) < 1 || len(target) > maxRank {
		return nil, im.errf(ErrUnsupported, "reshape to %v", target)
	}
	n := graph.Numel(xs)
	out := make([]int, len(target)-1)
	for k, d := range target[1:] {
		switch {
		case d == 0:
			if k+1 >= len(xs)+1 {
				return nil, im.errf(ErrFormat, "reshape target %v copies a missing dimension", target)
			}
			out[k] = xs[k]
		case d == -1:
			out[k] = -1
		case d > 0 && d <= int64(n):
			out[k] = int(d)
		default:
			return nil, im.errf(ErrUnsupported, "reshape target %v for %v", target, xs)
		}
	}
	switch b := target[0]; {
	case b == 0 || b == batchMark:
	case b == -1:
		if slices.Contains(out, -1) {
			return nil, im.errf(ErrUnsupported, "reshape target %v leaves the batch dimension ambiguous", target)
		}
	case b == 1: // a model exported with batch 1: keep the batch
	default:
		return nil, im.errf(ErrUnsupported, "reshape target %v changes the batch dimension", target)
	}
	for _, d := range target[1:] {
		if d == batchMark {
			return nil, im.errf(ErrUnsupported, "reshape target %v moves the batch dimension", target)
		}
	}
	// Resolve -1 here so the graph holds a concrete shape.
	known, free := 1, -1
	for k, d := range out {
		if d == -1 {
			if free >= 0 {
				return nil, im.errf(ErrFormat, "reshape target %v has two -1", target)
			}
			free = k
			continue
		}
		known *= d
	}
	if free >= 0 && known > 0 && n%known == 0 {
		out[free] = n / known
	}
	return im.reshapeTo(x, out)
}

func (im *importer) flatten() ([]*ref, error) {
	x, err := im.unary()
	if err != nil {
		return nil, err
	}
	axis, err := im.attrInt("axis", 1)
	if err != nil {
		return nil, err
	}
	rank := int64(len(im.shape(x)) + 1)
	if axis < 0 {
		axis += rank
	}
	if axis != 1 {
		return nil, im.errf(ErrUnsupported, "flatten with axis %d (only 1)", axis)
	}
	return im.reshapeTo(x, []int{graph.Numel(im.shape(x))})
}

// squeezeAxes reads axes from the attribute (opset < 13) or input 1.
func (im *importer) squeezeAxes() ([]int64, bool, error) {
	if im.opset < 13 {
		a, ok, err := im.attrInts("axes", nil)
		return a, ok, err
	}
	c, err := im.constant(1, true)
	if err != nil || c == nil {
		return nil, false, err
	}
	a, err := c.ints()
	if err != nil {
		return nil, false, im.errf(ErrFormat, "axes: %v", err)
	}
	return a, true, nil
}

// squeezeShape applies Squeeze/Unsqueeze to a full shape.
func squeezeShape(full []int, axes []int64, has, unsqueeze bool) ([]int, bool) {
	if unsqueeze {
		rank := len(full) + len(axes)
		norm := normAxes(axes, rank)
		if norm == nil && len(axes) > 0 || !has || rank > maxRank {
			return nil, false
		}
		out := make([]int, 0, rank)
		src := 0
		for k := 0; k < rank; k++ {
			if slices.Contains(norm, k) {
				out = append(out, 1)
			} else if src < len(full) {
				out = append(out, full[src])
				src++
			}
		}
		return out, len(out) == rank && src == len(full)
	}
	norm := normAxes(axes, len(full))
	if norm == nil && len(axes) > 0 {
		return nil, false
	}
	var out []int
	for k, d := range full {
		drop := (!has && d == 1) || slices.Contains(norm, k)
		if drop && d != 1 {
			return nil, false
		}
		if !drop {
			out = append(out, d)
		}
	}
	return out, true
}

func (im *importer) squeeze(unsqueeze bool) ([]*ref, error) {
	if err := im.needInputs(1, 2); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	axes, has, err := im.squeezeAxes()
	if err != nil {
		return nil, err
	}
	full := append([]int{-1}, im.shape(x)...)
	if !unsqueeze && !has {
		// Without axes, every unit dimension goes; the batch stays.
		s, _ := squeezeShape(full[1:], nil, false, false)
		return im.reshapeTo(x, s)
	}
	out, ok := squeezeShape(full, axes, has, unsqueeze)
	if !ok || len(out) == 0 || out[0] != -1 || slices.Contains(out[1:], -1) {
		return nil, im.errf(ErrUnsupported, "%s of axes %v on %v (only unit dimensions, never the batch)", im.node.opType, axes, im.shape(x))
	}
	return im.reshapeTo(x, out[1:])
}

// --- dense layers ---

func (im *importer) flatInput(x int) (int, error) {
	xs := im.shape(x)
	if len(xs) == 1 {
		return xs[0], nil
	}
	return -1, im.errf(ErrUnsupported, "input of shape %v; want [N, K]", append([]int{-1}, xs...))
}

func (im *importer) matMul() ([]*ref, error) {
	if err := im.needInputs(2, 2); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	b, err := im.constant(1, false)
	if err != nil {
		return nil, err
	}
	k, err := im.flatInput(x)
	if err != nil {
		return nil, err
	}
	if len(b.shape) != 2 || b.shape[0] != k {
		return nil, im.errf(ErrUnsupported, "matmul of [N, %d] by a constant of shape %v", k, b.shape)
	}
	m := b.shape[1]
	w := graph.NewTensor(m, k)
	graph.Transpose(w.Data, b.floats(), k, m)
	v, err := im.add(&graph.FC{In: k, Out: m, Weight: w}, x)
	return vref(v), err
}

func (im *importer) gemm() ([]*ref, error) {
	if err := im.needInputs(2, 3); err != nil {
		return nil, err
	}
	x, err := im.variable(0)
	if err != nil {
		return nil, err
	}
	b, err := im.constant(1, false)
	if err != nil {
		return nil, err
	}
	c, err := im.constant(2, true)
	if err != nil {
		return nil, err
	}
	alpha, err := im.attrFloat("alpha", 1)
	if err != nil {
		return nil, err
	}
	beta, err := im.attrFloat("beta", 1)
	if err != nil {
		return nil, err
	}
	ta, err := im.attrInt("transA", 0)
	if err != nil {
		return nil, err
	}
	tb, err := im.attrInt("transB", 0)
	if err != nil {
		return nil, err
	}
	if ta != 0 {
		return nil, im.errf(ErrUnsupported, "transA=1")
	}
	k, err := im.flatInput(x)
	if err != nil {
		return nil, err
	}
	if len(b.shape) != 2 {
		return nil, im.errf(ErrFormat, "B of shape %v", b.shape)
	}
	m := b.shape[1]
	if tb != 0 {
		m = b.shape[0]
	}
	if b.shape[0]*b.shape[1] != k*m || (tb != 0 && b.shape[1] != k) || (tb == 0 && b.shape[0] != k) {
		return nil, im.errf(ErrFormat, "B of shape %v (transB=%d) for %d inputs", b.shape, tb, k)
	}
	var w *graph.Tensor
	switch {
	case tb != 0 && alpha == 1: // B is the [out, in] weight as it is
		w = b.tensor()
	case tb != 0:
		w = graph.NewTensor(m, k)
		for j, v := range b.floats() {
			w.Data[j] = alpha * v
		}
	default:
		w = graph.NewTensor(m, k)
		graph.Transpose(w.Data, b.floats(), k, m)
		if alpha != 1 {
			for j := range w.Data {
				w.Data[j] *= alpha
			}
		}
	}
	fc := &graph.FC{In: k, Out: m, Weight: w}
	if c != nil {
		cv := c.floats()
		if len(cv) != 1 && len(cv) != m {
			return nil, im.errf(ErrUnsupported, "C of shape %v for %d outputs", c.shape, m)
		}
		fc.Bias = graph.NewTensor(m)
		for o := range m {
			fc.Bias.Data[o] = beta * cv[min(o, len(cv)-1)]
		}
	}
	v, err := im.add(fc, x)
	return vref(v), err
}

func (im *importer) softmax() ([]*ref, error) {
	x, err := im.unary()
	if err != nil {
		return nil, err
	}
	def := int64(-1)
	if im.opset < 13 {
		def = 1
	}
	axis, err := im.attrInt("axis", def)
	if err != nil {
		return nil, err
	}
	if len(im.shape(x)) != 1 || (axis != 1 && axis != -1) {
		return nil, im.errf(ErrUnsupported, "softmax over axis %d of %v (only the last axis of [N, K])", axis, append([]int{-1}, im.shape(x)...))
	}
	v, err := im.add(&graph.Softmax{}, x)
	return vref(v), err
}

// --- constant subgraphs ---

// shapeOp evaluates Shape of a computed value; the batch dimension becomes
// batchMark, which only Reshape understands.
func (im *importer) shapeOp() ([]*ref, error) {
	x, err := im.unary()
	if err != nil {
		return nil, err
	}
	full := []int64{batchMark}
	for _, d := range im.shape(x) {
		full = append(full, int64(d))
	}
	start, err := im.attrInt("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := im.attrInt("end", int64(len(full)))
	if err != nil {
		return nil, err
	}
	r := int64(len(full))
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start, end = max(0, min(start, r)), max(0, min(end, r))
	if end < start {
		end = start
	}
	out := slices.Clone(full[start:end])
	return cref(&constT{shape: []int{len(out)}, i: out, isInt: true}), nil
}

// fold evaluates a node whose inputs are all constants. Only the ops that
// shape computations use are supported.
func (im *importer) fold() ([]*ref, error) {
	var cs []*constT
	for k := range im.node.inputs {
		c, err := im.constant(k, true)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 || cs[0] == nil {
		return nil, im.errf(ErrFormat, "missing input 0")
	}
	switch im.node.opType {
	case "Gather":
		if len(cs) != 2 || cs[1] == nil {
			return nil, im.errf(ErrFormat, "want 2 inputs")
		}
		axis, err := im.attrInt("axis", 0)
		if err != nil {
			return nil, err
		}
		data := cs[0]
		if len(data.shape) != 1 || (axis != 0 && axis != -1) || !data.isInt {
			return nil, im.errf(ErrUnsupported, "constant gather from shape %v on axis %d (only integer vectors)", data.shape, axis)
		}
		idx, err := cs[1].ints()
		if err != nil || len(cs[1].shape) > 1 {
			return nil, im.errf(ErrUnsupported, "gather indices of shape %v", cs[1].shape)
		}
		out := make([]int64, len(idx))
		for k, i := range idx {
			if i < 0 {
				i += int64(len(data.i))
			}
			if i < 0 || i >= int64(len(data.i)) {
				return nil, im.errf(ErrFormat, "gather index %d out of range", idx[k])
			}
			out[k] = data.i[i]
		}
		return cref(&constT{shape: slices.Clone(cs[1].shape), i: out, isInt: true}), nil
	case "Concat":
		var out []int64
		var fout []float32
		isInt := cs[0].isInt
		for _, c := range cs {
			if c == nil || len(c.shape) > 1 || c.isInt != isInt {
				return nil, im.errf(ErrUnsupported, "constant concat of anything but vectors of one type")
			}
			out = append(out, c.i...)
			fout = append(fout, c.f...)
			if len(out)+len(fout) > im.opt.MaxElements {
				return nil, im.errf(ErrTooLarge, "concat result")
			}
		}
		n := len(out) + len(fout)
		return cref(&constT{shape: []int{n}, i: out, f: fout, isInt: isInt}), nil
	case "Squeeze", "Unsqueeze", "Reshape", "Flatten":
		return im.foldReshape(cs)
	case "Mul", "Add", "Sub", "Div":
		return im.foldArith(cs)
	}
	return nil, im.errf(ErrUnsupported, "operator %s on constants", im.node.opType)
}

func (im *importer) foldReshape(cs []*constT) ([]*ref, error) {
	c := cs[0]
	n := c.numel()
	var shape []int
	switch im.node.opType {
	case "Flatten":
		shape = []int{n}
		if len(c.shape) > 0 {
			shape = []int{c.shape[0], n / max(1, c.shape[0])}
		}
	case "Squeeze", "Unsqueeze":
		axes, has, err := im.squeezeAxes()
		if err != nil {
			return nil, err
		}
		s, ok := squeezeShape(c.shape, axes, has, im.node.opType == "Unsqueeze")
		if !ok {
			return nil, im.errf(ErrUnsupported, "%s of axes %v on a constant of shape %v", im.node.opType, axes, c.shape)
		}
		shape = s
	default:
		return nil, im.errf(ErrUnsupported, "reshape of a constant")
	}
	out := *c
	out.shape = shape
	return cref(&out), nil
}

// foldArith evaluates element-wise arithmetic on constants of the same
// shape or with a scalar operand.
func (im *importer) foldArith(cs []*constT) ([]*ref, error) {
	if len(cs) != 2 || cs[1] == nil {
		return nil, im.errf(ErrFormat, "want 2 inputs")
	}
	a, b := cs[0], cs[1]
	if a.numel() != b.numel() && a.numel() != 1 && b.numel() != 1 {
		return nil, im.errf(ErrUnsupported, "%s of constants of shapes %v and %v", im.node.opType, a.shape, b.shape)
	}
	if slices.Contains(a.i, batchMark) || slices.Contains(b.i, batchMark) {
		return nil, im.errf(ErrUnsupported, "arithmetic on the symbolic batch dimension")
	}
	shape := a.shape
	n := a.numel()
	if b.numel() > n || (b.numel() == n && len(b.shape) > len(a.shape)) {
		shape, n = b.shape, b.numel()
	}
	af, bf := a.floats(), b.floats()
	out := make([]float32, n)
	for k := range out {
		x, y := af[min(k, len(af)-1)], bf[min(k, len(bf)-1)]
		switch im.node.opType {
		case "Mul":
			out[k] = x * y
		case "Add":
			out[k] = x + y
		case "Sub":
			out[k] = x - y
		case "Div":
			out[k] = x / y
		}
	}
	c := &constT{shape: slices.Clone(shape), f: out}
	if a.isInt && b.isInt {
		c.isInt, c.f, c.i = true, nil, make([]int64, n)
		for k := range out {
			x, y := a.i[min(k, len(a.i)-1)], b.i[min(k, len(b.i)-1)]
			switch im.node.opType {
			case "Mul":
				c.i[k] = x * y
			case "Add":
				c.i[k] = x + y
			case "Sub":
				c.i[k] = x - y
			case "Div":
				if y == 0 {
					return nil, im.errf(ErrFormat, "integer division by zero")
				}
				c.i[k] = x / y
			}
		}
	}
	return cref(c), nil
}
