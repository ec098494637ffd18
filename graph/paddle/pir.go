package paddle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
)

// maxJSONDepth bounds the nesting of a PIR file (real ones reach about 8).
const maxJSONDepth = 64

// The compressed PIR serialisation (Paddle's serialize_deserialize schema):
// "#" id, "%" value id, "I" operands, "O" results, "A" attributes, "OA"
// result attributes, "TT" a value type, "N" an attribute name, "AT" its
// value, "D" data.
type pirFile struct {
	BaseCode *struct {
		Magic string `json:"magic"`
	} `json:"base_code"`
	Program *struct {
		Regions []struct {
			Blocks []struct {
				Ops []pirOp `json:"ops"`
			} `json:"blocks"`
		} `json:"regions"`
	} `json:"program"`
}

type pirOp struct {
	ID string            `json:"#"`
	I  []pirValue        `json:"I"`
	O  json.RawMessage   `json:"O"` // an array, or one object for a parameter
	A  []json.RawMessage `json:"A"` // {N, AT} objects, or a parameter's list
	OA []json.RawMessage `json:"OA"`
}

type pirValue struct {
	ID *int64          `json:"%"`
	TT json.RawMessage `json:"TT"`
}

type pirAttr struct {
	N  string        `json:"N"`
	AT *pirAttrValue `json:"AT"`
}

type pirAttrValue struct {
	ID string          `json:"#"`
	D  json.RawMessage `json:"D"`
}

type pirType struct {
	ID string            `json:"#"`
	D  []json.RawMessage `json:"D"`
}

