package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lcnet-go/lcnet/graph"
)

// ExportOptions controls Export.
type ExportOptions struct {
	// Opset is the ai.onnx opset to target, 7–17; 0 means 13. Below 14
	// hardswish is written as x * HardSigmoid(1/6, 0.5)(x).
	Opset int
	// Producer is written as producer_name; "" means "lcnet".
	Producer string
	// Metadata is written as the model's metadata_props (key order sorted),
	// e.g. lcnet's int8 calibration table under "lcnet.int8".
	Metadata map[string]string
}

// DefaultExportOpset is the opset Export writes when none is given.
const DefaultExportOpset = 13

// irVersion is the lowest IR version that carries the opset.
func irVersion(opset int) int64 {
	switch {
	case opset <= 8:
		return 3
	case opset == 9:
		return 4
	case opset == 10:
		return 5
	case opset == 11:
		return 6
	case opset <= 14:
		return 7
	}
	return 8
}

// exporter accumulates encoded NodeProtos and TensorProtos.
type exporter struct {
	opset int
	nodes [][]byte
	inits [][]byte
	// initInfo lists initializers as graph inputs, as IR < 4 requires.
	initInfo [][]byte
	names    map[string]bool
	tmp      int
}

// Export writes g as an ONNX model. The batch dimension is dynamic and
// named "N"; the input keeps its name, the output is called "output" unless
// the graph names it. Squeeze-excite nodes are written as their ops.
func Export(g *graph.Graph, w io.Writer, opt ExportOptions) error {
	if opt.Opset == 0 {
		opt.Opset = DefaultExportOpset
	}
	if opt.Opset < MinOpset || opt.Opset > MaxOpset {
		return fmt.Errorf("onnx: export opset %d (supported: %d–%d)", opt.Opset, MinOpset, MaxOpset)
	}
	if opt.Producer == "" {
		opt.Producer = "lcnet"
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("onnx: export: %w", err)
	}
	e := &exporter{opset: opt.Opset, names: map[string]bool{}}
	vname := make([]string, len(g.Values))
	uniq := func(s string) string {
		if s == "" {
			s = "v"
		}
		n := s
		for k := 1; e.names[n]; k++ {
			n = s + "_" + strconv.Itoa(k)
		}
		e.names[n] = true
		return n
	}
	vname[g.Input] = uniq(g.Values[g.Input].Name)
	for _, n := range g.Nodes {
		vname[n.Output] = uniq(g.Values[n.Output].Name)
	}
	for _, n := range g.Nodes {
		ins := make([]string, len(n.Inputs))
		for k, v := range n.Inputs {
			ins[k] = vname[v]
		}
		shapes := make([][]int, len(n.Inputs))
		for k, v := range n.Inputs {
			shapes[k] = g.Values[v].Shape
		}
		if err := e.node(n, ins, shapes, vname[n.Output]); err != nil {
			return fmt.Errorf("onnx: export node %q (%s): %w", n.Name, n.Op.Type(), err)
		}
	}
	var gb []byte
	for _, nb := range e.nodes {
		gb = appendBytes(gb, 1, nb)
	}
	gb = appendString(gb, 2, g.Name)
	for _, tb := range e.inits {
		gb = appendBytes(gb, 5, tb)
	}
	gb = appendBytes(gb, 11, valueInfo(vname[g.Input], g.InputShape()))
	if irVersion(opt.Opset) < 4 {
		for _, vi := range e.initInfo {
			gb = appendBytes(gb, 11, vi)
		}
	}
	gb = appendBytes(gb, 12, valueInfo(vname[g.Output], g.OutputShape()))
	var mb []byte
	mb = protowire.AppendTag(mb, 1, protowire.VarintType)
	mb = protowire.AppendVarint(mb, uint64(irVersion(opt.Opset)))
	mb = appendString(mb, 2, opt.Producer)
	mb = appendBytes(mb, 7, gb)
	var ob []byte
	ob = appendString(ob, 1, "")
	ob = protowire.AppendTag(ob, 2, protowire.VarintType)
	ob = protowire.AppendVarint(ob, uint64(opt.Opset))
	mb = appendBytes(mb, 8, ob)
	keys := make([]string, 0, len(opt.Metadata))
	for k := range opt.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var eb []byte
		eb = appendString(eb, 1, k)
		eb = appendString(eb, 2, opt.Metadata[k])
		mb = appendBytes(mb, 14, eb)
	}
	if _, err := w.Write(mb); err != nil {
		return fmt.Errorf("onnx: export: %w", err)
	}
	return nil
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// valueInfo encodes a float tensor value [N, shape...] with N symbolic.
func valueInfo(name string, shape []int) []byte {
	return valueInfoTyped(name, dtFloat, true, shape)
}

// valueInfoTyped encodes a tensor value, with a leading symbolic N if batch.
func valueInfoTyped(name string, dt int64, batch bool, shape []int) []byte {
	var sb []byte
	if batch {
		sb = appendBytes(sb, 1, appendString(nil, 2, "N"))
	}
	for _, d := range shape {
		var db []byte
		db = protowire.AppendTag(db, 1, protowire.VarintType)
		db = protowire.AppendVarint(db, uint64(d))
		sb = appendBytes(sb, 1, db)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(dt))
	tt = appendBytes(tt, 2, sb)
	var vb []byte
	vb = appendString(vb, 1, name)
	vb = appendBytes(vb, 2, appendBytes(nil, 1, tt))
	return vb
}

