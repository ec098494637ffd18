package onnx

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The subset of onnx.proto (IR 3–10) the importer reads, decoded by hand
// with protowire. Field numbers are onnx.proto's. Fields not listed here
// (docs, metadata, training info, functions, sparse initializers, subgraph
// attributes) are skipped without being decoded, so nesting depth is bounded
// by this file's structure, not by the input.

// ONNX TensorProto.DataType values.
const (
	dtFloat   = 1
	dtUint8   = 2
	dtInt8    = 3
	dtInt32   = 6
	dtInt64   = 7
	dtBool    = 9
	dtFloat16 = 10
	dtDouble  = 11
)

// ONNX AttributeProto.AttributeType values.
const (
	atFloat   = 1
	atInt     = 2
	atString  = 3
	atTensor  = 4
	atGraph   = 5
	atFloats  = 6
	atInts    = 7
	atStrings = 8
)

type pModel struct {
	irVersion int64
	producer  string
	opsets    map[string]int64 // domain -> version ("" is ai.onnx)
	graph     *pGraph
}

type pGraph struct {
	name        string
	nodes       []*pNode
	initializer []*pTensor
	inputs      []*pValueInfo
	outputs     []*pValueInfo
	hasSparse   bool
}

type pNode struct {
	inputs, outputs []string
	name, opType    string
	domain          string
	attrs           []*pAttr
}

type pAttr struct {
	name    string
	typ     int64
	f       float32
	i       int64
	s       []byte
	t       *pTensor
	floats  []float32
	ints    []int64
	hasG    bool
	hasRef  bool
	present map[int]bool
}

type pTensor struct {
	name     string
	dims     []int64
	dataType int64
	raw      []byte
	floats   []float32
	int32s   []int64 // int32_data (also holds int8/uint8/bool/float16 bits)
	int64s   []int64
	doubles  []float64
	external bool
	segment  bool
	hasRaw   bool
}

type pValueInfo struct {
	name     string
	elemType int64
	hasShape bool
	dims     []pDim
}

type pDim struct {
	value int64
	param string
	known bool
}

// decoder walks one message. Every read is bounds-checked by protowire.
type decoder struct {
	b   []byte
	msg string
}

func (d *decoder) err(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrFormat, d.msg, fmt.Sprintf(format, args...))
}

// next returns the next field, or num 0 at the end.
func (d *decoder) next() (protowire.Number, protowire.Type, error) {
	if len(d.b) == 0 {
		return 0, 0, nil
	}
	num, typ, n := protowire.ConsumeTag(d.b)
	if n < 0 {
		return 0, 0, d.err("bad field tag: %v", protowire.ParseError(n))
	}
	d.b = d.b[n:]
	return num, typ, nil
}

func (d *decoder) skip(num protowire.Number, typ protowire.Type) error {
	n := protowire.ConsumeFieldValue(num, typ, d.b)
	if n < 0 {
		return d.err("field %d: %v", num, protowire.ParseError(n))
	}
	d.b = d.b[n:]
	return nil
}

func (d *decoder) bytes(num protowire.Number, typ protowire.Type) ([]byte, error) {
	if typ != protowire.BytesType {
		return nil, d.err("field %d has wire type %d, want length-delimited", num, typ)
	}
	v, n := protowire.ConsumeBytes(d.b)
	if n < 0 {
		return nil, d.err("field %d: %v", num, protowire.ParseError(n))
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) str(num protowire.Number, typ protowire.Type) (string, error) {
	b, err := d.bytes(num, typ)
	return string(b), err
}

func (d *decoder) varint(num protowire.Number, typ protowire.Type) (int64, error) {
	if typ != protowire.VarintType {
		return 0, d.err("field %d has wire type %d, want varint", num, typ)
	}
	v, n := protowire.ConsumeVarint(d.b)
	if n < 0 {
		return 0, d.err("field %d: %v", num, protowire.ParseError(n))
	}
	d.b = d.b[n:]
	return int64(v), nil
}

func (d *decoder) float32(num protowire.Number, typ protowire.Type) (float32, error) {
	if typ != protowire.Fixed32Type {
		return 0, d.err("field %d has wire type %d, want fixed32", num, typ)
	}
	v, n := protowire.ConsumeFixed32(d.b)
	if n < 0 {
		return 0, d.err("field %d: %v", num, protowire.ParseError(n))
	}
	d.b = d.b[n:]
	return math.Float32frombits(v), nil
}

// varints appends a repeated varint field, packed or not.
func (d *decoder) varints(dst []int64, num protowire.Number, typ protowire.Type) ([]int64, error) {
	if typ == protowire.VarintType {
		v, err := d.varint(num, typ)
		return append(dst, v), err
	}
	b, err := d.bytes(num, typ)
	if err != nil {
		return nil, err
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, d.err("packed field %d: %v", num, protowire.ParseError(n))
		}
		dst = append(dst, int64(v))
		b = b[n:]
	}
	return dst, nil
}