// checkJSONDepth refuses JSON nested deeper than limit, before decoding.
func checkJSONDepth(b []byte, limit int) error {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > limit {
				return formatErr("JSON nested deeper than %d levels", limit)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// importPIR parses a PIR program and builds its graph with the parameters
// of params.
func importPIR(prog []byte, params paramsIn, opt Options) (*graph.Graph, error) {
	p, err := parsePIR(prog)
	if err != nil {
		return nil, err
	}
	return importCommon(p, params, opt)
}

func parsePIR(data []byte) (*program, error) {
	if err := checkJSONDepth(data, maxJSONDepth); err != nil {
		return nil, err
	}
	var f pirFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, formatErr("PIR JSON: %v", err)
	}
	if f.BaseCode == nil || f.BaseCode.Magic != "pir" {
		return nil, formatErr("not a PIR program: base_code.magic is not \"pir\"")
	}
	if f.Program == nil || len(f.Program.Regions) == 0 || len(f.Program.Regions[0].Blocks) == 0 {
		return nil, formatErr("PIR program has no region 0 / block 0")
	}
	ops := f.Program.Regions[0].Blocks[0].Ops
	p := &program{name: "paddle", types: make(map[string]tensorType)}
	memo := newPIRMemo()
	named := false
	for i, o := range ops {
		where := fmt.Sprintf("op %d (%s)", i, o.ID)
		if o.ID == "p" {
			if err := p.pirParam(o, memo); err != nil {
				return nil, fmt.Errorf("paddle: %s: %w", where, err)
			}
			continue
		}
		d, err := pirNormalOp(o, where, p.types, memo)
		if err != nil {
			return nil, fmt.Errorf("paddle: %s: %w", where, err)
		}
		if sn, _ := d.attrs.String("struct_name", ""); !named && strings.HasPrefix(sn, "/") {
			if first, _, _ := strings.Cut(sn[1:], "/"); first != "" {
				p.name, named = first, true
			}
		}
		p.ops = append(p.ops, d)
	}
	return p, nil
}

func valueRef(id int64) string { return "%" + strconv.FormatInt(id, 10) }

// pirParam reads a parameter op: {"#":"p", "O":{"%":id,"TT":type},
// "A":[is_distributed, is_parameter, need_clip, name], "OA":[persistable,
// stop_gradient, trainable]}.
func (p *program) pirParam(o pirOp, memo *pirMemo) error {
	var out pirValue
	if err := json.Unmarshal(o.O, &out); err != nil || out.ID == nil {
		return fmt.Errorf("%w: parameter without a result", ErrFormat)
	}
	if len(o.A) < 4 {
		return fmt.Errorf("%w: parameter attributes %d, want 4", ErrFormat, len(o.A))
	}
	var name string
	if err := json.Unmarshal(o.A[3], &name); err != nil || name == "" {
		return fmt.Errorf("%w: parameter without a name", ErrFormat)
	}
	if len(o.OA) > 0 && !truthy(o.OA[0]) {
		return nil // not persistable: not in the blob
	}
	t, err := memo.parseType(out.TT)
	if err != nil {
		return fmt.Errorf("parameter %q: %w", name, err)
	}
	if t.dtype != "float32" || t.dims == nil {
		return fmt.Errorf("%w: parameter %q has type %s, only float32 dense tensors", ErrUnsupported, name, t.dtype)
	}
	ref := valueRef(*out.ID)
	p.types[ref] = t
	p.params = append(p.params, paramSpec{name: name, ref: ref, dims: t.dims})
	return nil
}

// truthy reads a 0/1 or boolean JSON flag.
func truthy(m json.RawMessage) bool {
	s := string(bytes.TrimSpace(m))
	return s != "0" && s != "false"
}

var pirDtypes = map[string]string{
	"0.t_f32": "float32", "0.t_f64": "float64", "0.t_f16": "float16", "0.t_bf16": "bfloat16",
	"0.t_i8": "int8", "0.t_ui8": "uint8", "0.t_i16": "int16", "0.t_i32": "int32", "0.t_i64": "int64",
	"0.t_bool": "bool", "0.t_c64": "complex64", "0.t_c128": "complex128",
}

// parseType reads a value type. A dense tensor gives its dtype and dims;
// any other type gives a tensorType without dims.
func parseType(m json.RawMessage) (tensorType, error) {
	if len(m) == 0 || string(m) == "null" {
		return tensorType{}, nil
	}
	var t pirType
	if err := json.Unmarshal(m, &t); err != nil {
		return tensorType{}, fmt.Errorf("%w: value type: %v", ErrFormat, err)
	}
	if t.ID != "0.t_dtensor" {
		return tensorType{dtype: t.ID}, nil
	}
	if len(t.D) < 2 {
		return tensorType{}, fmt.Errorf("%w: dense tensor type with %d fields", ErrFormat, len(t.D))
	}
	var dt pirType
	if err := json.Unmarshal(t.D[0], &dt); err != nil {
		return tensorType{}, fmt.Errorf("%w: dense tensor dtype: %v", ErrFormat, err)
	}
	name, ok := pirDtypes[dt.ID]
	if !ok {
		name = dt.ID
	}
	var dims []int64
	if err := json.Unmarshal(t.D[1], &dims); err != nil {
		return tensorType{}, fmt.Errorf("%w: dense tensor dims: %v", ErrFormat, err)
	}
	if len(dims) > maxRank {
		return tensorType{}, fmt.Errorf("%w: dense tensor of rank %d", ErrFormat, len(dims))
	}
	for _, d := range dims {
		if d < -1 {
			return tensorType{}, fmt.Errorf("%w: dense tensor dims %v", ErrFormat, dims)
		}
	}
	if dims == nil {
		dims = []int64{}
	}
	return tensorType{dtype: name, dims: dims}, nil
}

func pirNormalOp(o pirOp, where string, types map[string]tensorType, memo *pirMemo) (opDesc, error) {
	d := opDesc{where: where, attrs: make(attrs)}
	dialect, name, ok := strings.Cut(o.ID, ".")
	switch {
	case !ok || name == "":
		return d, fmt.Errorf("%w: op id %q", ErrFormat, o.ID)
	case dialect == "1": // pd_op; an in-place variant ("batch_norm_") is the same op here
		d.typ = strings.TrimSuffix(name, "_")
	default:
		d.typ = o.ID
	}
	for _, v := range o.I {
		if v.ID == nil {
			return d, fmt.Errorf("%w: operand without a value id", ErrFormat)
		}
		if *v.ID == 0 {
			d.in = append(d.in, "") // the null value
			continue
		}
		d.in = append(d.in, valueRef(*v.ID))
	}
	if len(o.O) > 0 && string(o.O) != "null" {
		var outs []pirValue
		if err := json.Unmarshal(o.O, &outs); err != nil {
			return d, fmt.Errorf("%w: results: %v", ErrFormat, err)
		}
		for _, v := range outs {
			if v.ID == nil {
				return d, fmt.Errorf("%w: result without a value id", ErrFormat)
			}
			ref := valueRef(*v.ID)
			d.out = append(d.out, ref)
			t, err := memo.parseType(v.TT)
			if err != nil {
				return d, err
			}
			if t.dims != nil {
				types[ref] = t
			}
		}
	}
	for _, raw := range o.A {
		n, v, err := memo.attr(raw)
		if err != nil {
			return d, err
		}
		d.attrs[n] = v
	}
	return d, nil
}

// pirMemo remembers the value types and attributes of a program by their
// JSON text: a PP-LCNet program spells the same few (a conv's data_format,
// a value's [-1, 64, 56, 56] float32 type) hundreds of times, and each
// json.Unmarshal costs more than the map look-up (parsing the real
// text-line model's 104 KB inference.json: 5.8-7.0 -> 4.2-4.9 ms; most of
// the rest is the first pass over the file). Each caller gets its own copy
// of the slices in them.
type pirMemo struct {
	types map[string]tensorType
	attrs map[string]namedAttr
}

type namedAttr struct {
	name string
	v    attr
}

func newPIRMemo() *pirMemo {
	return &pirMemo{types: make(map[string]tensorType), attrs: make(map[string]namedAttr)}
}

func (m *pirMemo) parseType(raw json.RawMessage) (tensorType, error) {
	if t, ok := m.types[string(raw)]; ok {
		t.dims = slices.Clone(t.dims)
		return t, nil
	}
	t, err := parseType(raw)
	if err == nil {
		m.types[string(raw)] = tensorType{dtype: t.dtype, dims: slices.Clone(t.dims)}
	}
	return t, err
}

// attr reads one {N, AT} attribute.
func (m *pirMemo) attr(raw json.RawMessage) (string, attr, error) {
	if a, ok := m.attrs[string(raw)]; ok {
		return a.name, a.v.clone(), nil
	}
	var a pirAttr
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", attr{}, fmt.Errorf("%w: attribute: %v", ErrFormat, err)
	}
	if a.AT == nil {
		return "", attr{}, fmt.Errorf("%w: attribute %q without a value", ErrFormat, a.N)
	}
	v, err := pirAttrToAttr(*a.AT)
	if err != nil {
		return "", attr{}, fmt.Errorf("attribute %q: %w", a.N, err)
	}
	m.attrs[string(raw)] = namedAttr{a.N, v.clone()}
	return a.N, v, nil
}

