package onnxtest

import "math"

// Attribute shorthands.
func F(name string, v float32) Attr   { return Attr{Name: name, Type: AFloat, F: v} }
func I(name string, v int64) Attr     { return Attr{Name: name, Type: AInt, I: v} }
func Is(name string, v ...int64) Attr { return Attr{Name: name, Type: AInts, Ints: v} }
func S(name, v string) Attr           { return Attr{Name: name, Type: AString, S: v} }
func T(name string, t *Tensor) Attr   { return Attr{Name: name, Type: ATensor, T: t} }
func N(op string, in []string, out string, attrs ...Attr) Node {
	return Node{Op: op, Name: op + "_" + out, In: in, Out: []string{out}, Attrs: attrs}
}

// Weights returns n deterministic values in about [-scale, scale].
func Weights(n int, seed int, scale float32) []float32 {
	w := make([]float32, n)
	for k := range w {
		w[k] = scale * float32(math.Sin(float64(seed)*12.9898+float64(k)*78.233))
	}
	return w
}

// FloatT and IntT build initializers.
func FloatT(name string, seed int, scale float32, dims ...int64) Tensor {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	return Tensor{Name: name, Dims: dims, Floats: Weights(n, seed, scale)}
}

func IntT(name string, v ...int64) Tensor {
	return Tensor{Name: name, Dims: []int64{int64(len(v))}, Int64s: v}
}

func ones(name string, v float32, n int64) Tensor {
	f := make([]float32, n)
	for k := range f {
		f[k] = v
	}
	return Tensor{Name: name, Dims: []int64{n}, Floats: f}
}

// Case is a synthetic model with its per-sample input shape.
type Case struct {
	Name    string
	Model   *Model
	InShape []int
}