type attr struct {
	name   string
	typ    int64
	i      int64
	f      float32
	ints   []int64
	hasInt bool
}

func aInt(name string, v int64) attr     { return attr{name: name, typ: atInt, i: v} }
func aFloat(name string, v float32) attr { return attr{name: name, typ: atFloat, f: v} }
func aInts(name string, v ...int64) attr { return attr{name: name, typ: atInts, ints: v} }
func (a attr) encode() []byte {
	var b []byte
	b = appendString(b, 1, a.name)
	switch a.typ {
	case atInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case atFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case atInts:
		for _, v := range a.ints {
			b = protowire.AppendTag(b, 8, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(a.typ))
}

// emit adds a NodeProto.
func (e *exporter) emit(op, name string, ins []string, out string, attrs ...attr) {
	var b []byte
	for _, s := range ins {
		b = appendString(b, 1, s)
	}
	b = appendString(b, 2, out)
	b = appendString(b, 3, name)
	b = appendString(b, 4, op)
	for _, a := range attrs {
		b = appendBytes(b, 5, a.encode())
	}
	e.nodes = append(e.nodes, b)
}

// fresh returns an unused value name derived from base.
func (e *exporter) fresh(base string) string {
	for {
		e.tmp++
		n := base + "_" + strconv.Itoa(e.tmp)
		if !e.names[n] {
			e.names[n] = true
			return n
		}
	}
}

// floatInit adds a float initializer and returns its name.
func (e *exporter) floatInit(base string, data []float32, dims ...int) string {
	name := base
	if e.names[name] {
		name = e.fresh(base)
	}
	e.names[name] = true
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, dtFloat)
	b = appendString(b, 8, name)
	raw := make([]byte, 4*len(data))
	for k, v := range data {
		binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(v))
	}
	b = appendBytes(b, 9, raw)
	e.inits = append(e.inits, b)
	e.initInfo = append(e.initInfo, valueInfoTyped(name, dtFloat, false, dims))
	return name
}

func (e *exporter) int64Init(base string, data []int64) string {
	name := e.fresh(base)
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(len(data)))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, dtInt64)
	b = appendString(b, 8, name)
	raw := make([]byte, 8*len(data))
	for k, v := range data {
		binary.LittleEndian.PutUint64(raw[8*k:], uint64(v))
	}
	b = appendBytes(b, 9, raw)
	e.inits = append(e.inits, b)
	e.initInfo = append(e.initInfo, valueInfoTyped(name, dtInt64, false, []int{len(data)}))
	return name
}

// act writes activation a on in into out.
func (e *exporter) act(a graph.Activation, name, in, out string) error {
	switch a.Kind {
	case graph.ActNone:
		e.emit("Identity", name, []string{in}, out)
	case graph.ActReLU:
		e.emit("Relu", name, []string{in}, out)
	case graph.ActSigmoid:
		e.emit("Sigmoid", name, []string{in}, out)
	case graph.ActHardSigmoid:
		e.emit("HardSigmoid", name, []string{in}, out, aFloat("alpha", a.Slope), aFloat("beta", a.Offset))
	case graph.ActHardSwish:
		if e.opset >= 14 {
			e.emit("HardSwish", name, []string{in}, out)
			break
		}
		gate := e.fresh(name + "_hardsigmoid")
		e.emit("HardSigmoid", name+"_hardsigmoid", []string{in}, gate, aFloat("alpha", 1.0/6), aFloat("beta", 0.5))
		e.emit("Mul", name, []string{in, gate}, out)
	default:
		return fmt.Errorf("activation %v", a)
	}
	return nil
}

// withAct writes a linear op into out, or into a temporary followed by the
// fused activation.
func (e *exporter) withAct(a graph.Activation, name, out string, write func(dst string)) error {
	if a.Kind == graph.ActNone {
		write(out)
		return nil
	}
	tmp := e.fresh(name + "_linear")
	write(tmp)
	return e.act(a, name+"_act", tmp, out)
}

// channelShape is the broadcast shape of a per-channel constant on a value
// of per-sample shape s: [C,1,1] for [C,H,W], [C] for [C].
func channelShape(s []int) []int {
	out := []int{s[0]}
	for range s[1:] {
		out = append(out, 1)
	}
	return out
}

func (e *exporter) conv(c *graph.Conv2D, name, in, out string, bias bool) {
	ins := []string{in, e.floatInit(name+".weight", c.Weight.Data, c.Weight.Shape...)}
	if c.Bias != nil && bias {
		ins = append(ins, e.floatInit(name+".bias", c.Bias.Data, c.OutC))
	}
	dh, dw := c.Dilation()
	e.emit("Conv", name, ins, out,
		aInts("kernel_shape", int64(c.KH), int64(c.KW)), aInts("strides", int64(c.StrideH), int64(c.StrideW)),
		aInts("pads", int64(c.PadT), int64(c.PadL), int64(c.PadB), int64(c.PadR)),
		aInts("dilations", int64(dh), int64(dw)), aInt("group", int64(c.Groups)))
}

