package paddle

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lcnet-go/lcnet/graph"
)

// This file is a test-only exporter: it writes a graph built by package
// pplcnet as Paddle would export it, as a PIR program (JSON), as a
// ProgramDesc (protobuf) and as the .pdiparams blob, so that the importers
// can be checked by round trips.

// xop is one exported op, format-neutral; in names variables.
type xop struct {
	typ   string // pd_op name: conv2d, batch_norm_, add, dropout, ...
	in    []string
	out   string
	shape []int64 // output shape, batch -1
	attrs []xattr
}

type xattr struct {
	name string
	v    any // bool, int, int64 (a PIR i64 / legacy LONG), float32, float64, string, []int, []int64, []float32
}

type xparam struct {
	name string
	t    *graph.Tensor // Paddle layout
}

// xmodel is an exported graph: ops in order, the parameters and the
// input/output variables.
type xmodel struct {
	ops     []xop
	params  []xparam
	input   string
	inDims  []int64
	output  string
	outDims []int64
}

type exportOpts struct {
	pads4    bool   // write 4-value paddings
	packed   bool   // packed repeated fields in the ProgramDesc
	linear   string // legacy FC op: matmul_v2 (default), matmul or mul
	dynamic  bool   // declare H and W as -1
	noPersis bool   // PIR: write params without OA (not trainable)
}

func full(shape []int) []int64 {
	out := []int64{-1}
	for _, d := range shape {
		out = append(out, int64(d))
	}
	return out
}

