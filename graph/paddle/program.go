package paddle

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lcnet-go/lcnet/graph"
)

// The subset of Paddle's framework.proto ProgramDesc the importer decodes
// by hand (no generated code). Field numbers:
//
//	ProgramDesc { repeated BlockDesc blocks = 1; }
//	BlockDesc   { int32 idx = 1; repeated VarDesc vars = 3; repeated OpDesc ops = 4; }
//	VarDesc     { string name = 1; VarType type = 2; bool persistable = 3; }
//	VarType     { Type type = 1; LoDTensorDesc lod_tensor = 3; }
//	LoDTensorDesc { TensorDesc tensor = 1; int32 lod_level = 2; }
//	TensorDesc  { Type data_type = 1; repeated int64 dims = 2; }
//	OpDesc      { repeated Var inputs = 1; repeated Var outputs = 2; string type = 3; repeated Attr attrs = 4; }
//	OpDesc.Var  { string parameter = 1; repeated string arguments = 2; }
//	OpDesc.Attr { string name = 1; AttrType type = 2; ... }

// VarType.Type values the importer cares about.
const (
	vtLoDTensor     = 7
	vtFeedMinibatch = 9
	vtFetchList     = 10
	vtRaw           = 17
)

// Limits on a decoded program (real PP-LCNet programs have ~150 ops).
const (
	maxListLen  = 1 << 16 // elements of one repeated attribute
	maxAttrElem = 1 << 22 // attribute elements in a whole program
	maxOps      = 1 << 16
	maxVars     = 1 << 17
)

type pbVar struct {
	name        string
	vtype       uint64
	dtype       uint64
	dims        []int64
	hasTensor   bool
	persistable bool
}

type pbOp struct {
	typ     string
	inputs  map[string][]string
	outputs map[string][]string
	attrs   attrs
}

type pbBlock struct {
	idx  int64
	vars []pbVar
	ops  []pbOp
}

// wire is a protobuf message being decoded.
type wire struct {
	b     []byte
	elems *int // attribute elements decoded so far (shared)
}

// next returns the next field, or ok=false at the end.
func (w *wire) next() (num protowire.Number, typ protowire.Type, ok bool, err error) {
	if len(w.b) == 0 {
		return 0, 0, false, nil
	}
	num, typ, n := protowire.ConsumeTag(w.b)
	if n < 0 {
		return 0, 0, false, fmt.Errorf("%w: protobuf tag: %v", ErrFormat, protowire.ParseError(n))
	}
	w.b = w.b[n:]
	return num, typ, true, nil
}