func (e *exporter) node(n *graph.Node, ins []string, shapes [][]int, out string) error {
	name := n.Name
	switch op := n.Op.(type) {
	case *graph.Conv2D:
		return e.withAct(op.Act, name, out, func(dst string) { e.conv(op, name, ins[0], dst, true) })
	case *graph.BatchNorm:
		c := op.Scale.Len()
		e.emit("BatchNormalization", name, []string{ins[0],
			e.floatInit(name+".weight", op.Scale.Data, c), e.floatInit(name+".bias", op.Shift.Data, c),
			e.floatInit(name+"._mean", op.Mean.Data, c), e.floatInit(name+"._variance", op.Var.Data, c)},
			out, aFloat("epsilon", op.Eps))
	case *graph.Act:
		return e.act(op.Act, name, ins[0], out)
	case *graph.GlobalAvgPool:
		e.emit("GlobalAveragePool", name, ins, out)
	case *graph.Mul:
		a, b := shapes[0], shapes[1]
		y := ins[1]
		if !graph.SameShape(a, b) && !graph.SameShape(channelShape(a), b) {
			// A per-channel [C] operand: reshape to [N, C, 1, 1].
			y = e.fresh(name + "_channels")
			e.emit("Reshape", name+"_channels", []string{ins[1], e.int64Init(name+"_shape", append([]int64{-1}, ints64(channelShape(a))...))}, y)
		}
		e.emit("Mul", name, []string{ins[0], y}, out)
	case *graph.BiasAdd:
		e.emit("Add", name, []string{ins[0], e.floatInit(name+".bias", op.Bias.Data, channelShape(shapes[0])...)}, out)
	case *graph.Scale:
		e.emit("Mul", name, []string{ins[0], e.floatInit(name+".factor", []float32{op.Factor})}, out)
	case *graph.Identity:
		e.emit("Identity", name, ins, out)
	case *graph.Reshape:
		s := n.Op.(*graph.Reshape)
		shape, err := s.InferShape(shapes)
		if err != nil {
			return err
		}
		if len(shape) == 1 {
			e.emit("Flatten", name, ins, out, aInt("axis", 1))
			break
		}
		e.emit("Reshape", name, []string{ins[0], e.int64Init(name+"_shape", append([]int64{-1}, ints64(shape)...))}, out)
	case *graph.FC:
		x := ins[0]
		if len(shapes[0]) != 1 {
			x = e.fresh(name + "_flat")
			e.emit("Flatten", name+"_flatten", ins, x, aInt("axis", 1))
		}
		bias := op.Bias
		if bias == nil && e.opset < 11 {
			bias = graph.NewTensor(op.Out)
		}
		return e.withAct(op.Act, name, out, func(dst string) {
			gi := []string{x, e.floatInit(name+".weight", op.Weight.Data, op.Out, op.In)}
			if bias != nil {
				gi = append(gi, e.floatInit(name+".bias", bias.Data, op.Out))
			}
			e.emit("Gemm", name, gi, dst, aInt("transB", 1))
		})
	case *graph.Softmax:
		axis := int64(-1)
		if e.opset < 13 {
			axis = 1
		}
		e.emit("Softmax", name, ins, out, aInt("axis", axis))
	case *graph.SE:
		return e.se(op, name, ins[0], out)
	default:
		return fmt.Errorf("op %s cannot be exported", n.Op.Type())
	}
	return nil
}

// se writes a squeeze-excite node as pool, two 1×1 convs with their
// activations, and the channel-wise multiply.
func (e *exporter) se(s *graph.SE, name, in, out string) error {
	pool := e.fresh(name + "_pool")
	e.emit("GlobalAveragePool", name+".avg_pool", []string{in}, pool)
	c1 := &graph.Conv2D{InC: s.C, OutC: s.Reduce, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1,
		Weight: &graph.Tensor{Shape: []int{s.Reduce, s.C, 1, 1}, Data: s.W1.Data}, Bias: s.B1, Act: s.Act}
	c2 := &graph.Conv2D{InC: s.Reduce, OutC: s.C, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1,
		Weight: &graph.Tensor{Shape: []int{s.C, s.Reduce, 1, 1}, Data: s.W2.Data}, Bias: s.B2, Act: s.Gate}
	mid := e.fresh(name + "_reduce")
	if err := e.withAct(c1.Act, name+".conv1", mid, func(dst string) { e.conv(c1, name+".conv1", pool, dst, true) }); err != nil {
		return err
	}
	gate := e.fresh(name + "_gate")
	if err := e.withAct(c2.Act, name+".conv2", gate, func(dst string) { e.conv(c2, name+".conv2", mid, dst, true) }); err != nil {
		return err
	}
	e.emit("Mul", name, []string{in, gate}, out)
	return nil
}

func ints64(s []int) []int64 {
	out := make([]int64, len(s))
	for k, v := range s {
		out[k] = int64(v)
	}
	return out
}