// export turns g (not optimized) into Paddle ops the way paddle.jit.save
// would write PaddleClas's PP-LCNet.
func export(g *graph.Graph, o exportOpts) (*xmodel, error) {
	m := &xmodel{input: "x", inDims: full(g.InputShape())}
	if o.dynamic {
		m.inDims[2], m.inDims[3] = -1, -1
	}
	names := map[int]string{g.Input: "x"}
	counters := map[string]int{}
	next := func(prefix string) string {
		n := counters[prefix]
		counters[prefix]++
		return fmt.Sprintf("%s_%d", prefix, n)
	}
	tmp := 0
	vname := func(v int) string {
		if n, ok := names[v]; ok {
			return n
		}
		tmp++
		names[v] = fmt.Sprintf("tmp_%d", tmp)
		return names[v]
	}
	shape := func(v int) []int64 {
		s := full(g.Values[v].Shape)
		if o.dynamic && len(s) == 4 && s[2] > 1 {
			s[2], s[3] = -1, -1
		}
		return s
	}
	param := func(name string, t *graph.Tensor) string {
		m.params = append(m.params, xparam{name, t})
		return name
	}
	emit := func(op xop) { m.ops = append(m.ops, op) }
	for _, n := range g.Nodes {
		x := vname(n.Inputs[0])
		out := vname(n.Output)
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			base := next("conv2d")
			w := param(base+".w_0", op.Weight)
			typ := "conv2d"
			if op.Depthwise() {
				typ = "depthwise_conv2d"
			}
			var pads []int
			if o.pads4 {
				pads = []int{op.PadT, op.PadB, op.PadL, op.PadR}
			} else {
				pads = []int{op.PadT, op.PadL}
			}
			dh, dw := op.Dilation()
			conv := out
			if op.Bias != nil {
				conv = out + ".conv"
			}
			emit(xop{typ: typ, in: []string{x, w}, out: conv, shape: shape(n.Output), attrs: []xattr{
				{"strides", []int{op.StrideH, op.StrideW}}, {"paddings", pads}, {"padding_algorithm", "EXPLICIT"},
				{"dilations", []int{dh, dw}}, {"groups", op.Groups}, {"data_format", "NCHW"}}})
			if op.Bias != nil {
				b := param(base+".b_0", op.Bias)
				emit(xop{typ: "bias_add", in: []string{conv, b}, out: out, shape: shape(n.Output)})
			}
			if op.Act.Kind != graph.ActNone {
				return nil, fmt.Errorf("export: fused activation in %s", n.Name)
			}
		case *graph.BatchNorm:
			base := next("batch_norm2d")
			sc := param(base+".w_0", op.Scale)
			sh := param(base+".b_0", op.Shift)
			mean := param(base+".w_1", op.Mean)
			vr := param(base+".w_2", op.Var)
			emit(xop{typ: "batch_norm_", in: []string{x, mean, vr, sc, sh}, out: out, shape: shape(n.Output), attrs: []xattr{
				{"is_test", true}, {"momentum", float32(0.9)}, {"epsilon", op.Eps}, {"data_format", "NCHW"},
				{"use_global_stats", true}, {"trainable_statistics", false}}})
		case *graph.Act:
			var at []xattr
			typ := ""
			switch op.Act.Kind {
			case graph.ActHardSwish:
				typ = "hardswish"
			case graph.ActReLU:
				typ = "relu"
			case graph.ActSigmoid:
				typ = "sigmoid"
			case graph.ActHardSigmoid:
				typ = "hardsigmoid"
				at = []xattr{{"slope", op.Act.Slope}, {"offset", op.Act.Offset}}
			default:
				return nil, fmt.Errorf("export: activation %v", op.Act)
			}
			emit(xop{typ: typ, in: []string{x}, out: out, shape: shape(n.Output), attrs: at})
		case *graph.GlobalAvgPool:
			emit(xop{typ: "pool2d", in: []string{x}, out: out, shape: shape(n.Output), attrs: []xattr{
				{"kernel_size", []int64{1, 1}}, {"strides", []int{1, 1}}, {"paddings", []int{0, 0}}, {"ceil_mode", false},
				{"exclusive", true}, {"data_format", "NCHW"}, {"pooling_type", "avg"}, {"global_pooling", false},
				{"adaptive", true}, {"padding_algorithm", "EXPLICIT"}}})
		case *graph.Mul:
			emit(xop{typ: "multiply", in: []string{x, vname(n.Inputs[1])}, out: out, shape: shape(n.Output)})
		case *graph.Scale:
			emit(xop{typ: "dropout", in: []string{x}, out: out, shape: shape(n.Output), attrs: []xattr{
				{"p", float32(1 - op.Factor)}, {"is_test", true}, {"mode", "downgrade_in_infer"}, {"seed", 0}, {"fix_seed", false}}})
		case *graph.Reshape:
			in := g.Values[n.Inputs[0]].Shape
			if len(op.Shape) != 1 {
				return nil, fmt.Errorf("export: reshape to %v", op.Shape)
			}
			emit(xop{typ: "flatten", in: []string{x}, out: out, shape: shape(n.Output), attrs: []xattr{
				{"start_axis", 1}, {"stop_axis", len(in)}}})
		case *graph.FC:
			base := next("linear")
			wt := graph.NewTensor(op.In, op.Out) // Paddle [In, Out]
			for i := 0; i < op.In; i++ {
				for j := 0; j < op.Out; j++ {
					wt.Data[i*op.Out+j] = op.Weight.Data[j*op.In+i]
				}
			}
			w := param(base+".w_0", wt)
			mm := out
			if op.Bias != nil {
				mm = out + ".mm"
			}
			emit(xop{typ: "matmul", in: []string{x, w}, out: mm, shape: shape(n.Output), attrs: []xattr{
				{"transpose_x", false}, {"transpose_y", false}}})
			if op.Bias != nil {
				b := param(base+".b_0", op.Bias)
				emit(xop{typ: "fc_bias", in: []string{mm, b}, out: out, shape: shape(n.Output)})
			}
		case *graph.Softmax:
			emit(xop{typ: "softmax", in: []string{x}, out: out, shape: shape(n.Output), attrs: []xattr{{"axis", -1}}})
		default:
			return nil, fmt.Errorf("export: op %s", n.Op.Type())
		}
	}
	m.output = vname(g.Output)
	m.outDims = shape(g.Output)
	return m, nil
}