// floats appends a repeated float field, packed or not. The packed length
// is checked before anything is allocated.
func (d *decoder) floats(dst []float32, num protowire.Number, typ protowire.Type) ([]float32, error) {
	if typ == protowire.Fixed32Type {
		v, err := d.float32(num, typ)
		return append(dst, v), err
	}
	b, err := d.bytes(num, typ)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, d.err("packed float field %d has %d bytes", num, len(b))
	}
	if dst == nil {
		dst = make([]float32, 0, len(b)/4)
	}
	for i := 0; i < len(b); i += 4 {
		dst = append(dst, math.Float32frombits(uint32(b[i])|uint32(b[i+1])<<8|uint32(b[i+2])<<16|uint32(b[i+3])<<24))
	}
	return dst, nil
}

func (d *decoder) doubles(dst []float64, num protowire.Number, typ protowire.Type) ([]float64, error) {
	if typ == protowire.Fixed64Type {
		v, n := protowire.ConsumeFixed64(d.b)
		if n < 0 {
			return nil, d.err("field %d: %v", num, protowire.ParseError(n))
		}
		d.b = d.b[n:]
		return append(dst, math.Float64frombits(v)), nil
	}
	b, err := d.bytes(num, typ)
	if err != nil {
		return nil, err
	}
	if len(b)%8 != 0 {
		return nil, d.err("packed double field %d has %d bytes", num, len(b))
	}
	for i := 0; i < len(b); i += 8 {
		v, _ := protowire.ConsumeFixed64(b[i:])
		dst = append(dst, math.Float64frombits(v))
	}
	return dst, nil
}

func decodeModel(b []byte) (*pModel, error) {
	m := &pModel{opsets: map[string]int64{}}
	d := &decoder{b: b, msg: "model"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		switch num {
		case 0:
			return m, nil
		case 1:
			if m.irVersion, err = d.varint(num, typ); err != nil {
				return nil, err
			}
		case 2:
			if m.producer, err = d.str(num, typ); err != nil {
				return nil, err
			}
		case 7:
			gb, err := d.bytes(num, typ)
			if err != nil {
				return nil, err
			}
			if m.graph != nil {
				return nil, d.err("more than one graph")
			}
			if m.graph, err = decodeGraph(gb); err != nil {
				return nil, err
			}
		case 8:
			ob, err := d.bytes(num, typ)
			if err != nil {
				return nil, err
			}
			dom, ver, err := decodeOpset(ob)
			if err != nil {
				return nil, err
			}
			m.opsets[dom] = ver
		default:
			if err := d.skip(num, typ); err != nil {
				return nil, err
			}
		}
	}
}

func decodeOpset(b []byte) (string, int64, error) {
	d := &decoder{b: b, msg: "opset_import"}
	var dom string
	var ver int64
	for {
		num, typ, err := d.next()
		if err != nil {
			return "", 0, err
		}
		switch num {
		case 0:
			return dom, ver, nil
		case 1:
			dom, err = d.str(num, typ)
		case 2:
			ver, err = d.varint(num, typ)
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return "", 0, err
		}
	}
}

func decodeGraph(b []byte) (*pGraph, error) {
	g := &pGraph{}
	d := &decoder{b: b, msg: "graph"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		if num == 0 {
			return g, nil
		}
		if num == 15 {
			g.hasSparse = true
		}
		switch num {
		case 1, 5, 11, 12:
			sb, err := d.bytes(num, typ)
			if err != nil {
				return nil, err
			}
			switch num {
			case 1:
				n, err := decodeNode(sb)
				if err != nil {
					return nil, fmt.Errorf("node %d: %w", len(g.nodes), err)
				}
				g.nodes = append(g.nodes, n)
			case 5:
				t, err := decodeTensor(sb)
				if err != nil {
					return nil, fmt.Errorf("initializer %d: %w", len(g.initializer), err)
				}
				g.initializer = append(g.initializer, t)
			case 11, 12:
				v, err := decodeValueInfo(sb)
				if err != nil {
					return nil, err
				}
				if num == 11 {
					g.inputs = append(g.inputs, v)
				} else {
					g.outputs = append(g.outputs, v)
				}
			}
		case 2:
			if g.name, err = d.str(num, typ); err != nil {
				return nil, err
			}
		default:
			if err := d.skip(num, typ); err != nil {
				return nil, err
			}
		}
	}
}

func decodeNode(b []byte) (*pNode, error) {
	n := &pNode{}
	d := &decoder{b: b, msg: "node"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		var s string
		switch num {
		case 0:
			return n, nil
		case 1, 2, 3, 4, 7:
			if s, err = d.str(num, typ); err != nil {
				return nil, err
			}
			switch num {
			case 1:
				n.inputs = append(n.inputs, s)
			case 2:
				n.outputs = append(n.outputs, s)
			case 3:
				n.name = s
			case 4:
				n.opType = s
			case 7:
				n.domain = s
			}
		case 5:
			ab, err := d.bytes(num, typ)
			if err != nil {
				return nil, err
			}
			a, err := decodeAttr(ab)
			if err != nil {
				return nil, err
			}
			n.attrs = append(n.attrs, a)
		default:
			if err := d.skip(num, typ); err != nil {
				return nil, err
			}
		}
	}
}