func (w *wire) bytes(typ protowire.Type) ([]byte, error) {
	if typ != protowire.BytesType {
		return nil, fmt.Errorf("%w: protobuf wire type %d, want bytes", ErrFormat, typ)
	}
	v, n := protowire.ConsumeBytes(w.b)
	if n < 0 {
		return nil, fmt.Errorf("%w: protobuf bytes: %v", ErrFormat, protowire.ParseError(n))
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) varint(typ protowire.Type) (uint64, error) {
	if typ != protowire.VarintType {
		return 0, fmt.Errorf("%w: protobuf wire type %d, want varint", ErrFormat, typ)
	}
	v, n := protowire.ConsumeVarint(w.b)
	if n < 0 {
		return 0, fmt.Errorf("%w: protobuf varint: %v", ErrFormat, protowire.ParseError(n))
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) fixed32(typ protowire.Type) (uint32, error) {
	if typ != protowire.Fixed32Type {
		return 0, fmt.Errorf("%w: protobuf wire type %d, want fixed32", ErrFormat, typ)
	}
	v, n := protowire.ConsumeFixed32(w.b)
	if n < 0 {
		return 0, fmt.Errorf("%w: protobuf fixed32: %v", ErrFormat, protowire.ParseError(n))
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) fixed64(typ protowire.Type) (uint64, error) {
	if typ != protowire.Fixed64Type {
		return 0, fmt.Errorf("%w: protobuf wire type %d, want fixed64", ErrFormat, typ)
	}
	v, n := protowire.ConsumeFixed64(w.b)
	if n < 0 {
		return 0, fmt.Errorf("%w: protobuf fixed64: %v", ErrFormat, protowire.ParseError(n))
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) skip(num protowire.Number, typ protowire.Type) error {
	n := protowire.ConsumeFieldValue(num, typ, w.b)
	if n < 0 {
		return fmt.Errorf("%w: protobuf field %d: %v", ErrFormat, num, protowire.ParseError(n))
	}
	w.b = w.b[n:]
	return nil
}

// repeated decodes one occurrence of a repeated scalar field, packed
// (bytes) or not, calling each for every element.
func (w *wire) repeated(typ, elem protowire.Type, each func(*wire, protowire.Type) error) error {
	if typ == protowire.BytesType && elem != protowire.BytesType {
		p, err := w.bytes(typ)
		if err != nil {
			return err
		}
		sub := &wire{b: p, elems: w.elems}
		for len(sub.b) > 0 {
			if err := sub.count(); err != nil {
				return err
			}
			if err := each(sub, elem); err != nil {
				return err
			}
		}
		return nil
	}
	if err := w.count(); err != nil {
		return err
	}
	return each(w, typ)
}

func (w *wire) count() error {
	*w.elems++
	if *w.elems > maxAttrElem {
		return fmt.Errorf("%w: more than %d attribute values", ErrTooLarge, maxAttrElem)
	}
	return nil
}

func decodeProgram(data []byte) (*pbBlock, error) {
	elems := 0
	w := &wire{b: data, elems: &elems}
	var first *pbBlock
	for {
		num, typ, ok, err := w.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if num != 1 {
			if err := w.skip(num, typ); err != nil {
				return nil, err
			}
			continue
		}
		b, err := w.bytes(typ)
		if err != nil {
			return nil, err
		}
		blk, err := decodeBlock(&wire{b: b, elems: &elems})
		if err != nil {
			return nil, err
		}
		if first == nil || (first.idx != 0 && blk.idx == 0) {
			first = blk
		}
	}
	if first == nil {
		return nil, fmt.Errorf("%w: no blocks", ErrFormat)
	}
	return first, nil
}

func decodeBlock(w *wire) (*pbBlock, error) {
	blk := &pbBlock{}
	for {
		num, typ, ok, err := w.next()
		if err != nil || !ok {
			return blk, err
		}
		switch num {
		case 1:
			v, err := w.varint(typ)
			if err != nil {
				return nil, err
			}
			blk.idx = int64(int32(v))
		case 3:
			b, err := w.bytes(typ)
			if err != nil {
				return nil, err
			}
			if len(blk.vars) >= maxVars {
				return nil, fmt.Errorf("%w: more than %d variables", ErrTooLarge, maxVars)
			}
			v, err := decodeVar(&wire{b: b, elems: w.elems})
			if err != nil {
				return nil, err
			}
			blk.vars = append(blk.vars, v)
		case 4:
			b, err := w.bytes(typ)
			if err != nil {
				return nil, err
			}
			if len(blk.ops) >= maxOps {
				return nil, fmt.Errorf("%w: more than %d ops", ErrTooLarge, maxOps)
			}
			o, err := decodeOp(&wire{b: b, elems: w.elems})
			if err != nil {
				return nil, fmt.Errorf("op %d: %w", len(blk.ops), err)
			}
			blk.ops = append(blk.ops, o)
		default:
			if err := w.skip(num, typ); err != nil {
				return nil, err
			}
		}
	}
}

func decodeVar(w *wire) (pbVar, error) {
	var v pbVar
	for {
		num, typ, ok, err := w.next()
		if err != nil || !ok {
			return v, err
		}
		switch num {
		case 1:
			b, err := w.bytes(typ)
			if err != nil {
				return v, err
			}
			v.name = string(b)
		case 2:
			b, err := w.bytes(typ)
			if err != nil {
				return v, err
			}
			if err := decodeVarType(&wire{b: b, elems: w.elems}, &v); err != nil {
				return v, fmt.Errorf("variable %q: %w", v.name, err)
			}
		case 3:
			x, err := w.varint(typ)
			if err != nil {
				return v, err
			}
			v.persistable = x != 0
		default:
			if err := w.skip(num, typ); err != nil {
				return v, err
			}
		}
	}
}

func decodeVarType(w *wire, v *pbVar) error {
	for {
		num, typ, ok, err := w.next()
		if err != nil || !ok {
			return err
		}
		switch num {
		case 1:
			if v.vtype, err = w.varint(typ); err != nil {
				return err
			}
		case 3: // LoDTensorDesc
			b, err := w.bytes(typ)
			if err != nil {
				return err
			}
			lw := &wire{b: b, elems: w.elems}
			for {
				num, typ, ok, err := lw.next()
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				if num != 1 {
					if err := lw.skip(num, typ); err != nil {
						return err
					}
					continue
				}
				tb, err := lw.bytes(typ)
				if err != nil {
					return err
				}
				if v.dtype, v.dims, err = decodeTensorDesc(tb); err != nil {
					return err
				}
				v.hasTensor = true
			}
		default:
			if err := w.skip(num, typ); err != nil {
				return err
			}
		}
	}
}

func decodeOp(w *wire) (pbOp, error) {
	o := pbOp{inputs: map[string][]string{}, outputs: map[string][]string{}, attrs: attrs{}}
	for {
		num, typ, ok, err := w.next()
		if err != nil || !ok {
			return o, err
		}
		switch num {
		case 1, 2:
			b, err := w.bytes(typ)
			if err != nil {
				return o, err
			}
			param, args, err := decodeOpVar(&wire{b: b, elems: w.elems})
			if err != nil {
				return o, err
			}
			m := o.inputs
			if num == 2 {
				m = o.outputs
			}
			m[param] = append(m[param], args...)
		case 3:
			b, err := w.bytes(typ)
			if err != nil {
				return o, err
			}
			o.typ = string(b)
		case 4:
			b, err := w.bytes(typ)
			if err != nil {
				return o, err
			}
			name, a, err := decodeAttr(&wire{b: b, elems: w.elems})
			if err != nil {
				return o, fmt.Errorf("%s: attribute %q: %w", o.typ, name, err)
			}
			o.attrs[name] = a
		default:
			if err := w.skip(num, typ); err != nil {
				return o, err
			}
		}
	}
}

func decodeOpVar(w *wire) (string, []string, error) {
	var param string
	var args []string
	for {
		num, typ, ok, err := w.next()
		if err != nil || !ok {
			return param, args, err
		}
		switch num {
		case 1, 2:
			b, err := w.bytes(typ)
			if err != nil {
				return "", nil, err
			}
			if num == 1 {
				param = string(b)
				continue
			}
			if err := w.count(); err != nil {
				return "", nil, err
			}
			args = append(args, string(b))
		default:
			if err := w.skip(num, typ); err != nil {
				return "", nil, err
			}
		}
	}
}

// AttrType values.
const (
	atInt = iota
	atFloat
	atString
	atInts
	atFloats
	atStrings
	atBoolean
	atBooleans
	atBlock
	atLong
	atBlocks
	atLongs
	atFloat64s
	atVar
	atVars
	atFloat64
	atScalar
	atScalars
)

// decodeAttr decodes an OpDesc.Attr into the value its type names.
func decodeAttr(w *wire) (string, attr, error) {
	var name string
	atype := int64(-1)
	var (
		lists   = map[protowire.Number][]attr{} // repeated fields by number
		scalars = map[protowire.Number]attr{}   // singular fields by number
	)
	add := func(num protowire.Number, a attr) error {
		if len(lists[num]) >= maxListLen {
			return fmt.Errorf("%w: a list attribute of more than %d values", ErrTooLarge, maxListLen)
		}
		lists[num] = append(lists[num], a)
		return nil
	}
	for {
		num, typ, ok, err := w.next()
		if err != nil {
			return name, attr{}, err
		}
		if !ok {
			break
		}
		switch num {
		case 1:
			b, err := w.bytes(typ)
			if err != nil {
				return name, attr{}, err
			}
			name = string(b)
		case 2:
			v, err := w.varint(typ)
			if err != nil {
				return name, attr{}, err
			}
			atype = int64(v)
		case 3, 12: // i, block_idx (int32)
			v, err := w.varint(typ)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = attr{kind: aInt, i: int64(int32(v))}
		case 13: // l
			v, err := w.varint(typ)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = attr{kind: aInt, i: int64(v)}
		case 10: // b
			v, err := w.varint(typ)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = attr{kind: aBool, b: v != 0}
		case 4: // f
			v, err := w.fixed32(typ)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = attr{kind: aFloat, f: float64(math.Float32frombits(v))}
		case 19: // float64
			v, err := w.fixed64(typ)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = attr{kind: aFloat, f: math.Float64frombits(v)}
		case 5, 17: // s, var_name
			b, err := w.bytes(typ)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = attr{kind: aString, s: string(b)}
		case 20: // scalar
			b, err := w.bytes(typ)
			if err != nil {
				return name, attr{}, err
			}
			a, err := decodeScalar(b)
			if err != nil {
				return name, attr{}, err
			}
			scalars[num] = a
		case 6, 14: // ints, blocks_idx (int32)
			err = w.repeated(typ, protowire.VarintType, func(s *wire, t protowire.Type) error {
				v, err := s.varint(t)
				if err != nil {
					return err
				}
				return add(num, attr{kind: aInt, i: int64(int32(v))})
			})
		case 15: // longs
			err = w.repeated(typ, protowire.VarintType, func(s *wire, t protowire.Type) error {
				v, err := s.varint(t)
				if err != nil {
					return err
				}
				return add(num, attr{kind: aInt, i: int64(v)})
			})
		case 11: // bools
			err = w.repeated(typ, protowire.VarintType, func(s *wire, t protowire.Type) error {
				v, err := s.varint(t)
				if err != nil {
					return err
				}
				return add(num, attr{kind: aBool, b: v != 0})
			})
		case 7: // floats
			err = w.repeated(typ, protowire.Fixed32Type, func(s *wire, t protowire.Type) error {
				v, err := s.fixed32(t)
				if err != nil {
					return err
				}
				return add(num, attr{kind: aFloat, f: float64(math.Float32frombits(v))})
			})
		case 16: // float64s
			err = w.repeated(typ, protowire.Fixed64Type, func(s *wire, t protowire.Type) error {
				v, err := s.fixed64(t)
				if err != nil {
					return err
				}
				return add(num, attr{kind: aFloat, f: math.Float64frombits(v)})
			})
		case 8, 18: // strings, vars_name
			err = w.repeated(typ, protowire.BytesType, func(s *wire, t protowire.Type) error {
				b, err := s.bytes(t)
				if err != nil {
					return err
				}
				return add(num, attr{kind: aString, s: string(b)})
			})
		case 21: // scalars
			err = w.repeated(typ, protowire.BytesType, func(s *wire, t protowire.Type) error {
				b, err := s.bytes(t)
				if err != nil {
					return err
				}
				a, err := decodeScalar(b)
				if err != nil {
					return err
				}
				return add(num, a)
			})
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return name, attr{}, err
		}
	}
	one := func(num protowire.Number, def attr) attr {
		if a, ok := scalars[num]; ok {
			return a
		}
		return def
	}
	many := func(num protowire.Number) attr {
		list := lists[num]
		if list == nil {
			list = []attr{}
		}
		return attr{kind: aList, list: list}
	}
	switch atype {
	case atInt:
		return name, one(3, attr{kind: aInt}), nil
	case atFloat:
		return name, one(4, attr{kind: aFloat}), nil
	case atString:
		return name, one(5, attr{kind: aString}), nil
	case atInts:
		return name, many(6), nil
	case atFloats:
		return name, many(7), nil
	case atStrings:
		return name, many(8), nil
	case atBoolean:
		return name, one(10, attr{kind: aBool}), nil
	case atBooleans:
		return name, many(11), nil
	case atBlock:
		return name, one(12, attr{kind: aInt}), nil
	case atLong:
		return name, one(13, attr{kind: aInt}), nil
	case atBlocks:
		return name, many(14), nil
	case atLongs:
		return name, many(15), nil
	case atFloat64s:
		return name, many(16), nil
	case atVar:
		return name, one(17, attr{kind: aString}), nil
	case atVars:
		return name, many(18), nil
	case atFloat64:
		return name, one(19, attr{kind: aFloat}), nil
	case atScalar:
		return name, one(20, attr{kind: aFloat}), nil
	case atScalars:
		return name, many(21), nil
	case -1:
		return name, attr{}, fmt.Errorf("%w: attribute without a type", ErrFormat)
	}
	return name, attr{}, fmt.Errorf("%w: attribute type %d", ErrUnsupported, atype)
}

// decodeScalar decodes framework.proto's Scalar {Type type = 1; bool b = 2;
// int64 i = 3; double r = 4; Complex c = 5}.
func decodeScalar(b []byte) (attr, error) {
	elems := 0
	w := &wire{b: b, elems: &elems}
	var t uint64
	var a [5]attr
	for {
		num, typ, ok, err := w.next()
		if err != nil {
			return attr{}, err
		}
		if !ok {
			break
		}
		switch num {
		case 1:
			t, err = w.varint(typ)
		case 2:
			var v uint64
			v, err = w.varint(typ)
			a[2] = attr{kind: aBool, b: v != 0}
		case 3:
			var v uint64
			v, err = w.varint(typ)
			a[3] = attr{kind: aInt, i: int64(v)}
		case 4:
			var v uint64
			v, err = w.fixed64(typ)
			a[4] = attr{kind: aFloat, f: math.Float64frombits(v)}
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return attr{}, err
		}
	}
	switch t {
	case 1:
		return a[2], nil
	case 2:
		return a[3], nil
	case 3:
		return a[4], nil
	}
	return attr{}, fmt.Errorf("%w: scalar attribute of type %d", ErrUnsupported, t)
}

// legacyOp says how a Paddle 2 op maps onto the importer's canonical op:
// its type and the slot names of the canonical positional inputs and
// outputs.
type legacyOp struct {
	typ  string
	ins  []string
	outs []string
}

var legacyOps = map[string]legacyOp{
	"feed":                     {"data", []string{"X"}, []string{"Out"}},
	"fetch":                    {"fetch", []string{"X"}, []string{"Out"}},
	"conv2d":                   {"conv2d", []string{"Input", "Filter", "Bias"}, []string{"Output"}},
	"depthwise_conv2d":         {"depthwise_conv2d", []string{"Input", "Filter", "Bias"}, []string{"Output"}},
	"batch_norm":               {"batch_norm", []string{"X", "Mean", "Variance", "Scale", "Bias"}, []string{"Y", "MeanOut", "VarianceOut", "SavedMean", "SavedVariance", "ReserveSpace"}},
	"hard_swish":               {"hardswish", []string{"X"}, []string{"Out"}},
	"relu":                     {"relu", []string{"X"}, []string{"Out"}},
	"sigmoid":                  {"sigmoid", []string{"X"}, []string{"Out"}},
	"hard_sigmoid":             {"hardsigmoid", []string{"X"}, []string{"Out"}},
	"pool2d":                   {"pool2d", []string{"X"}, []string{"Out"}},
	"elementwise_add":          {"add", []string{"X", "Y"}, []string{"Out"}},
	"elementwise_mul":          {"multiply", []string{"X", "Y"}, []string{"Out"}},
	"scale":                    {"scale", []string{"X", "ScaleTensor"}, []string{"Out"}},
	"dropout":                  {"dropout", []string{"X", "Seed"}, []string{"Out", "Mask"}},
	"flatten_contiguous_range": {"flatten", []string{"X"}, []string{"Out", "XShape"}},
	"flatten2":                 {"flatten", []string{"X"}, []string{"Out", "XShape"}},
	"flatten":                  {"flatten", []string{"X"}, []string{"Out"}},
	"reshape2":                 {"reshape", []string{"X", "Shape"}, []string{"Out", "XShape"}},
	"reshape":                  {"reshape", []string{"X", "Shape"}, []string{"Out"}},
	"matmul_v2":                {"matmul", []string{"X", "Y"}, []string{"Out"}},
	"matmul":                   {"matmul", []string{"X", "Y"}, []string{"Out"}},
	"mul":                      {"matmul", []string{"X", "Y"}, []string{"Out"}},
	"softmax":                  {"softmax", []string{"X"}, []string{"Out"}},
}

// importProgram parses a ProgramDesc and builds its graph with the
// parameters of params.
func importProgram(prog []byte, params paramsIn, opt Options) (*graph.Graph, error) {
	p, err := parseProgram(prog)
	if err != nil {
		return nil, err
	}
	return importCommon(p, params, opt)
}

func parseProgram(data []byte) (*program, error) {
	blk, err := decodeProgram(data)
	if err != nil {
		return nil, fmt.Errorf("paddle: ProgramDesc: %w", err)
	}
	p := &program{name: "paddle", types: make(map[string]tensorType), legacy: true}
	vars := make(map[string]*pbVar, len(blk.vars))
	for i := range blk.vars {
		v := &blk.vars[i]
		if _, dup := vars[v.name]; dup {
			return nil, formatErr("variable %q is declared twice", v.name)
		}
		vars[v.name] = v
		if v.vtype == vtLoDTensor && v.hasTensor {
			if len(v.dims) > maxRank {
				return nil, formatErr("variable %q has rank %d", v.name, len(v.dims))
			}
			p.types[v.name] = tensorType{dtype: dtypeName(v.dtype), dims: v.dims}
		}
		if !v.persistable || v.vtype == vtFeedMinibatch || v.vtype == vtFetchList || v.vtype == vtRaw {
			continue
		}
		if v.vtype != vtLoDTensor || !v.hasTensor {
			return nil, unsupported("persistable variable %q of type %d (only dense tensors)", v.name, v.vtype)
		}
		p.params = append(p.params, paramSpec{name: v.name, ref: v.name, dims: v.dims})
	}
	for i, o := range blk.ops {
		where := fmt.Sprintf("op %d (%s)", i, o.typ)
		d, err := legacyToDesc(o, vars, where)
		if err != nil {
			return nil, fmt.Errorf("paddle: %s: %w", where, err)
		}
		p.ops = append(p.ops, d)
	}
	return p, nil
}

func legacyToDesc(o pbOp, vars map[string]*pbVar, where string) (opDesc, error) {
	m, ok := legacyOps[o.typ]
	if !ok {
		return opDesc{}, fmt.Errorf("%w: op %q", ErrUnsupported, o.typ)
	}
	d := opDesc{typ: m.typ, where: where, attrs: o.attrs}
	slots := func(have map[string][]string, names []string, what string) ([]string, error) {
		known := map[string]bool{}
		var refs []string
		for _, n := range names {
			known[n] = true
			args := have[n]
			if len(args) > 1 {
				return nil, fmt.Errorf("%w: %s slot %q has %d arguments", ErrUnsupported, what, n, len(args))
			}
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			refs = append(refs, ref)
		}
		for n, args := range have {
			if !known[n] && len(args) > 0 {
				return nil, fmt.Errorf("%w: %s slot %q", ErrUnsupported, what, n)
			}
		}
		return refs, nil
	}
	var err error
	if o.typ == "reshape2" || o.typ == "reshape" {
		if len(o.inputs["ShapeTensor"]) > 0 {
			return d, fmt.Errorf("%w: reshape to a computed shape", ErrUnsupported)
		}
		delete(o.inputs, "ShapeTensor")
	}
	if d.in, err = slots(o.inputs, m.ins, "input"); err != nil {
		return d, err
	}
	if d.out, err = slots(o.outputs, m.outs, "output"); err != nil {
		return d, err
	}
	a := d.attrs
	rename := func(from, to string) {
		if v, ok := a[from]; ok {
			a[to] = v
			delete(a, from)
		}
	}
	switch o.typ {
	case "feed":
		if len(d.out) == 0 || d.out[0] == "" {
			return d, fmt.Errorf("%w: feed without an output", ErrFormat)
		}
		a["name"] = attr{kind: aString, s: d.out[0]}
		if v := vars[d.out[0]]; v != nil && v.hasTensor {
			a["dtype"] = attr{kind: aString, s: legacyDtype(v.dtype)}
		}
		delete(a, "shape")
	case "batch_norm":
		rename("data_layout", "data_format")
	case "dropout":
		rename("dropout_prob", "p")
		rename("dropout_implementation", "mode")
		if _, ok := a["p"]; !ok {
			a["p"] = attr{kind: aFloat, f: 0.5}
		}
	case "matmul_v2":
		rename("trans_x", "transpose_x")
		rename("trans_y", "transpose_y")
	case "matmul":
		rename("transpose_X", "transpose_x")
		rename("transpose_Y", "transpose_y")
	case "mul":
		xn, err := a.Int("x_num_col_dims", 1)
		if err != nil {
			return d, err
		}
		yn, err := a.Int("y_num_col_dims", 1)
		if err != nil {
			return d, err
		}
		if xn != 1 || yn != 1 {
			return d, fmt.Errorf("%w: mul with x_num_col_dims %d, y_num_col_dims %d", ErrUnsupported, xn, yn)
		}
		a["flatten_x"] = attr{kind: aBool, b: true}
	case "flatten2", "flatten":
		ax, err := a.Int("axis", 1)
		if err != nil {
			return d, err
		}
		if ax != 1 {
			return d, fmt.Errorf("%w: %s with axis %d", ErrUnsupported, o.typ, ax)
		}
		a["start_axis"] = attr{kind: aInt, i: 1}
		a["stop_axis"] = attr{kind: aInt, i: -1}
	case "elementwise_add", "elementwise_mul":
		// axis is read by the builder (add); multiply broadcasts by shape.
	}
	return d, nil
}

// legacyDtype names a VarType data type the way PIR does.
func legacyDtype(t uint64) string {
	switch t {
	case dtFP32:
		return "float32"
	case 6:
		return "float64"
	case 4:
		return "float16"
	}
	return dtypeName(t)
}