// pdiparams writes the parameter blob: records in bytewise name order.
func (m *xmodel) pdiparams(packed bool) []byte {
	ps := append([]xparam(nil), m.params...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
	var out []byte
	for _, p := range ps {
		out = appendRecord(out, p.t.Shape, p.t.Data, packed)
	}
	return out
}

func appendRecord(out []byte, shape []int, data []float32, packed bool) []byte {
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = binary.LittleEndian.AppendUint64(out, 0)
	out = binary.LittleEndian.AppendUint32(out, 0)
	desc := tensorDesc(dtFP32, shape, packed)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(desc)))
	out = append(out, desc...)
	for _, v := range data {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

func tensorDesc(dtype uint64, shape []int, packed bool) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, dtype)
	if packed {
		var p []byte
		for _, d := range shape {
			p = protowire.AppendVarint(p, uint64(int64(d)))
		}
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
		return b
	}
	for _, d := range shape {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(d)))
	}
	return b
}

// ---- PIR JSON ----

type jobj = map[string]any

func pirTensorType(dtype string, dims []int64) jobj {
	return jobj{"#": "0.t_dtensor", "D": []any{jobj{"#": dtype}, dims, "NCHW", []any{}, 0}}
}

func pirAttrJSON(v any) jobj {
	switch x := v.(type) {
	case bool:
		return jobj{"#": "0.a_bool", "D": x}
	case int:
		return jobj{"#": "0.a_i32", "D": x}
	case int64:
		return jobj{"#": "0.a_i64", "D": x}
	case float32:
		return jobj{"#": "0.a_f32", "D": float64(x)}
	case float64:
		return jobj{"#": "0.a_f64", "D": x}
	case string:
		return jobj{"#": "0.a_str", "D": x}
	case []int:
		l := []any{}
		for _, e := range x {
			l = append(l, pirAttrJSON(e))
		}
		return jobj{"#": "0.a_array", "D": l}
	case []int64:
		l := []any{}
		for _, e := range x {
			l = append(l, pirAttrJSON(e))
		}
		return jobj{"#": "0.a_array", "D": l}
	}
	panic(fmt.Sprintf("pirAttrJSON: %T", v))
}