// Cases are synthetic models that exercise the importer's operators and
// attribute defaults. Each has input "x" [N,4,9,8] and one output.
func Cases() []Case {
	in := []int64{0, 4, 9, 8}
	var cs []Case
	add := func(name string, m *Model) {
		m.Input, m.InDims = "x", in
		cs = append(cs, Case{name, m, []int{4, 9, 8}})
	}
	// 1: SAME_UPPER strided conv, default HardSigmoid (0.2, 0.5), GAP,
	// Flatten, Gemm with alpha/beta/transB=0, softmax with opset-11 axis.
	add("same_upper_gemm_opset11", &Model{Opset: 11, Output: "y", OutDims: []int64{0, 5},
		Inits: []Tensor{FloatT("w", 1, 0.5, 6, 4, 3, 3), FloatT("b", 2, 0.1, 6), FloatT("gw", 3, 0.5, 6, 5), FloatT("gc", 4, 0.2, 5)},
		Nodes: []Node{
			N("Conv", []string{"x", "w", "b"}, "c", S("auto_pad", "SAME_UPPER"), Is("strides", 2, 2)),
			N("HardSigmoid", []string{"c"}, "h"),
			N("GlobalAveragePool", []string{"h"}, "p"),
			N("Flatten", []string{"p"}, "f"),
			N("Gemm", []string{"f", "gw", "gc"}, "g", F("alpha", 0.5), F("beta", 2)),
			N("Softmax", []string{"g"}, "y"),
		}})
	// 2: SAME_LOWER even kernel, unfolded BN, opset-7 Clip
	// attributes in x*relu6(x+3)/6, ReduceMean keepdims=0, MatMul + Add.
	add("same_lower_bn_relu6_matmul_opset7", &Model{Opset: 7, Output: "y", OutDims: []int64{0, 3},
		Inits: []Tensor{FloatT("w", 5, 0.5, 6, 4, 2, 2), FloatT("s", 6, 0.5, 6), FloatT("sh", 7, 0.1, 6), FloatT("m", 8, 0.1, 6),
			ones("v", 0.7, 6), {Name: "three", Floats: []float32{3}}, {Name: "six", Floats: []float32{6}},
			FloatT("mw", 9, 0.5, 6, 3), FloatT("mb", 10, 0.2, 3)},
		Nodes: []Node{
			N("Conv", []string{"x", "w"}, "c", S("auto_pad", "SAME_LOWER")),
			N("BatchNormalization", []string{"c", "s", "sh", "m", "v"}, "bn", F("epsilon", 1e-3)),
			N("Add", []string{"bn", "three"}, "a"),
			N("Clip", []string{"a"}, "r6", F("min", 0), F("max", 6)),
			N("Mul", []string{"bn", "r6"}, "xr"),
			N("Div", []string{"xr", "six"}, "hs"),
			N("ReduceMean", []string{"hs"}, "rm", Is("axes", 2, 3), I("keepdims", 0)),
			N("MatMul", []string{"rm", "mw"}, "mm"),
			N("Add", []string{"mm", "mb"}, "y"),
		}})
	// 3: Shape/Gather/Unsqueeze/Concat/Reshape chain, Squeeze/Unsqueeze with
	// axes inputs, full-window AveragePool, per-channel Mul and Div, scalar
	// Sub, Sigmoid/Relu/Dropout/Identity, SE-style Mul, opset 13.
	add("shape_chain_se_opset13", &Model{Opset: 13, Output: "y", OutDims: []int64{0, 4},
		Inits: []Tensor{FloatT("pc", 11, 1, 1, 4, 1, 1), FloatT("dc", 12, 1, 4, 1, 1), {Name: "half", Floats: []float32{0.5}},
			FloatT("w1", 13, 0.5, 2, 4, 1, 1), FloatT("b1", 14, 0.1, 2), FloatT("w2", 15, 0.5, 4, 2, 1, 1), FloatT("b2", 16, 0.1, 4),
			{Name: "zero", Int64s: []int64{0}}, IntT("minus1", -1), IntT("ax0", 0), IntT("ax23", 2, 3)},
		Nodes: []Node{
			N("Mul", []string{"x", "pc"}, "m"),
			N("Div", []string{"m", "dc"}, "d"),
			N("Sub", []string{"d", "half"}, "s"),
			N("Relu", []string{"s"}, "r"),
			N("Dropout", []string{"r"}, "dr"),
			N("AveragePool", []string{"dr"}, "ap", Is("kernel_shape", 9, 8)),
			N("Conv", []string{"ap", "w1", "b1"}, "e1"),
			N("Relu", []string{"e1"}, "e1r"),
			N("Conv", []string{"e1r", "w2", "b2"}, "e2"),
			N("Sigmoid", []string{"e2"}, "gate"),
			N("Mul", []string{"gate", "dr"}, "se"),
			N("Identity", []string{"se"}, "id"),
			N("GlobalAveragePool", []string{"id"}, "gp"),
			N("Squeeze", []string{"gp", "ax23"}, "sq"),
			N("Unsqueeze", []string{"sq", "ax23"}, "us"),
			N("Shape", []string{"us"}, "shp"),
			N("Gather", []string{"shp", "zero"}, "n"),
			N("Unsqueeze", []string{"n", "ax0"}, "n1"),
			N("Concat", []string{"n1", "minus1"}, "tgt", I("axis", 0)),
			N("Reshape", []string{"us", "tgt"}, "y"),
		}})
	// 4: opset 17 HardSwish, (2,1)-strided, dilated depthwise conv with explicit
	// asymmetric pads, Clip with only a lower bound (ReLU), clip(x*a+b, 0, 1)
	// hardsigmoid from Constant nodes, Mul 0.8 from value_float.
	add("depthwise_hardswish_opset17", &Model{Opset: 17, Output: "y", OutDims: []int64{0, 4},
		Inits: []Tensor{FloatT("dw", 17, 0.5, 4, 1, 3, 3), {Name: "lo", Floats: []float32{0}}, {Name: "hi", Floats: []float32{1}},
			{Name: "slope", Floats: []float32{0.2}}, {Name: "off", Floats: []float32{0.5}}},
		Nodes: []Node{
			N("Conv", []string{"x", "dw"}, "c", I("group", 4), Is("strides", 2, 1), Is("pads", 1, 0, 2, 1), Is("kernel_shape", 3, 3), Is("dilations", 2, 1)),
			N("HardSwish", []string{"c"}, "hs"),
			N("Clip", []string{"hs", "lo"}, "rl"),
			N("Mul", []string{"rl", "slope"}, "a1"),
			N("Add", []string{"a1", "off"}, "a2"),
			N("Clip", []string{"a2", "lo", "hi"}, "hsig"),
			N("Constant", nil, "k", F("value_float", 0.8)),
			N("Mul", []string{"hsig", "k"}, "sc"),
			N("GlobalAveragePool", []string{"sc"}, "gp"),
			N("Flatten", []string{"gp"}, "y", I("axis", -3)),
		}})
	return cs
}