func decodeAttr(b []byte) (*pAttr, error) {
	a := &pAttr{present: map[int]bool{}}
	d := &decoder{b: b, msg: "attribute"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		if num == 0 {
			return a, nil
		}
		a.present[int(num)] = true
		switch num {
		case 1:
			a.name, err = d.str(num, typ)
		case 2:
			a.f, err = d.float32(num, typ)
		case 3:
			a.i, err = d.varint(num, typ)
		case 4:
			a.s, err = d.bytes(num, typ)
		case 5:
			var tb []byte
			if tb, err = d.bytes(num, typ); err == nil {
				a.t, err = decodeTensor(tb)
			}
		case 6, 11:
			a.hasG = true
			err = d.skip(num, typ)
		case 7:
			a.floats, err = d.floats(a.floats, num, typ)
		case 8:
			a.ints, err = d.varints(a.ints, num, typ)
		case 20:
			a.typ, err = d.varint(num, typ)
		case 21:
			a.hasRef = true
			err = d.skip(num, typ)
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			if a.name != "" {
				return nil, fmt.Errorf("attribute %q: %w", a.name, err)
			}
			return nil, err
		}
	}
}

func decodeTensor(b []byte) (*pTensor, error) {
	t := &pTensor{}
	d := &decoder{b: b, msg: "tensor"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		switch num {
		case 0:
			return t, nil
		case 1:
			t.dims, err = d.varints(t.dims, num, typ)
		case 2:
			t.dataType, err = d.varint(num, typ)
		case 3:
			t.segment = true
			err = d.skip(num, typ)
		case 4:
			t.floats, err = d.floats(t.floats, num, typ)
		case 5:
			t.int32s, err = d.varints(t.int32s, num, typ)
		case 7:
			t.int64s, err = d.varints(t.int64s, num, typ)
		case 8:
			t.name, err = d.str(num, typ)
		case 9:
			t.raw, err = d.bytes(num, typ)
			t.hasRaw = true
		case 10:
			t.doubles, err = d.doubles(t.doubles, num, typ)
		case 13:
			t.external = true
			err = d.skip(num, typ)
		case 14:
			var loc int64
			loc, err = d.varint(num, typ)
			if loc == 1 {
				t.external = true
			}
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return nil, err
		}
	}
}

func decodeValueInfo(b []byte) (*pValueInfo, error) {
	v := &pValueInfo{}
	d := &decoder{b: b, msg: "value_info"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		switch num {
		case 0:
			return v, nil
		case 1:
			v.name, err = d.str(num, typ)
		case 2:
			var tb []byte
			if tb, err = d.bytes(num, typ); err == nil {
				err = decodeType(tb, v)
			}
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return nil, err
		}
	}
}

// decodeType reads TypeProto.tensor_type only; sequence and map types (the
// recursive ones) are skipped unread.
func decodeType(b []byte, v *pValueInfo) error {
	d := &decoder{b: b, msg: "type"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return err
		}
		switch num {
		case 0:
			return nil
		case 1:
			tb, err := d.bytes(num, typ)
			if err != nil {
				return err
			}
			if err := decodeTensorType(tb, v); err != nil {
				return err
			}
		default:
			if err := d.skip(num, typ); err != nil {
				return err
			}
		}
	}
}

func decodeTensorType(b []byte, v *pValueInfo) error {
	d := &decoder{b: b, msg: "tensor type"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return err
		}
		switch num {
		case 0:
			return nil
		case 1:
			v.elemType, err = d.varint(num, typ)
		case 2:
			var sb []byte
			if sb, err = d.bytes(num, typ); err == nil {
				v.hasShape = true
				err = decodeShape(sb, v)
			}
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return err
		}
	}
}

func decodeShape(b []byte, v *pValueInfo) error {
	d := &decoder{b: b, msg: "shape"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return err
		}
		switch num {
		case 0:
			return nil
		case 1:
			db, err := d.bytes(num, typ)
			if err != nil {
				return err
			}
			dim, err := decodeDim(db)
			if err != nil {
				return err
			}
			if len(v.dims) >= maxRank {
				return d.err("more than %d dimensions", maxRank)
			}
			v.dims = append(v.dims, dim)
		default:
			if err := d.skip(num, typ); err != nil {
				return err
			}
		}
	}
}

func decodeDim(b []byte) (pDim, error) {
	var dim pDim
	d := &decoder{b: b, msg: "dimension"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return dim, err
		}
		switch num {
		case 0:
			return dim, nil
		case 1:
			dim.value, err = d.varint(num, typ)
			dim.known = true
		case 2:
			dim.param, err = d.str(num, typ)
		default:
			err = d.skip(num, typ)
		}
		if err != nil {
			return dim, err
		}
	}
}