// pir writes the model as a Paddle 3 PIR JSON program.
func (m *xmodel) pir(o exportOpts) []byte {
	ids := map[string]int{}
	nextID := 1
	id := func(name string) int {
		if v, ok := ids[name]; ok {
			return v
		}
		ids[name] = nextID
		nextID++
		return ids[name]
	}
	var ops []any
	for _, p := range m.params {
		dims := make([]int64, len(p.t.Shape))
		for i, d := range p.t.Shape {
			dims[i] = int64(d)
		}
		op := jobj{"#": "p", "A": []any{0, 1, 1, p.name}, "DA": []any{}, "QA": []any{},
			"O": jobj{"%": id(p.name), "TT": pirTensorType("0.t_f32", dims)}}
		if !o.noPersis {
			op["OA"] = []any{1, 0, 1}
		}
		ops = append(ops, op)
	}
	attrsJSON := func(as []xattr) []any {
		l := []any{}
		for _, a := range as {
			l = append(l, jobj{"N": a.name, "AT": pirAttrJSON(a.v)})
		}
		l = append(l, jobj{"N": "struct_name", "AT": jobj{"#": "0.a_str", "D": "/PPLCNet/Layer/"}})
		return l
	}
	constID := 0
	constant := func(typ string, a []any, dtype string, dims []int64) int {
		constID++
		name := fmt.Sprintf("const_%d", constID)
		ops = append(ops, jobj{"#": typ, "A": a, "I": []any{}, "O": []any{jobj{"%": id(name), "TT": pirTensorType(dtype, dims)}}})
		return ids[name]
	}
	intArray := func(v []int64) int {
		return constant("1.full_int_array", []any{
			jobj{"N": "value", "AT": pirAttrJSON(v)},
			jobj{"N": "dtype", "AT": jobj{"#": "1.a_dtype", "D": "int64"}},
			jobj{"N": "place", "AT": jobj{"#": "1.a_place", "D": []any{1, 0, ""}}},
		}, "0.t_i64", []int64{int64(len(v))})
	}
	ops = append(ops, jobj{"#": "1.data", "I": []any{}, "A": []any{
		jobj{"N": "name", "AT": jobj{"#": "0.a_str", "D": m.input}},
		jobj{"N": "shape", "AT": jobj{"#": "1.a_intarray", "D": m.inDims}},
		jobj{"N": "dtype", "AT": jobj{"#": "1.a_dtype", "D": "float32"}},
		jobj{"N": "place", "AT": jobj{"#": "1.a_place", "D": []any{0, 0, ""}}},
	}, "O": []any{jobj{"%": id(m.input), "TT": pirTensorType("0.t_f32", m.inDims)}}})
	ref := func(name string) jobj { return jobj{"%": id(name)} }
	for _, x := range m.ops {
		out := []any{jobj{"%": id(x.out), "TT": pirTensorType("0.t_f32", x.shape)}}
		var in []any
		for _, n := range x.in {
			in = append(in, ref(n))
		}
		as := x.attrs
		typ := "1." + x.typ
		switch x.typ {
		case "bias_add":
			// Paddle's Conv2D bias: reshape the [C] bias to [1,C,1,1] and add.
			shp := intArray([]int64{1, -1, 1, 1})
			c := x.shape[1]
			rs := x.out + ".bias"
			ops = append(ops, jobj{"#": "1.reshape", "A": attrsJSON(nil), "I": []any{ref(x.in[1]), jobj{"%": shp}},
				"O": []any{jobj{"%": id(rs), "TT": pirTensorType("0.t_f32", []int64{1, c, 1, 1})}}})
			typ, in = "1.add", []any{ref(x.in[0]), ref(rs)}
		case "fc_bias":
			typ = "1.add"
		case "batch_norm_":
			for i := 0; i < 5; i++ { // mean_out, variance_out, saved_mean, saved_variance, reserve_space
				out = append(out, jobj{"%": id(fmt.Sprintf("%s.extra%d", x.out, i)), "TT": pirTensorType("0.t_f32", []int64{x.shape[1]})})
			}
		case "pool2d":
			k := intArray(as[0].v.([]int64))
			in, as = append(in, jobj{"%": k}), as[1:]
		case "dropout":
			p := constant("1.full", []any{
				jobj{"N": "shape", "AT": jobj{"#": "1.a_intarray", "D": []int64{1}}},
				jobj{"N": "value", "AT": jobj{"#": "0.a_f64", "D": float64(as[0].v.(float32))}},
				jobj{"N": "dtype", "AT": jobj{"#": "1.a_dtype", "D": "float32"}},
			}, "0.t_f32", []int64{1})
			in, as = append(in, jobj{"%": 0}, jobj{"%": p}), as[1:]
			out = append(out, jobj{"%": id(x.out + ".mask"), "TT": pirTensorType("0.t_ui8", x.shape)})
		}
		ops = append(ops, jobj{"#": typ, "A": attrsJSON(as), "I": in, "O": out})
	}
	ops = append(ops, jobj{"#": "1.fetch", "A": []any{
		jobj{"N": "name", "AT": jobj{"#": "0.a_str", "D": "fetch_name_0"}},
		jobj{"N": "col", "AT": jobj{"#": "0.a_i32", "D": 0}},
	}, "I": []any{ref(m.output)}, "O": []any{jobj{"%": id("fetch"), "TT": pirTensorType("0.t_f32", m.outDims)}}})
	doc := jobj{"base_code": jobj{"magic": "pir", "trainable": true, "version": 1},
		"program": jobj{"regions": []any{jobj{"#": "region_0", "blocks": []any{jobj{"#": "block_0", "args": []any{}, "ops": ops}}}}}}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// ---- ProgramDesc ----

func pbString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func pbBytes(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func pbVarDesc(name string, vtype uint64, dims []int64, persistable, packed bool) []byte {
	var vt []byte
	vt = pbVarint(vt, 1, vtype)
	if vtype == vtLoDTensor {
		shape := make([]int, len(dims))
		for i, d := range dims {
			shape[i] = int(d)
		}
		lod := pbBytes(nil, 1, tensorDesc(dtFP32, shape, packed))
		lod = pbVarint(lod, 2, 0)
		vt = pbBytes(vt, 3, lod)
	}
	var v []byte
	v = pbString(v, 1, name)
	v = pbBytes(v, 2, vt)
	if persistable {
		v = pbVarint(v, 3, 1)
	}
	return v
}

func pbAttr(name string, v any, packed bool) []byte {
	var b []byte
	b = pbString(b, 1, name)
	ints := func(t uint64, num protowire.Number, vs []int64) {
		b = pbVarint(b, 2, t)
		if packed {
			var p []byte
			for _, e := range vs {
				p = protowire.AppendVarint(p, uint64(e))
			}
			b = pbBytes(b, num, p)
			return
		}
		for _, e := range vs {
			b = pbVarint(b, num, uint64(e))
		}
	}
	switch x := v.(type) {
	case bool:
		b = pbVarint(b, 2, atBoolean)
		v := uint64(0)
		if x {
			v = 1
		}
		b = pbVarint(b, 10, v)
	case int:
		b = pbVarint(b, 2, atInt)
		b = pbVarint(b, 3, uint64(int64(int32(x))))
	case int64:
		b = pbVarint(b, 2, atLong)
		b = pbVarint(b, 13, uint64(x))
	case float32:
		b = pbVarint(b, 2, atFloat)
		b = protowire.AppendTag(b, 4, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(x))
	case float64:
		b = pbVarint(b, 2, atFloat64)
		b = protowire.AppendTag(b, 19, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(x))
	case string:
		b = pbVarint(b, 2, atString)
		b = pbString(b, 5, x)
	case []int:
		vs := make([]int64, len(x))
		for i, e := range x {
			vs[i] = int64(int32(e))
		}
		ints(atInts, 6, vs)
	case []int64:
		ints(atLongs, 15, x)
	case []string:
		b = pbVarint(b, 2, atStrings)
		for _, s := range x {
			b = pbString(b, 8, s)
		}
	default:
		panic(fmt.Sprintf("pbAttr: %T", v))
	}
	return b
}

type pslot struct {
	name string
	args []string
}

func pbOpDesc(typ string, ins, outs []pslot, as []xattr, packed bool) []byte {
	var b []byte
	slot := func(num protowire.Number, s pslot) {
		var v []byte
		v = pbString(v, 1, s.name)
		for _, a := range s.args {
			v = pbString(v, 2, a)
		}
		b = pbBytes(b, num, v)
	}
	for _, s := range ins {
		slot(1, s)
	}
	for _, s := range outs {
		slot(2, s)
	}
	b = pbString(b, 3, typ)
	for _, a := range as {
		b = pbBytes(b, 4, pbAttr(a.name, a.v, packed))
	}
	// Every legacy op carries these bookkeeping attributes.
	b = pbBytes(b, 4, pbAttr("op_role", 0, packed))
	b = pbBytes(b, 4, pbAttr("op_callstack", []string{"  File \"x.py\", line 1"}, packed))
	return b
}

// program writes the model as a Paddle 2 ProgramDesc.
func (m *xmodel) program(o exportOpts) []byte {
	var vars, ops [][]byte
	declared := map[string]bool{}
	decl := func(name string, vtype uint64, dims []int64, persistable bool) {
		if declared[name] {
			return
		}
		declared[name] = true
		vars = append(vars, pbVarDesc(name, vtype, dims, persistable, o.packed))
	}
	decl("feed", vtFeedMinibatch, nil, true)
	decl("fetch", vtFetchList, nil, true)
	decl(m.input, vtLoDTensor, m.inDims, false)
	for _, p := range m.params {
		dims := make([]int64, len(p.t.Shape))
		for i, d := range p.t.Shape {
			dims[i] = int64(d)
		}
		decl(p.name, vtLoDTensor, dims, true)
	}
	op := func(typ string, ins, outs []pslot, as []xattr) {
		ops = append(ops, pbOpDesc(typ, ins, outs, as, o.packed))
	}
	op("feed", []pslot{{"X", []string{"feed"}}}, []pslot{{"Out", []string{m.input}}}, []xattr{{"col", 0}})
	for _, x := range m.ops {
		decl(x.out, vtLoDTensor, x.shape, false)
		X := []pslot{{"X", []string{x.in[0]}}}
		Out := []pslot{{"Out", []string{x.out}}}
		switch x.typ {
		case "conv2d", "depthwise_conv2d":
			op(x.typ, []pslot{{"Input", x.in[:1]}, {"Filter", x.in[1:2]}, {"Bias", nil}, {"ResidualData", nil}},
				[]pslot{{"Output", []string{x.out}}}, x.attrs)
		case "bias_add":
			op("elementwise_add", []pslot{{"X", x.in[:1]}, {"Y", x.in[1:2]}}, Out, []xattr{{"axis", 1}})
		case "fc_bias":
			op("elementwise_add", []pslot{{"X", x.in[:1]}, {"Y", x.in[1:2]}}, Out, []xattr{{"axis", -1}})
		case "batch_norm_":
			as := []xattr{{"data_layout", "NCHW"}}
			for _, a := range x.attrs {
				if a.name != "data_format" {
					as = append(as, a)
				}
			}
			decl(x.out+".saved_mean", vtLoDTensor, []int64{x.shape[1]}, false)
			decl(x.out+".saved_var", vtLoDTensor, []int64{x.shape[1]}, false)
			op("batch_norm", []pslot{{"X", x.in[:1]}, {"Mean", x.in[1:2]}, {"Variance", x.in[2:3]}, {"Scale", x.in[3:4]}, {"Bias", x.in[4:5]}},
				[]pslot{{"Y", []string{x.out}}, {"MeanOut", x.in[1:2]}, {"VarianceOut", x.in[2:3]},
					{"SavedMean", []string{x.out + ".saved_mean"}}, {"SavedVariance", []string{x.out + ".saved_var"}}, {"ReserveSpace", nil}}, as)
		case "hardswish":
			op("hard_swish", X, Out, []xattr{{"threshold", float32(6)}, {"scale", float32(6)}, {"offset", float32(3)}})
		case "relu", "sigmoid":
			op(x.typ, X, Out, nil)
		case "hardsigmoid":
			op("hard_sigmoid", X, Out, x.attrs)
		case "pool2d":
			k := x.attrs[0].v.([]int64)
			as := []xattr{{"ksize", []int{int(k[0]), int(k[1])}}}
			op("pool2d", X, Out, append(as, x.attrs[1:]...))
		case "multiply":
			op("elementwise_mul", []pslot{{"X", x.in[:1]}, {"Y", x.in[1:2]}}, Out, []xattr{{"axis", -1}})
		case "dropout":
			decl(x.out+".mask", vtLoDTensor, x.shape, false)
			op("dropout", []pslot{{"X", x.in[:1]}, {"Seed", nil}}, []pslot{{"Out", []string{x.out}}, {"Mask", []string{x.out + ".mask"}}},
				[]xattr{{"dropout_prob", x.attrs[0].v}, {"is_test", true}, {"dropout_implementation", "downgrade_in_infer"}, {"seed", 0}, {"fix_seed", false}})
		case "flatten":
			decl(x.out+".xshape", vtLoDTensor, []int64{0, -1, 1, 1}, false)
			op("flatten_contiguous_range", X, []pslot{{"Out", []string{x.out}}, {"XShape", []string{x.out + ".xshape"}}}, x.attrs)
		case "matmul":
			ins := []pslot{{"X", x.in[:1]}, {"Y", x.in[1:2]}}
			switch o.linear {
			case "mul":
				op("mul", ins, Out, []xattr{{"x_num_col_dims", 1}, {"y_num_col_dims", 1}})
			case "matmul":
				op("matmul", ins, Out, []xattr{{"transpose_X", false}, {"transpose_Y", false}, {"alpha", float32(1)}})
			default:
				op("matmul_v2", ins, Out, []xattr{{"trans_x", false}, {"trans_y", false}})
			}
		case "softmax":
			op("softmax", X, Out, x.attrs)
		default:
			panic("program: op " + x.typ)
		}
	}
	op("fetch", []pslot{{"X", []string{m.output}}}, []pslot{{"Out", []string{"fetch"}}}, []xattr{{"col", 0}})
	var blk []byte
	blk = pbVarint(blk, 1, 0)
	blk = pbVarint(blk, 2, uint64(math.MaxUint64)) // parent_idx -1
	for _, v := range vars {
		blk = pbBytes(blk, 3, v)
	}
	for _, op := range ops {
		blk = pbBytes(blk, 4, op)
	}
	blk = pbVarint(blk, 5, uint64(math.MaxUint64))
	var prog []byte
	prog = pbBytes(prog, 1, blk)
	prog = pbBytes(prog, 4, pbVarint(nil, 1, 0)) // version
	return prog
}

// mustExport exports g or fails the test.
func mustExport(t testing.TB, g *graph.Graph, o exportOpts) *xmodel {
	t.Helper()
	m, err := export(g, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tinyGraph is a small network using every op the exporter writes: a
// biased conv, batch norms, depthwise conv, squeeze-excite, dropout scale,
// flatten, FC and softmax, on a 3×8×8 input. It keeps fuzz seeds small.
func tinyGraph(t testing.TB) *graph.Graph {
	t.Helper()
	seed := uint32(1)
	rnd := func(shape ...int) *graph.Tensor {
		tt := graph.NewTensor(shape...)
		for i := range tt.Data {
			seed = seed*1664525 + 1013904223
			tt.Data[i] = float32(seed>>8)/float32(1<<24) - 0.5
		}
		return tt
	}
	pos := func(n int) *graph.Tensor {
		tt := rnd(n)
		for i := range tt.Data {
			tt.Data[i] += 1
		}
		return tt
	}
	bn := func(c int) *graph.BatchNorm {
		return &graph.BatchNorm{Scale: pos(c), Shift: rnd(c), Mean: rnd(c), Var: pos(c), Eps: 1e-5}
	}
	g := graph.New("tiny", "x", 3, 8, 8)
	add := func(name string, op graph.Op, in ...int) int {
		v, err := g.Add(name, op, in...)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	x := add("c1", &graph.Conv2D{InC: 3, OutC: 4, KH: 3, KW: 3, StrideH: 2, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Groups: 1, Weight: rnd(4, 3, 3, 3), Bias: rnd(4)}, g.Input)
	x = add("bn1", bn(4), x)
	x = add("hs1", &graph.Act{Act: graph.HardSwish}, x)
	x = add("dw", &graph.Conv2D{InC: 4, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Groups: 4, Weight: rnd(4, 1, 3, 3)}, x)
	x = add("bn2", bn(4), x)
	x = add("r2", &graph.Act{Act: graph.ReLU}, x)
	s := add("se.pool", &graph.GlobalAvgPool{}, x)
	s = add("se.c1", &graph.Conv2D{InC: 4, OutC: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: rnd(2, 4, 1, 1), Bias: rnd(2)}, s)
	s = add("se.r", &graph.Act{Act: graph.ReLU}, s)
	s = add("se.c2", &graph.Conv2D{InC: 2, OutC: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1, Weight: rnd(4, 2, 1, 1), Bias: rnd(4)}, s)
	s = add("se.hs", &graph.Act{Act: graph.HardSigmoid(1.0/6, 0.5)}, s)
	x = add("se.mul", &graph.Mul{}, x, s)
	x = add("pool", &graph.GlobalAvgPool{}, x)
	x = add("drop", &graph.Scale{Factor: 0.75}, x)
	x = add("flat", &graph.Reshape{Shape: []int{-1}}, x)
	x = add("fc", &graph.FC{In: 4, Out: 3, Weight: rnd(3, 4), Bias: rnd(3)}, x)
	add("sm", &graph.Softmax{}, x)
	return g
}