func pirAttrToAttr(a pirAttrValue) (attr, error) {
	bad := func(err error) (attr, error) {
		return attr{}, fmt.Errorf("%w: %s value: %v", ErrFormat, a.ID, err)
	}
	switch a.ID {
	case "0.a_bool":
		var v bool
		if err := json.Unmarshal(a.D, &v); err != nil {
			return bad(err)
		}
		return attr{kind: aBool, b: v}, nil
	case "0.a_i32", "0.a_i64", "0.a_index":
		var v int64
		if err := json.Unmarshal(a.D, &v); err != nil {
			return bad(err)
		}
		if a.ID == "0.a_i32" && int64(int32(v)) != v {
			return bad(fmt.Errorf("%d overflows int32", v))
		}
		return attr{kind: aInt, i: v}, nil
	case "0.a_f32", "0.a_f64":
		var v float64
		if err := json.Unmarshal(a.D, &v); err != nil {
			return bad(err)
		}
		return attr{kind: aFloat, f: v}, nil
	case "0.a_str", "1.a_dtype", "1.a_datalayout":
		var v string
		if err := json.Unmarshal(a.D, &v); err != nil {
			return bad(err)
		}
		return attr{kind: aString, s: v}, nil
	case "1.a_place", "0.a_type":
		return attr{kind: aString, s: string(a.D)}, nil
	case "0.a_array":
		var vs []pirAttrValue
		if err := json.Unmarshal(a.D, &vs); err != nil {
			return bad(err)
		}
		l := make([]attr, len(vs))
		for i, v := range vs {
			e, err := pirAttrToAttr(v)
			if err != nil {
				return attr{}, err
			}
			l[i] = e
		}
		return attr{kind: aList, list: l}, nil
	case "1.a_intarray":
		var vs []int64
		if err := json.Unmarshal(a.D, &vs); err != nil {
			return bad(err)
		}
		l := make([]attr, len(vs))
		for i, v := range vs {
			l[i] = attr{kind: aInt, i: v}
		}
		return attr{kind: aList, list: l}, nil
	case "1.a_scalar":
		// D is [dtype, value].
		var vs []json.RawMessage
		if err := json.Unmarshal(a.D, &vs); err != nil || len(vs) != 2 {
			return bad(fmt.Errorf("want [dtype, value]"))
		}
		var v float64
		if err := json.Unmarshal(vs[1], &v); err != nil {
			var b bool
			if json.Unmarshal(vs[1], &b) != nil {
				return bad(err)
			}
			return attr{kind: aBool, b: b}, nil
		}
		return attr{kind: aFloat, f: v}, nil
	}
	return attr{}, fmt.Errorf("%w: attribute type %q", ErrUnsupported, a.ID)
}
