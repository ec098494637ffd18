//go:build ignore

// Command gen writes lcnet's hostile-input corpus: small model, tensor and
// image files that are truncated, lie in their headers, nest too deep,
// confuse types or carry pickle payloads that would run a shell command.
// hostile_test.go (module root) feeds every file to the reader that owns
// its kind and requires a clean error: no panic, no hang, bounded
// allocation, nothing executed.
//
// Run from the module root:
//
//	go run ./testdata/hostile/gen.go            # rewrites testdata/hostile
//	go run ./testdata/hostile/gen.go -out DIR   # writes elsewhere (the test compares)
//
// Everything is deterministic (fixed seeds), so regenerating changes
// nothing unless this file changes. The corpus stays under 2 MB: the large
// cases (truncations of the real model, inflation bombs) are made by the
// test at run time instead.
//
// Layout (see MANIFEST.txt for one line per file):
//
//	ok/          small valid files every hostile variant is derived from;
//	             the test requires these to load
//	pir/         Paddle 3 PIR programs (*.json), beside a valid inference.pdiparams
//	pdmodel/     Paddle 2 ProgramDescs (*.pdmodel), beside a valid inference.pdiparams
//	pdiparams/   parameter blobs, paired by the test with ok/pir and ok/pdmodel
//	onnx/        ONNX models
//	pdparams/    pickles; exec_* would touch $LCNET_HOSTILE_SENTINEL if unpickled by Python
//	safetensors/ safetensors files
//	npy/         NumPy arrays (read by internal/npy)
//	images/      PNG, JPEG, GIF, BMP (read by preprocess.DecodeFile)
//	yml/         inference.yml files, paired by the test with ok/pir
//	sniff/       files whose kind must be recognised by content, not by name
package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/image/bmp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/graph/safetensors"
	"github.com/lcnet-go/lcnet/internal/npy"
)

// SentinelEnv names the variable the pickle payloads read: a shell command
// `touch "$LCNET_HOSTILE_SENTINEL"`. The test sets it to a path in
// t.TempDir() and checks the file never appears.
const sentinelEnv = "LCNET_HOSTILE_SENTINEL"

var touch = `touch "$` + sentinelEnv + `"`

type corpus struct {
	root     string
	manifest []string
	size     int
}

// lenient lists inputs that are wrong but that a reader accepts, and may
// accept: it ignores the oddity or gives it a sensible meaning. They are
// written as mut_* (may load); the test still checks them for panics,
// hangs and allocation.
var lenient = map[string]string{
	"pir/bn_training.json":                "batch norm is_test=false runs as inference batch norm",
	"pir/data_format_null.json":           "a null data_format reads as the default NCHW",
	"pir/data_tt_null.json":               "the input shape comes from the data op's shape attribute",
	"pir/invalid_utf8.json":               "the bytes sit in a parameter's layout string, which is ignored",
	"pir/operands_extra.json":             "extra operands of relu are ignored",
	"pdmodel/bn_training.pdmodel":         "batch norm is_test=false runs as inference batch norm",
	"pdmodel/paddings_int32_wrap.pdmodel": "protobuf int32 semantics: 2^32+1 is 1",
	"pdmodel/param_int64.pdmodel":         "the record's FP32 type wins over the variable's declared INT64",
	"pdmodel/var_name_empty.pdmodel":      "variable declarations only carry types",
	"onnx/hardsigmoid_alpha_0.onnx":       "a hardsigmoid of slope 0 is a constant the Go backend runs (oneDNN refuses it)",
	"onnx/conv_attr_no_name.onnx":         "an unnamed attribute is ignored",
	"onnx/conv_dilations_zero.onnx":       "dilation 0 reads as 1",
	"onnx/gemm_alpha_inf.onnx":            "weights are data",
	"onnx/gemm_alpha_nan.onnx":            "weights are data",
	"onnx/gemm_transb_7.onnx":             "a non-zero transB is true",
	"onnx/init_double.onnx":               "DOUBLE initializers are converted",
	"onnx/input_dim_param_16k.onnx":       "a long symbolic dimension name is still a name",
	"onnx/input_dims_zero.onnx":           "a zero spatial dimension reads as unknown (then 224)",
	"onnx/mul_inf.onnx":                   "weights are data",
	"onnx/opset_conflict.onnx":            "one of the two default-domain opsets is used",
	"onnx/output_is_input.onnx":           "a graph may output its input",
	"onnx/reshape_shape_float.onnx":       "a float shape tensor is read as integers",
	"yml/billion_laughs.yml":              "yaml.v3 does not expand aliases of unknown keys",
	"yml/deep_nesting.yml":                "an unknown key is skipped",
	"yml/merge_loop.yml":                  "yaml.v3 resolves the merge",
	"yml/python_tag.yml":                  "tags are not executed; an unknown key is skipped",
	"yml/topk_negative.yml":               "Topk is not used by Load",
	"npy/data_long.npy":                   "trailing bytes after the array are ignored (as NumPy does)",
	"npy/header_extra_key.npy":            "an extra header key is ignored (NumPy refuses it)",
	"images/png_2000_text_chunks.png":     "a valid image",
	"images/png_palette_index_oob.png":    "Go's decoder extends the palette (as libpng does)",
	"pdiparams/lod_level_1.pdiparams":     "a well-formed LoD table is metadata that weights do not use",
}

func (c *corpus) add(rel string, data []byte, desc string) {
	if why, ok := lenient[rel]; ok {
		rel = filepath.ToSlash(filepath.Join(filepath.Dir(rel), "mut_"+filepath.Base(rel)))
		desc += " (may load: " + why + ")"
	}
	p := filepath.Join(c.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		log.Fatal(err)
	}
	c.manifest = append(c.manifest, fmt.Sprintf("%s\t%d\t%s", rel, len(data), desc))
	c.size += len(data)
}

func main() {
	out := flag.String("out", filepath.Join("testdata", "hostile"), "corpus directory")
	flag.Parse()
	c := &corpus{root: *out}
	// Start clean, but keep this generator.
	entries, _ := os.ReadDir(c.root)
	for _, e := range entries {
		if e.Name() != "gen.go" {
			os.RemoveAll(filepath.Join(c.root, e.Name()))
		}
	}
	genPaddle(c)
	genONNX(c)
	genPdparams(c)
	genSafetensors(c)
	genNPY(c)
	genImages(c)
	genYML(c)
	genSniff(c)
	sort.Strings(c.manifest)
	head := "# Code generated by go run ./testdata/hostile/gen.go. DO NOT EDIT.\n# path<TAB>bytes<TAB>what it is\n"
	if err := os.WriteFile(filepath.Join(c.root, "MANIFEST.txt"), []byte(head+strings.Join(c.manifest, "\n")+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d files, %d bytes", len(c.manifest), c.size)
	if c.size > 1900000 {
		log.Fatalf("corpus is %d bytes, over the budget (2 MB with MANIFEST.txt)", c.size)
	}
}

// truncOffsets returns about n distinct cut points in [0, size): the first
// eight bytes one by one, then spaced geometrically (so most prefixes are
// short and the corpus small; the test cuts the real model evenly at run
// time), and the last byte.
func truncOffsets(size, n int) []int {
	seen := map[int]bool{}
	var offs []int
	addOff := func(o int) {
		if o >= 0 && o < size && !seen[o] {
			seen[o] = true
			offs = append(offs, o)
		}
	}
	for o := 0; o < 8; o++ {
		addOff(o)
	}
	k := n - 9
	for i := 0; i < k; i++ {
		addOff(int(8 * math.Pow(float64(size)/8, float64(i+1)/float64(k+1))))
	}
	addOff(size - 1)
	sort.Ints(offs)
	return offs
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// flip returns a copy of b with count bytes replaced at seeded positions
// within [from, to).
func flip(r *rand.Rand, b []byte, from, to, count int) []byte {
	out := append([]byte(nil), b...)
	for range count {
		i := from + r.IntN(to-from)
		out[i] ^= byte(1 + r.IntN(255))
	}
	return out
}

func f32s(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 0.3)
	}
	return x
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func floatBytes(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// ---------------------------------------------------------------------------
// Paddle: a tiny inference model (PIR JSON and ProgramDesc) and its blob.

// tinyParam is one parameter of the tiny Paddle model.
type tinyParam struct {
	name string
	dims []int64
	data []float32
}

// The tiny model: x[-1,3,8,8] -> conv2d 4x3x3x3 (pad 1) -> batch_norm ->
// hardswish -> depthwise 3x3 -> relu -> adaptive avg pool -> flatten ->
// matmul 4x2 + bias -> softmax.
func tinyParams() []tinyParam {
	ps := []tinyParam{
		{name: "conv2d_0.w_0", dims: []int64{4, 3, 3, 3}},
		{name: "batch_norm2d_0.w_0", dims: []int64{4}}, // scale
		{name: "batch_norm2d_0.b_0", dims: []int64{4}}, // shift
		{name: "batch_norm2d_0.w_1", dims: []int64{4}}, // mean
		{name: "batch_norm2d_0.w_2", dims: []int64{4}}, // variance
		{name: "conv2d_1.w_0", dims: []int64{4, 1, 3, 3}},
		{name: "linear_0.w_0", dims: []int64{4, 2}},
		{name: "linear_0.b_0", dims: []int64{2}},
	}
	for i := range ps {
		n := 1
		for _, d := range ps[i].dims {
			n *= int(d)
		}
		ps[i].data = f32s(n, uint64(i+1))
		if ps[i].name == "batch_norm2d_0.w_2" {
			for k := range ps[i].data {
				ps[i].data[k] = 1 + float32(k)*0.1 // a positive variance
			}
		}
	}
	return ps
}

// tensorDesc is VarType.TensorDesc {data_type = 1; repeated int64 dims = 2}.
func tensorDesc(dtype uint64, dims []int64) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, dtype)
	for _, d := range dims {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	return b
}

// pdRecord is one save_combine record.
type pdRecord struct {
	lodVersion    uint32
	lod           [][]byte // raw lod level payloads
	tensorVersion uint32
	desc          []byte
	descSize      *int32 // overrides len(desc)
	data          []byte
}

func (r pdRecord) bytes() []byte {
	var b []byte
	b = append(b, le32(r.lodVersion)...)
	b = append(b, le64(uint64(len(r.lod)))...)
	for _, l := range r.lod {
		b = append(b, le64(uint64(len(l)))...)
		b = append(b, l...)
	}
	b = append(b, le32(r.tensorVersion)...)
	n := int32(len(r.desc))
	if r.descSize != nil {
		n = *r.descSize
	}
	b = append(b, le32(uint32(n))...)
	b = append(b, r.desc...)
	return append(b, r.data...)
}

func sortedParams(ps []tinyParam) []tinyParam {
	s := append([]tinyParam(nil), ps...)
	sort.Slice(s, func(i, j int) bool { return s[i].name < s[j].name })
	return s
}

func records(ps []tinyParam) []pdRecord {
	var rs []pdRecord
	for _, p := range sortedParams(ps) {
		rs = append(rs, pdRecord{desc: tensorDesc(5, p.dims), data: floatBytes(p.data)})
	}
	return rs
}

func joinRecords(rs []pdRecord) []byte {
	var b []byte
	for _, r := range rs {
		b = append(b, r.bytes()...)
	}
	return b
}

// PIR JSON helpers: attributes and types in Paddle's compressed schema.
type obj = map[string]any

func dense(dtype string, dims ...int64) obj {
	return obj{"#": "0.t_dtensor", "D": []any{obj{"#": dtype}, dims, "NCHW", []any{}, 0}}
}
func f32t(dims ...int64) obj { return dense("0.t_f32", dims...) }
func at(name, id string, d any) obj {
	return obj{"N": name, "AT": obj{"#": id, "D": d}}
}
func i32s(vs ...int) obj {
	var l []any
	for _, v := range vs {
		l = append(l, obj{"#": "0.a_i32", "D": v})
	}
	return obj{"#": "0.a_array", "D": l}
}
func arrAttr(name string, vs ...int) obj { return obj{"N": name, "AT": i32s(vs...)} }
func val(id int) obj                     { return obj{"%": id} }
func res(id int, tt obj) obj             { return obj{"%": id, "TT": tt} }
func out(id int) obj                     { return obj{"%": id} }
func sg(b bool) []any {
	return []any{obj{"N": "stop_gradient", "AT": obj{"#": "0.a_array", "D": []any{obj{"#": "0.a_bool", "D": b}}}}}
}

// tinyPIR is the tiny model's PIR program as a JSON document (a tree of
// maps and slices the hostile variants edit).
func tinyPIR() obj {
	ps := tinyParams()
	var ops []any
	ids := map[string]int{}
	for i, p := range ps {
		id := i + 1
		ids[p.name] = id
		ops = append(ops, obj{"#": "p", "A": []any{0, 1, 1, p.name},
			"O": res(id, f32t(p.dims...)), "OA": []any{1, 0, 1}})
	}
	convAttrs := func(groups int) []any {
		return []any{arrAttr("strides", 1, 1), arrAttr("paddings", 1, 1), arrAttr("dilations", 1, 1), at("groups", "0.a_i32", groups)}
	}
	ops = append(ops,
		obj{"#": "1.data", "A": []any{at("name", "0.a_str", "x"), at("shape", "1.a_intarray", []int{-1, 3, 8, 8}),
			at("dtype", "1.a_dtype", "float32"), at("place", "1.a_place", []any{0, 0, ""})},
			"I": []any{}, "O": []any{res(100, f32t(-1, 3, 8, 8))}},
		obj{"#": "1.conv2d", "A": convAttrs(1), "I": []any{val(100), val(ids["conv2d_0.w_0"])},
			"O": []any{out(101)}},
		obj{"#": "1.batch_norm_", "A": []any{at("is_test", "0.a_bool", true), at("epsilon", "0.a_f32", 1e-5), at("data_format", "0.a_str", "NCHW")},
			"I": []any{val(101), val(ids["batch_norm2d_0.w_1"]), val(ids["batch_norm2d_0.w_2"]), val(ids["batch_norm2d_0.w_0"]), val(ids["batch_norm2d_0.b_0"])},
			"O": []any{out(102), out(103), out(104), out(105), out(106), out(107)},
		},
		obj{"#": "1.hardswish", "A": []any{}, "I": []any{val(102)}, "O": []any{out(108)}},
		obj{"#": "1.depthwise_conv2d", "A": convAttrs(4), "I": []any{val(108), val(ids["conv2d_1.w_0"])},
			"O": []any{out(109)}},
		obj{"#": "1.relu", "A": []any{}, "I": []any{val(109)}, "O": []any{out(110)}},
		obj{"#": "1.full_int_array", "A": []any{at("value", "0.a_array", []any{obj{"#": "0.a_i64", "D": 1}, obj{"#": "0.a_i64", "D": 1}})},
			"I": []any{}, "O": []any{out(111)}},
		obj{"#": "1.pool2d", "A": []any{arrAttr("strides", 1, 1), arrAttr("paddings", 0, 0), at("pooling_type", "0.a_str", "avg"),
			at("global_pooling", "0.a_bool", false), at("adaptive", "0.a_bool", true)},
			"I": []any{val(110), val(111)}, "O": []any{out(112)}},
		obj{"#": "1.flatten", "A": []any{at("start_axis", "0.a_i32", 1), at("stop_axis", "0.a_i32", 3)},
			"I": []any{val(112)}, "O": []any{out(113)}},
		obj{"#": "1.matmul", "A": []any{at("transpose_x", "0.a_bool", false), at("transpose_y", "0.a_bool", false)},
			"I": []any{val(113), val(ids["linear_0.w_0"])}, "O": []any{out(114)}},
		obj{"#": "1.add", "A": []any{}, "I": []any{val(114), val(ids["linear_0.b_0"])}, "O": []any{out(115)}},
		obj{"#": "1.softmax", "A": []any{at("axis", "0.a_i32", -1)}, "I": []any{val(115)}, "O": []any{out(116)}},
		obj{"#": "1.fetch", "A": []any{at("name", "0.a_str", "fetch_name_0"), at("col", "0.a_i32", 0)},
			"I": []any{val(116)}, "O": []any{out(117)}},
	)
	return obj{
		"base_code": obj{"magic": "pir", "trainable": true, "version": 1},
		"program":   obj{"regions": []any{obj{"#": "region_0", "blocks": []any{obj{"#": "block_0", "args": []any{}, "ops": ops}}}}},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// clone deep-copies a JSON tree.
func clone(v obj) obj {
	var out obj
	if err := json.Unmarshal(mustJSON(v), &out); err != nil {
		log.Fatal(err)
	}
	return out
}

func pirOps(doc obj) []any {
	return doc["program"].(obj)["regions"].([]any)[0].(obj)["blocks"].([]any)[0].(obj)["ops"].([]any)
}

func setPIROps(doc obj, ops []any) {
	doc["program"].(obj)["regions"].([]any)[0].(obj)["blocks"].([]any)[0].(obj)["ops"] = ops
}

func findOp(doc obj, id string) obj {
	for _, o := range pirOps(doc) {
		if m := o.(obj); m["#"] == id {
			return m
		}
	}
	log.Fatalf("no op %s", id)
	return nil
}

// findAttr returns the value of op's attribute name, adding an empty one
// when op lacks it.
func findAttr(op obj, name string) obj {
	for _, a := range op["A"].([]any) {
		if m := a.(obj); m["N"] == name {
			return m["AT"].(obj)
		}
	}
	v := obj{"#": "0.a_str"}
	op["A"] = append(op["A"].([]any), obj{"N": name, "AT": v})
	return v
}

func findParam(doc obj, name string) obj {
	for _, o := range pirOps(doc) {
		if m := o.(obj); m["#"] == "p" && m["A"].([]any)[3] == name {
			return m
		}
	}
	log.Fatalf("no parameter %s", name)
	return nil
}

// ProgramDesc writer (framework.proto field numbers).
type pbAttr struct {
	name string
	typ  uint64
	raw  []byte // the value fields, already encoded
}

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}
func pbString(b []byte, num protowire.Number, s string) []byte { return pbBytes(b, num, []byte(s)) }
func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
func pbFloat(b []byte, num protowire.Number, f float32) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(f))
}

func aInts(name string, vs ...int) pbAttr {
	var raw []byte
	for _, v := range vs {
		raw = pbVarint(raw, 6, uint64(int64(v)))
	}
	return pbAttr{name, 3, raw}
}
func aInt(name string, v int) pbAttr       { return pbAttr{name, 0, pbVarint(nil, 3, uint64(int64(v)))} }
func aFloat(name string, f float32) pbAttr { return pbAttr{name, 1, pbFloat(nil, 4, f)} }
func aStr(name, s string) pbAttr           { return pbAttr{name, 2, pbString(nil, 5, s)} }
func aBool(name string, v bool) pbAttr {
	x := uint64(0)
	if v {
		x = 1
	}
	return pbAttr{name, 6, pbVarint(nil, 10, x)}
}

func (a pbAttr) bytes() []byte {
	b := pbString(nil, 1, a.name)
	b = pbVarint(b, 2, a.typ)
	return append(b, a.raw...)
}

type pbSlot struct {
	param string
	args  []string
}

type pbOpDesc struct {
	typ       string
	ins, outs []pbSlot
	attrs     []pbAttr
}

func (o pbOpDesc) bytes() []byte {
	var b []byte
	slot := func(num protowire.Number, s pbSlot) {
		v := pbString(nil, 1, s.param)
		for _, a := range s.args {
			v = pbString(v, 2, a)
		}
		b = pbBytes(b, num, v)
	}
	for _, s := range o.ins {
		slot(1, s)
	}
	for _, s := range o.outs {
		slot(2, s)
	}
	b = pbString(b, 3, o.typ)
	for _, a := range o.attrs {
		b = pbBytes(b, 4, a.bytes())
	}
	return b
}

type pbVarDesc struct {
	name        string
	vtype       uint64 // 7 LOD_TENSOR, 9 FEED_MINIBATCH, 10 FETCH_LIST
	dtype       uint64
	dims        []int64
	persistable bool
}

func (v pbVarDesc) bytes() []byte {
	vt := pbVarint(nil, 1, v.vtype)
	if v.vtype == 7 {
		lod := pbBytes(nil, 1, tensorDesc(v.dtype, v.dims))
		vt = pbBytes(vt, 3, lod)
	}
	b := pbString(nil, 1, v.name)
	b = pbBytes(b, 2, vt)
	if v.persistable {
		b = pbVarint(b, 3, 1)
	}
	return b
}

type pbProgram struct {
	vars []pbVarDesc
	ops  []pbOpDesc
}

func (p pbProgram) bytes() []byte {
	blk := pbVarint(nil, 1, 0)
	blk = pbVarint(blk, 2, uint64(0xffffffffffffffff)) // parent_idx -1
	for _, v := range p.vars {
		blk = pbBytes(blk, 3, v.bytes())
	}
	for _, o := range p.ops {
		blk = pbBytes(blk, 4, o.bytes())
	}
	b := pbBytes(nil, 1, blk)
	ver := pbVarint(nil, 1, 0)
	return pbBytes(b, 4, ver)
}

func in(param string, args ...string) pbSlot { return pbSlot{param, args} }

// tinyProgram is the tiny model as a Paddle 2 ProgramDesc.
func tinyProgram() pbProgram {
	var p pbProgram
	for _, t := range tinyParams() {
		p.vars = append(p.vars, pbVarDesc{name: t.name, vtype: 7, dtype: 5, dims: t.dims, persistable: true})
	}
	act := func(name string, dims ...int64) pbVarDesc {
		return pbVarDesc{name: name, vtype: 7, dtype: 5, dims: dims}
	}
	p.vars = append(p.vars,
		pbVarDesc{name: "feed", vtype: 9, persistable: true},
		pbVarDesc{name: "fetch", vtype: 10, persistable: true},
		act("x", -1, 3, 8, 8), act("c0", -1, 4, 8, 8), act("bn", -1, 4, 8, 8), act("hs", -1, 4, 8, 8),
		act("dw", -1, 4, 8, 8), act("r", -1, 4, 8, 8), act("pool", -1, 4, 1, 1), act("flat", -1, 4),
		act("mm", -1, 2), act("logits", -1, 2), act("prob", -1, 2),
	)
	conv := func(typ, x, w, y string, groups int) pbOpDesc {
		return pbOpDesc{typ: typ, ins: []pbSlot{in("Input", x), in("Filter", w)}, outs: []pbSlot{in("Output", y)},
			attrs: []pbAttr{aInts("strides", 1, 1), aInts("paddings", 1, 1), aStr("padding_algorithm", "EXPLICIT"),
				aInts("dilations", 1, 1), aInt("groups", groups), aStr("data_format", "NCHW")}}
	}
	p.ops = []pbOpDesc{
		{typ: "feed", ins: []pbSlot{in("X", "feed")}, outs: []pbSlot{in("Out", "x")}, attrs: []pbAttr{aInt("col", 0)}},
		conv("conv2d", "x", "conv2d_0.w_0", "c0", 1),
		{typ: "batch_norm", ins: []pbSlot{in("X", "c0"), in("Mean", "batch_norm2d_0.w_1"), in("Variance", "batch_norm2d_0.w_2"),
			in("Scale", "batch_norm2d_0.w_0"), in("Bias", "batch_norm2d_0.b_0")},
			outs:  []pbSlot{in("Y", "bn")},
			attrs: []pbAttr{aBool("is_test", true), aFloat("epsilon", 1e-5), aStr("data_layout", "NCHW"), aBool("use_global_stats", true)}},
		{typ: "hard_swish", ins: []pbSlot{in("X", "bn")}, outs: []pbSlot{in("Out", "hs")}},
		conv("depthwise_conv2d", "hs", "conv2d_1.w_0", "dw", 4),
		{typ: "relu", ins: []pbSlot{in("X", "dw")}, outs: []pbSlot{in("Out", "r")}},
		{typ: "pool2d", ins: []pbSlot{in("X", "r")}, outs: []pbSlot{in("Out", "pool")},
			attrs: []pbAttr{aStr("pooling_type", "avg"), aInts("ksize", 1, 1), aBool("adaptive", true), aInts("strides", 1, 1),
				aInts("paddings", 0, 0), aBool("global_pooling", false), aStr("padding_algorithm", "EXPLICIT")}},
		{typ: "flatten_contiguous_range", ins: []pbSlot{in("X", "pool")}, outs: []pbSlot{in("Out", "flat")},
			attrs: []pbAttr{aInt("start_axis", 1), aInt("stop_axis", 3)}},
		{typ: "matmul_v2", ins: []pbSlot{in("X", "flat"), in("Y", "linear_0.w_0")}, outs: []pbSlot{in("Out", "mm")},
			attrs: []pbAttr{aBool("trans_x", false), aBool("trans_y", false)}},
		{typ: "elementwise_add", ins: []pbSlot{in("X", "mm"), in("Y", "linear_0.b_0")}, outs: []pbSlot{in("Out", "logits")},
			attrs: []pbAttr{aInt("axis", -1)}},
		{typ: "softmax", ins: []pbSlot{in("X", "logits")}, outs: []pbSlot{in("Out", "prob")}, attrs: []pbAttr{aInt("axis", -1)}},
		{typ: "fetch", ins: []pbSlot{in("X", "prob")}, outs: []pbSlot{in("Out", "fetch")}, attrs: []pbAttr{aInt("col", 0)}},
	}
	return p
}

// ---------------------------------------------------------------------------

func genPaddle(c *corpus) {
	ps := tinyParams()
	blob := joinRecords(records(ps))
	pir := mustJSON(tinyPIR())
	prog := tinyProgram().bytes()
	c.add("ok/pir/inference.json", pir, "valid tiny PIR program (conv, BN, hardswish, depthwise, relu, pool, FC, softmax)")
	c.add("ok/pir/inference.pdiparams", blob, "its parameters")
	c.add("ok/pdmodel/inference.pdmodel", prog, "the same network as a Paddle 2 ProgramDesc")
	c.add("ok/pdmodel/inference.pdiparams", blob, "its parameters")
	c.add("pir/inference.pdiparams", blob, "valid parameters for every pir/*.json without its own")
	c.add("pdmodel/inference.pdiparams", blob, "valid parameters for every pdmodel/*.pdmodel without its own")
	genPIR(c, pir)
	genProgram(c, prog)
	genPdiparams(c, blob)
}

func genPIR(c *corpus, pir []byte) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range truncOffsets(len(pir), 32) {
		c.add(fmt.Sprintf("pir/trunc_%05d.json", n), pir[:n], "valid program cut short")
	}
	for i, n := range []int{16, 300, 4096} {
		c.add(fmt.Sprintf("pir/random_%d.json", i), randBytes(r, n), "random bytes")
	}
	c.add("pir/random_json_prefix.json", append([]byte(`{"base_code":{"magic":"pir"},`), randBytes(r, 200)...), "PIR prefix then random bytes")
	for i := range 6 {
		c.add(fmt.Sprintf("pir/mut_flip_%d.json", i), flip(r, pir, 0, len(pir), 1+i), "valid program with a few bytes flipped (may load)")
	}

	// edit writes a variant made by f from a fresh copy of the tiny program;
	// blob, when not nil, is written beside it as its own .pdiparams.
	edit := func(name, desc string, f func(doc obj)) {
		doc := clone(tinyPIR())
		f(doc)
		c.add("pir/"+name+".json", mustJSON(doc), desc)
	}
	raw := func(name, desc, text string) { c.add("pir/"+name+".json", []byte(text), desc) }
	withBlob := func(name string, ps []tinyParam) {
		c.add("pir/"+name+".pdiparams", joinRecords(records(ps)), "parameters matching "+name+".json")
	}

	// Structure.
	edit("magic_wrong", "base_code.magic is \"pit\"", func(d obj) { d["base_code"].(obj)["magic"] = "pit" })
	edit("magic_missing", "no base_code", func(d obj) { delete(d, "base_code") })
	edit("magic_number", "magic is a number", func(d obj) { d["base_code"].(obj)["magic"] = 7 })
	edit("base_code_array", "base_code is an array", func(d obj) { d["base_code"] = []any{"pir"} })
	edit("program_missing", "no program", func(d obj) { delete(d, "program") })
	edit("program_string", "program is a string", func(d obj) { d["program"] = "ops" })
	edit("regions_empty", "no regions", func(d obj) { d["program"].(obj)["regions"] = []any{} })
	edit("blocks_empty", "region without blocks", func(d obj) {
		d["program"].(obj)["regions"].([]any)[0].(obj)["blocks"] = []any{}
	})
	edit("ops_object", "ops is an object", func(d obj) {
		d["program"].(obj)["regions"].([]any)[0].(obj)["blocks"].([]any)[0].(obj)["ops"] = obj{"0": "p"}
	})
	edit("ops_empty", "no ops at all", func(d obj) { setPIROps(d, []any{}) })
	edit("ops_null_entries", "ops list of nulls", func(d obj) { setPIROps(d, []any{nil, nil}) })
	edit("mut_version_huge", "pir version 2^64-1 (unknown patch level)", func(d obj) { d["base_code"].(obj)["version"] = uint64(math.MaxUint64) })
	raw("top_array", "a JSON array, not an object", `[{"base_code":{"magic":"pir"}}]`)
	raw("top_null", "JSON null", `null`)
	raw("empty", "empty file", ``)
	raw("bom", "UTF-8 BOM before the object", "\xef\xbb\xbf"+string(pir))
	raw("utf16", "UTF-16LE text", string(utf16le(string(pir[:200]))))
	raw("trailing_garbage", "valid program followed by garbage", string(pir)+"}}]]xx")
	raw("two_documents", "two programs back to back", string(pir)+string(pir))
	raw("comment", "JavaScript comment before the object", "// hi\n"+string(pir))
	raw("deep_array", "5000 nested arrays", `{"base_code":{"magic":"pir"},"x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`)
	raw("deep_object", "2000 nested objects", `{"base_code":{"magic":"pir"},"x":`+strings.Repeat(`{"a":`, 2000)+"1"+strings.Repeat("}", 2000)+`}`)
	raw("deep_unclosed", "5000 open brackets, never closed", `{"base_code":{"magic":"pir"},"x":`+strings.Repeat("[", 5000))
	raw("deep_in_string", "brackets inside a string do not count as nesting (must still fail: no ops)",
		`{"base_code":{"magic":"pir"},"s":"`+strings.Repeat("[", 5000)+`","program":{"regions":[]}}`)
	edit("deep_attr", "an attribute array nested 70 deep", func(d obj) {
		var v any = obj{"#": "0.a_i32", "D": 1}
		for range 70 {
			v = obj{"#": "0.a_array", "D": []any{v}}
		}
		findOp(d, "1.conv2d")["A"] = append(findOp(d, "1.conv2d")["A"].([]any), obj{"N": "deep", "AT": v})
	})
	dup := bytes.Replace(mustJSON(tinyPIR()), []byte(`"#":"1.relu"`), []byte(`"#":"1.relu","#":"1.gelu"`), 1)
	c.add("pir/dup_keys.json", dup, "an op with its id twice (relu, then gelu)")
	nul := bytes.Replace(pir, []byte(`"x"`), []byte(`"x\u0000y"`), 1)
	c.add("pir/mut_nul_in_name.json", nul, "input name with a NUL (may load)")
	bad8 := bytes.Replace(pir, []byte(`"NCHW"`), []byte("\"NC\xff\xfeHW\""), 1)
	c.add("pir/invalid_utf8.json", bad8, "invalid UTF-8 in data_format")

	// Dims and shapes.
	setDims := func(name string, dims ...any) func(d obj) {
		return func(d obj) {
			findOp(d, "1.data")["O"].([]any)[0].(obj)["TT"].(obj)["D"].([]any)[1] = dims
			findAttr(findOp(d, "1.data"), "shape")["D"] = dims
		}
	}
	edit("data_dims_huge", "input [N,3,2^40,8]", setDims("x", -1, 3, int64(1)<<40, 8))
	edit("data_dims_2e31", "input [N,3,2^31,2^31]", setDims("x", -1, 3, int64(1)<<31, int64(1)<<31))
	edit("data_dims_neg", "input [N,3,-7,8]", setDims("x", -1, 3, -7, 8))
	edit("data_dims_zero", "input [N,3,0,8]", setDims("x", -1, 3, 0, 8))
	edit("data_dims_float", "input dims 3.5", setDims("x", -1, 3, 3.5, 8))
	edit("data_dims_string", "input dims \"8\"", setDims("x", -1, "3", "8", "8"))
	c.add("pir/data_dims_1e400.json", bytes.Replace(pir, []byte(`[-1,3,8,8]`), []byte(`[-1,3,1e400,8]`), -1), "input dim 1e400")
	edit("data_dims_rank17", "input of rank 17", setDims("x", -1, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1))
	edit("data_dims_rank1", "input of rank 1", setDims("x", -1))
	edit("data_dims_null", "input dims null", setDims("x"))
	edit("data_tt_null", "input type null", func(d obj) { findOp(d, "1.data")["O"].([]any)[0].(obj)["TT"] = nil })
	edit("data_dtype_i64", "input of int64", func(d obj) {
		findOp(d, "1.data")["O"].([]any)[0].(obj)["TT"] = dense("0.t_i64", -1, 3, 8, 8)
		findAttr(findOp(d, "1.data"), "dtype")["D"] = "int64"
	})
	paramDims := func(pname string, dims ...int64) func(d obj) {
		return func(d obj) { findParam(d, pname)["O"].(obj)["TT"] = f32t(dims...) }
	}
	edit("param_dims_huge", "conv weight declared [4,3,2^40,3] (blob has 108 values)", paramDims("conv2d_0.w_0", 4, 3, 1<<40, 3))
	edit("param_dims_neg", "conv weight declared [4,3,-3,3]", paramDims("conv2d_0.w_0", 4, 3, -3, 3))
	edit("mut_param_dims_minus1", "conv weight declared [4,3,-1,3] (dynamic; may load)", paramDims("conv2d_0.w_0", 4, 3, -1, 3))
	// Dims whose product wraps to the true element count (108) in 64 bits,
	// with a blob record that declares the same dims.
	wrap := []int64{(1 << 62) + 1, 4, 27}
	edit("param_dims_wrap", "conv weight [2^62+1,4,27]: product wraps to 108", paramDims("conv2d_0.w_0", wrap...))
	{
		ps := tinyParams()
		ps[0].dims = wrap
		withBlob("param_dims_wrap", ps)
	}
	wrap2 := []int64{1 << 32, 1 << 32, 108}
	edit("param_dims_wrap0", "conv weight [2^32,2^32,108]: product wraps to 0", paramDims("conv2d_0.w_0", wrap2...))
	{
		ps := tinyParams()
		ps[0].dims = wrap2
		ps[0].data = nil
		withBlob("param_dims_wrap0", ps)
	}
	edit("param_channels_lie", "conv weight [4,5,3,3] for a 3-channel input, blob agrees", paramDims("conv2d_0.w_0", 4, 5, 3, 3))
	{
		ps := tinyParams()
		ps[0].dims, ps[0].data = []int64{4, 5, 3, 3}, f32s(180, 9)
		withBlob("param_channels_lie", ps)
	}
	edit("param_f64", "parameter of float64", func(d obj) { findParam(d, "linear_0.b_0")["O"].(obj)["TT"] = dense("0.t_f64", 2) })
	edit("param_tt_null", "parameter type null", func(d obj) { findParam(d, "linear_0.b_0")["O"].(obj)["TT"] = nil })
	edit("param_tt_vec", "parameter of type t_vec", func(d obj) {
		findParam(d, "linear_0.b_0")["O"].(obj)["TT"] = obj{"#": "0.t_vec", "D": []any{f32t(2)}}
	})
	edit("param_o_array", "parameter result as an array", func(d obj) {
		p := findParam(d, "linear_0.b_0")
		p["O"] = []any{p["O"]}
	})
	edit("param_a_short", "parameter with 3 attributes", func(d obj) { findParam(d, "linear_0.b_0")["A"] = []any{0, 1, 1} })
	edit("param_name_number", "parameter name is a number", func(d obj) { findParam(d, "linear_0.b_0")["A"].([]any)[3] = 42 })
	edit("param_name_empty", "parameter name is empty", func(d obj) { findParam(d, "linear_0.b_0")["A"].([]any)[3] = "" })
	edit("param_dup_name", "two parameters named conv2d_0.w_0", func(d obj) { findParam(d, "conv2d_1.w_0")["A"].([]any)[3] = "conv2d_0.w_0" })
	edit("param_not_persistable", "a parameter marked not persistable (the blob has one record too many)", func(d obj) {
		findParam(d, "linear_0.b_0")["OA"] = []any{0, 0, 1}
	})
	edit("param_id_dup", "two parameters with the same value id", func(d obj) { findParam(d, "linear_0.b_0")["O"].(obj)["%"] = 1 })
	edit("param_id_string", "value id \"7\" as a string", func(d obj) { findParam(d, "linear_0.b_0")["O"].(obj)["%"] = "7" })
	edit("param_id_float", "value id 7.5", func(d obj) { findParam(d, "linear_0.b_0")["O"].(obj)["%"] = 7.5 })
	edit("param_id_huge", "value id 1e30", func(d obj) { findParam(d, "linear_0.b_0")["O"].(obj)["%"] = 1e30 })
	edit("param_used_as_input", "a parameter fed to the network as its input", func(d obj) {
		findOp(d, "1.conv2d")["I"] = []any{val(1), val(1)}
	})

	// Values and ops.
	edit("value_undefined", "an operand that no op defines", func(d obj) { findOp(d, "1.relu")["I"] = []any{val(99999)} })
	edit("value_later", "an operand defined later (a cycle)", func(d obj) { findOp(d, "1.relu")["I"] = []any{val(116)} })
	edit("value_self", "an op reading its own result", func(d obj) { findOp(d, "1.relu")["I"] = []any{val(110)} })
	edit("value_null", "operand 0 (the null value) where a tensor is needed", func(d obj) { findOp(d, "1.relu")["I"] = []any{val(0)} })
	edit("value_negative", "operand -1 (a block argument that does not exist)", func(d obj) { findOp(d, "1.relu")["I"] = []any{val(-1)} })
	edit("value_missing_id", "operand without \"%\"", func(d obj) { findOp(d, "1.relu")["I"] = []any{obj{}} })
	edit("operands_object", "operands as an object", func(d obj) { findOp(d, "1.relu")["I"] = obj{"%": 109} })
	edit("operands_none", "relu with no operand", func(d obj) { findOp(d, "1.relu")["I"] = []any{} })
	edit("operands_extra", "relu with three operands", func(d obj) { findOp(d, "1.relu")["I"] = []any{val(109), val(109), val(109)} })
	edit("results_string", "results as a string", func(d obj) { findOp(d, "1.relu")["O"] = "110" })
	edit("results_none", "relu without results", func(d obj) { findOp(d, "1.relu")["O"] = []any{} })
	edit("result_dup", "two ops defining value 110", func(d obj) { findOp(d, "1.hardswish")["O"] = []any{res(110, f32t(-1, 4, 8, 8))} })
	edit("result_shape_lie", "relu result declared [N,4,9,9]", func(d obj) { findOp(d, "1.relu")["O"].([]any)[0].(obj)["TT"] = f32t(-1, 4, 9, 9) })
	edit("attrs_number", "attributes as a number", func(d obj) { findOp(d, "1.conv2d")["A"] = 5 })
	edit("attr_no_value", "attribute without AT", func(d obj) { findOp(d, "1.conv2d")["A"] = []any{obj{"N": "groups"}} })
	edit("attr_unknown_type", "attribute of type 0.a_complex", func(d obj) { findAttr(findOp(d, "1.conv2d"), "groups")["#"] = "0.a_complex" })
	edit("op_unknown", "op 1.gelu", func(d obj) { findOp(d, "1.relu")["#"] = "1.gelu" })
	edit("op_while", "control flow op 1.while", func(d obj) { findOp(d, "1.relu")["#"] = "1.while" })
	edit("op_cf", "cf dialect op 2.yield", func(d obj) { findOp(d, "1.relu")["#"] = "2.yield" })
	edit("op_id_empty", "op id \"\"", func(d obj) { findOp(d, "1.relu")["#"] = "" })
	edit("op_id_dot", "op id \"1.\"", func(d obj) { findOp(d, "1.relu")["#"] = "1." })
	edit("op_id_number", "op id is a number", func(d obj) { findOp(d, "1.relu")["#"] = 1 })
	edit("data_twice", "two data ops", func(d obj) {
		ops := pirOps(d)
		second := clone(findOp(d, "1.data"))
		second["O"].([]any)[0].(obj)["%"] = 200
		setPIROps(d, append(ops, second))
	})
	edit("data_missing", "no data op", func(d obj) {
		var ops []any
		for _, o := range pirOps(d) {
			if o.(obj)["#"] != "1.data" {
				ops = append(ops, o)
			}
		}
		setPIROps(d, ops)
	})
	edit("fetch_missing", "no fetch op", func(d obj) {
		ops := pirOps(d)
		setPIROps(d, ops[:len(ops)-1])
	})
	edit("fetch_twice", "two fetch ops", func(d obj) {
		ops := pirOps(d)
		f := clone(ops[len(ops)-1].(obj))
		f["O"].([]any)[0].(obj)["%"] = 300
		f["I"] = []any{val(110)}
		setPIROps(d, append(ops, f))
	})
	edit("fetch_param", "fetch of a parameter", func(d obj) { findOp(d, "1.fetch")["I"] = []any{val(1)} })
	{
		doc := clone(tinyPIR())
		ops := pirOps(doc)
		var out []any
		for _, o := range ops {
			m := o.(obj)
			if m["#"] == "1.relu" {
				prev := 109
				for k := range 150 {
					id := 1000 + k
					out = append(out, obj{"#": "1.relu", "I": []any{val(prev)}, "O": []any{res(id, f32t(-1, 4, 8, 8))}})
					prev = id
				}
				out = append(out, obj{"#": "1.relu", "I": []any{val(prev)}, "O": []any{res(110, f32t(-1, 4, 8, 8))}})
				continue
			}
			out = append(out, m)
		}
		setPIROps(doc, out)
		c.add("pir/mut_relu_150.json", mustJSON(doc), "150 chained relus: deep but legal (may load)")
	}

	// Attribute type confusion and absurd values.
	convAttr := func(name string, v any) func(d obj) {
		return func(d obj) { findAttr(findOp(d, "1.conv2d"), name)["D"] = v }
	}
	edit("groups_string", "groups \"1\"", convAttr("groups", "1"))
	edit("groups_zero", "groups 0", convAttr("groups", 0))
	edit("groups_negative", "groups -3", convAttr("groups", -3))
	edit("groups_two", "groups 2 for 3 input channels", convAttr("groups", 2))
	edit("groups_i32_overflow", "groups 2^40 as a_i32", convAttr("groups", int64(1)<<40))
	edit("strides_zero", "strides [0,0]", convAttr("strides", []any{obj{"#": "0.a_i32", "D": 0}, obj{"#": "0.a_i32", "D": 0}}))
	edit("strides_negative", "strides [-1,1]", convAttr("strides", []any{obj{"#": "0.a_i32", "D": -1}, obj{"#": "0.a_i32", "D": 1}}))
	edit("strides_huge", "strides [2^31-1,1]", convAttr("strides", []any{obj{"#": "0.a_i32", "D": math.MaxInt32}, obj{"#": "0.a_i32", "D": 1}}))
	edit("strides_three", "three strides", convAttr("strides", []any{obj{"#": "0.a_i32", "D": 1}, obj{"#": "0.a_i32", "D": 1}, obj{"#": "0.a_i32", "D": 1}}))
	edit("strides_empty", "no strides", convAttr("strides", []any{}))
	edit("strides_strings", "strides [\"1\",\"1\"]", convAttr("strides", []any{"1", "1"}))
	edit("strides_not_array", "strides as a_i32 7", func(d obj) {
		a := findAttr(findOp(d, "1.conv2d"), "strides")
		a["#"], a["D"] = "0.a_i32", 7
	})
	edit("paddings_negative", "paddings [-1,-1]", convAttr("paddings", []any{obj{"#": "0.a_i32", "D": -1}, obj{"#": "0.a_i32", "D": -1}}))
	edit("paddings_huge", "paddings [2^30,2^30]: a 2^31 x 2^31 output", convAttr("paddings", []any{obj{"#": "0.a_i32", "D": 1 << 30}, obj{"#": "0.a_i32", "D": 1 << 30}}))
	edit("paddings_65535", "paddings [65535,65535]: a 131k x 131k x 4 output", convAttr("paddings", []any{obj{"#": "0.a_i32", "D": 65535}, obj{"#": "0.a_i32", "D": 65535}}))
	edit("paddings_three", "three paddings", convAttr("paddings", []any{obj{"#": "0.a_i32", "D": 1}, obj{"#": "0.a_i32", "D": 1}, obj{"#": "0.a_i32", "D": 1}}))
	edit("dilations_zero", "dilations [0,0]", convAttr("dilations", []any{obj{"#": "0.a_i32", "D": 0}, obj{"#": "0.a_i32", "D": 0}}))
	edit("dilations_huge", "dilations [2^20,2^20]", convAttr("dilations", []any{obj{"#": "0.a_i32", "D": 1 << 20}, obj{"#": "0.a_i32", "D": 1 << 20}}))
	edit("padding_algorithm_bogus", "padding_algorithm BOGUS", convAttr("padding_algorithm", "BOGUS"))
	edit("padding_algorithm_number", "padding_algorithm 3", convAttr("padding_algorithm", 3))
	edit("data_format_nhwc", "data_format NHWC", convAttr("data_format", "NHWC"))
	edit("data_format_null", "data_format null", convAttr("data_format", nil))
	bnAttr := func(name string, v any) func(d obj) {
		return func(d obj) { findAttr(findOp(d, "1.batch_norm_"), name)["D"] = v }
	}
	edit("bn_epsilon_negative", "batch norm epsilon -1 (variance + eps < 0)", bnAttr("epsilon", -100.0))
	edit("bn_epsilon_huge", "batch norm epsilon 1e300 (overflows float32)", bnAttr("epsilon", 1e300))
	edit("bn_epsilon_string", "batch norm epsilon \"1e-5\"", bnAttr("epsilon", "1e-5"))
	edit("bn_training", "batch norm in training mode", bnAttr("is_test", false))
	edit("bn_is_test_int", "is_test 1 (an int for a bool)", bnAttr("is_test", 1))
	edit("bn_operands_short", "batch norm with 2 operands", func(d obj) { findOp(d, "1.batch_norm_")["I"] = []any{val(101), val(4)} })
	edit("softmax_axis_5", "softmax axis 5", func(d obj) { findAttr(findOp(d, "1.softmax"), "axis")["D"] = 5 })
	edit("softmax_axis_min", "softmax axis -2^31", func(d obj) { findAttr(findOp(d, "1.softmax"), "axis")["D"] = math.MinInt32 })
	edit("flatten_reversed", "flatten start 3 stop 1", func(d obj) {
		findAttr(findOp(d, "1.flatten"), "start_axis")["D"] = 3
		findAttr(findOp(d, "1.flatten"), "stop_axis")["D"] = 1
	})
	edit("matmul_transpose_y", "matmul with transpose_y on a [4,2] weight", func(d obj) { findAttr(findOp(d, "1.matmul"), "transpose_y")["D"] = true })
	edit("matmul_transpose_x", "matmul with transpose_x", func(d obj) { findAttr(findOp(d, "1.matmul"), "transpose_x")["D"] = true })
	edit("pool_kernel_zero", "pool2d kernel [0,0]", func(d obj) {
		findAttr(findOp(d, "1.full_int_array"), "value")["D"] = []any{obj{"#": "0.a_i64", "D": 0}, obj{"#": "0.a_i64", "D": 0}}
	})
	edit("pool_kernel_huge", "pool2d kernel [2^40,2^40], adaptive", func(d obj) {
		findAttr(findOp(d, "1.full_int_array"), "value")["D"] = []any{obj{"#": "0.a_i64", "D": int64(1) << 40}, obj{"#": "0.a_i64", "D": int64(1) << 40}}
	})
	edit("pool_not_adaptive_big", "non-adaptive pool2d with a 2^30 kernel", func(d obj) {
		findAttr(findOp(d, "1.pool2d"), "adaptive")["D"] = false
		findAttr(findOp(d, "1.full_int_array"), "value")["D"] = []any{obj{"#": "0.a_i64", "D": 1 << 30}, obj{"#": "0.a_i64", "D": 1 << 30}}
	})
	edit("pool_max", "max pooling", func(d obj) { findAttr(findOp(d, "1.pool2d"), "pooling_type")["D"] = "max" })
	edit("pool_kernel_from_param", "pool2d kernel read from a float parameter", func(d obj) { findOp(d, "1.pool2d")["I"] = []any{val(110), val(1)} })
	{
		doc := clone(tinyPIR())
		r := findOp(doc, "1.relu")
		r["A"] = []any{at("struct_name", "0.a_str", "/"+strings.Repeat("A", 16<<10)+"/")}
		c.add("pir/mut_struct_name_16k.json", mustJSON(doc), "a 16 KiB struct_name (may load)")
	}
}

func utf16le(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func genProgram(c *corpus, prog []byte) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, n := range truncOffsets(len(prog), 40) {
		c.add(fmt.Sprintf("pdmodel/trunc_%05d.pdmodel", n), prog[:n], "valid ProgramDesc cut short")
	}
	for i, n := range []int{16, 300, 4096} {
		c.add(fmt.Sprintf("pdmodel/random_%d.pdmodel", i), append([]byte{0x0a}, randBytes(r, n)...), "0x0a (field 1, bytes) then random bytes")
	}
	for i := range 8 {
		c.add(fmt.Sprintf("pdmodel/mut_flip_%d.pdmodel", i), flip(r, prog, 0, len(prog), 1+i%3), "valid program with bytes flipped (may load)")
	}
	add := func(name, desc string, b []byte) { c.add("pdmodel/"+name+".pdmodel", b, desc) }
	edit := func(name, desc string, f func(p *pbProgram)) {
		p := tinyProgram()
		f(&p)
		add(name, desc, p.bytes())
	}
	withBlob := func(name string, ps []tinyParam) {
		c.add("pdmodel/"+name+".pdiparams", joinRecords(records(ps)), "parameters matching "+name+".pdmodel")
	}
	findOp := func(p *pbProgram, typ string) *pbOpDesc {
		for i := range p.ops {
			if p.ops[i].typ == typ {
				return &p.ops[i]
			}
		}
		log.Fatalf("no op %s", typ)
		return nil
	}
	findVar := func(p *pbProgram, name string) *pbVarDesc {
		for i := range p.vars {
			if p.vars[i].name == name {
				return &p.vars[i]
			}
		}
		log.Fatalf("no var %s", name)
		return nil
	}
	setAttr := func(o *pbOpDesc, a pbAttr) {
		for i := range o.attrs {
			if o.attrs[i].name == a.name {
				o.attrs[i] = a
				return
			}
		}
		o.attrs = append(o.attrs, a)
	}

	// Wire-level lies.
	add("empty", "empty file", nil)
	add("varint_overlong", "a tag varint of 11 bytes", append([]byte{0x0a}, bytes.Repeat([]byte{0xff}, 11)...))
	add("len_past_end", "a block whose length runs past the end", append(protowire.AppendVarint([]byte{0x0a}, 1<<20), prog[2:100]...))
	add("len_2e63", "a block of length 2^63", protowire.AppendVarint([]byte{0x0a}, 1<<63))
	add("wiretype_6", "wire type 6 (invalid)", []byte{0x0e, 0x00})
	add("field_zero", "field number 0", []byte{0x02, 0x00})
	add("group_unclosed", "a start-group that never ends", append(prog, 0x1b, 0x08, 0x01))
	deep := make([]byte, 0, 24000)
	for range 12000 {
		deep = append(deep, 0x1b) // field 3, start group: skipped as unknown
	}
	for range 12000 {
		deep = append(deep, 0x1c)
	}
	add("group_deep", "12000 nested groups in an unknown field", append(append([]byte(nil), prog...), deep...))
	{
		// A block whose var list holds a var nested inside a var ... (unknown
		// fields are skipped, so only the bytes matter).
		var v []byte
		for range 3000 {
			v = pbBytes(nil, 9, v)
		}
		p := tinyProgram()
		b := p.bytes()
		add("mut_nested_unknown_3000", "3000 nested unknown length-delimited fields in the program (may load)", pbBytes(b, 9, v))
	}
	{
		// A packed ints attribute with 70000 elements (the limit is 65536).
		var packed []byte
		for range 70000 {
			packed = protowire.AppendVarint(packed, 1)
		}
		edit("ints_70000", "strides with 70000 packed elements", func(p *pbProgram) {
			setAttr(findOp(p, "conv2d"), pbAttr{"strides", 3, pbBytes(nil, 6, packed)})
		})
	}
	add("blocks_only_idx7", "the only block has idx 7, parent 0", pbBytes(nil, 1, pbVarint(pbVarint(nil, 1, 7), 2, 0)))
	{
		p := tinyProgram()
		b := p.bytes()
		var blk []byte
		_, _, n := protowire.ConsumeTag(b)
		blk, _ = protowire.ConsumeBytes(b[n:])
		add("mut_block_twice", "block 0 twice (the second is ignored or refused)", pbBytes(b, 1, blk))
	}

	// Variables.
	edit("var_twice", "variable x declared twice", func(p *pbProgram) { p.vars = append(p.vars, *findVar(p, "x")) })
	edit("var_dims_huge", "input [N,3,2^40,8]", func(p *pbProgram) { findVar(p, "x").dims = []int64{-1, 3, 1 << 40, 8} })
	edit("var_dims_neg", "input [N,3,-7,8]", func(p *pbProgram) { findVar(p, "x").dims = []int64{-1, 3, -7, 8} })
	edit("var_dims_min", "input [N,3,-2^63,8]", func(p *pbProgram) { findVar(p, "x").dims = []int64{-1, 3, math.MinInt64, 8} })
	edit("var_rank17", "input of rank 17", func(p *pbProgram) { findVar(p, "x").dims = make([]int64, 17) })
	edit("var_input_i64", "input of INT64", func(p *pbProgram) { findVar(p, "x").dtype = 3 })
	edit("param_dims_huge", "conv weight declared [4,3,2^40,3]", func(p *pbProgram) { findVar(p, "conv2d_0.w_0").dims = []int64{4, 3, 1 << 40, 3} })
	edit("param_dims_wrap", "conv weight [2^62+1,4,27]: product wraps to 108", func(p *pbProgram) {
		findVar(p, "conv2d_0.w_0").dims = []int64{(1 << 62) + 1, 4, 27}
	})
	{
		ps := tinyParams()
		ps[0].dims = []int64{(1 << 62) + 1, 4, 27}
		withBlob("param_dims_wrap", ps)
	}
	edit("param_int64", "a persistable INT64 parameter", func(p *pbProgram) { findVar(p, "linear_0.b_0").dtype = 3 })
	edit("param_selected_rows", "a persistable SELECTED_ROWS variable", func(p *pbProgram) { findVar(p, "linear_0.b_0").vtype = 8 })
	edit("param_no_tensor", "a persistable LOD_TENSOR without a tensor description", func(p *pbProgram) {
		v := findVar(p, "linear_0.b_0")
		v.vtype = 19
	})
	edit("param_missing", "a parameter used by an op but not declared", func(p *pbProgram) {
		var vs []pbVarDesc
		for _, v := range p.vars {
			if v.name != "linear_0.b_0" {
				vs = append(vs, v)
			}
		}
		p.vars = vs
	})
	edit("param_not_persistable", "a weight that is not persistable (no record for it)", func(p *pbProgram) {
		findVar(p, "linear_0.b_0").persistable = false
	})
	edit("param_extra", "an extra persistable variable no op uses (the blob lacks it)", func(p *pbProgram) {
		p.vars = append(p.vars, pbVarDesc{name: "zzz_extra", vtype: 7, dtype: 5, dims: []int64{3}, persistable: true})
	})
	edit("var_name_empty", "a variable with an empty name", func(p *pbProgram) { findVar(p, "r").name = "" })

	// Ops.
	edit("op_unknown", "op gelu", func(p *pbProgram) { findOp(p, "relu").typ = "gelu" })
	edit("op_while", "control flow op while", func(p *pbProgram) { findOp(p, "relu").typ = "while" })
	edit("op_type_empty", "an op without a type", func(p *pbProgram) { findOp(p, "relu").typ = "" })
	edit("feed_no_output", "feed without an output", func(p *pbProgram) { findOp(p, "feed").outs = nil })
	edit("feed_twice", "two feeds", func(p *pbProgram) {
		p.ops = append([]pbOpDesc{{typ: "feed", ins: []pbSlot{in("X", "feed")}, outs: []pbSlot{in("Out", "x")}}}, p.ops...)
	})
	edit("fetch_missing", "no fetch", func(p *pbProgram) { p.ops = p.ops[:len(p.ops)-1] })
	edit("slot_two_args", "relu X slot with two arguments", func(p *pbProgram) { findOp(p, "relu").ins = []pbSlot{in("X", "dw", "dw")} })
	edit("slot_unknown", "relu with an unknown input slot", func(p *pbProgram) {
		o := findOp(p, "relu")
		o.ins = append(o.ins, in("Bogus", "dw"))
	})
	edit("slot_undefined", "relu reading an undefined variable", func(p *pbProgram) { findOp(p, "relu").ins = []pbSlot{in("X", "nowhere")} })
	edit("cycle", "relu reading its own output", func(p *pbProgram) { findOp(p, "relu").ins = []pbSlot{in("X", "r")} })
	edit("use_before_def", "relu reading the softmax output", func(p *pbProgram) { findOp(p, "relu").ins = []pbSlot{in("X", "prob")} })
	edit("output_twice", "two ops writing r", func(p *pbProgram) { findOp(p, "hard_swish").outs = []pbSlot{in("Out", "r")} })
	edit("reshape_computed", "reshape2 to a computed ShapeTensor", func(p *pbProgram) {
		o := findOp(p, "flatten_contiguous_range")
		*o = pbOpDesc{typ: "reshape2", ins: []pbSlot{in("X", "pool"), in("ShapeTensor", "x")}, outs: []pbSlot{in("Out", "flat")}, attrs: []pbAttr{aInts("shape", 0, -1)}}
	})
	edit("reshape_two_minus1", "reshape2 shape [-1,-1]", func(p *pbProgram) {
		o := findOp(p, "flatten_contiguous_range")
		*o = pbOpDesc{typ: "reshape2", ins: []pbSlot{in("X", "pool")}, outs: []pbSlot{in("Out", "flat")}, attrs: []pbAttr{aInts("shape", -1, -1)}}
	})
	edit("reshape_huge", "reshape2 shape [0, 2^31-1, 2^31-1]", func(p *pbProgram) {
		o := findOp(p, "flatten_contiguous_range")
		*o = pbOpDesc{typ: "reshape2", ins: []pbSlot{in("X", "pool")}, outs: []pbSlot{in("Out", "flat")}, attrs: []pbAttr{aInts("shape", 0, math.MaxInt32, math.MaxInt32)}}
	})
	edit("mul_num_col_dims", "mul with x_num_col_dims 3", func(p *pbProgram) {
		o := findOp(p, "matmul_v2")
		o.typ = "mul"
		o.attrs = []pbAttr{aInt("x_num_col_dims", 3), aInt("y_num_col_dims", 1)}
	})

	// Attributes.
	conv := func(name, desc string, a pbAttr) {
		edit(name, desc, func(p *pbProgram) { setAttr(findOp(p, "conv2d"), a) })
	}
	{
		// groups without an AttrType: the writer's pbAttr always has one, so
		// the attribute is appended as raw bytes.
		q := tinyProgram()
		qo := findOp(&q, "conv2d")
		var keep []pbAttr
		for _, a := range qo.attrs {
			if a.name != "groups" {
				keep = append(keep, a)
			}
		}
		qo.attrs = keep
		add("attr_typeless", "groups without an AttrType", typelessProgram(q, pbVarint(pbString(nil, 1, "groups"), 3, 1)))
	}
	conv("attr_type_99", "an attribute of type 99", pbAttr{"groups", 99, pbVarint(nil, 3, 1)})
	conv("groups_string", "groups given as a STRING", aStr("groups", "1"))
	conv("groups_zero", "groups 0", aInt("groups", 0))
	conv("groups_negative", "groups -3", aInt("groups", -3))
	conv("strides_string", "strides given as a STRING", aStr("strides", "1,1"))
	conv("strides_float", "strides given as FLOATS", pbAttr{"strides", 4, append(pbFloat(nil, 7, 1), pbFloat(nil, 7, 1)...)})
	conv("strides_zero", "strides [0,0]", aInts("strides", 0, 0))
	conv("strides_negative", "strides [-2,1]", aInts("strides", -2, 1))
	conv("strides_empty", "strides []", aInts("strides"))
	conv("paddings_negative", "paddings [-1,-1]", aInts("paddings", -1, -1))
	conv("paddings_huge", "paddings [2^30,2^30]", aInts("paddings", 1<<30, 1<<30))
	conv("paddings_three", "three paddings", aInts("paddings", 1, 1, 1))
	conv("paddings_int32_wrap", "paddings 2^32+1 (int32 wraps to 1)", pbAttr{"paddings", 3, append(pbVarint(nil, 6, 1<<32+1), pbVarint(nil, 6, 1<<32+1)...)})
	conv("dilations_zero", "dilations [0,0]", aInts("dilations", 0, 0))
	conv("padding_algorithm_bogus", "padding_algorithm BOGUS", aStr("padding_algorithm", "BOGUS"))
	conv("data_format_nhwc", "data_format NHWC", aStr("data_format", "NHWC"))
	conv("scalar_type_99", "a SCALAR attribute of type 99", pbAttr{"groups", 16, pbBytes(nil, 20, pbVarint(nil, 1, 99))})
	edit("bn_epsilon_nan", "batch norm epsilon NaN", func(p *pbProgram) { setAttr(findOp(p, "batch_norm"), aFloat("epsilon", float32(math.NaN()))) })
	edit("bn_epsilon_neg", "batch norm epsilon -100", func(p *pbProgram) { setAttr(findOp(p, "batch_norm"), aFloat("epsilon", -100)) })
	edit("bn_training", "batch norm is_test false", func(p *pbProgram) {
		setAttr(findOp(p, "batch_norm"), aBool("is_test", false))
		setAttr(findOp(p, "batch_norm"), aBool("use_global_stats", false))
	})
	edit("pool_ksize_huge", "non-adaptive pool2d with ksize [2^30,2^30]", func(p *pbProgram) {
		o := findOp(p, "pool2d")
		setAttr(o, aBool("adaptive", false))
		setAttr(o, aInts("ksize", 1<<30, 1<<30))
	})
	edit("pool_ksize_zero", "adaptive pool2d to [0,0]", func(p *pbProgram) { setAttr(findOp(p, "pool2d"), aInts("ksize", 0, 0)) })
	edit("pool_type_max", "max pooling", func(p *pbProgram) { setAttr(findOp(p, "pool2d"), aStr("pooling_type", "max")) })
	edit("softmax_axis_9", "softmax axis 9", func(p *pbProgram) { setAttr(findOp(p, "softmax"), aInt("axis", 9)) })
	edit("add_axis_7", "elementwise_add axis 7", func(p *pbProgram) { setAttr(findOp(p, "elementwise_add"), aInt("axis", 7)) })
	edit("hardsigmoid_nan", "hard_sigmoid with slope NaN in place of relu", func(p *pbProgram) {
		o := findOp(p, "relu")
		o.typ = "hard_sigmoid"
		o.attrs = []pbAttr{aFloat("slope", float32(math.NaN())), aFloat("offset", 0.5)}
	})
	edit("hardsigmoid_inf", "hard_sigmoid with slope +Inf", func(p *pbProgram) {
		o := findOp(p, "relu")
		o.typ = "hard_sigmoid"
		o.attrs = []pbAttr{aFloat("slope", float32(math.Inf(1))), aFloat("offset", 0.5)}
	})
	edit("scale_inf", "scale by +Inf in place of relu", func(p *pbProgram) {
		o := findOp(p, "relu")
		o.typ = "scale"
		o.attrs = []pbAttr{aFloat("scale", float32(math.Inf(1))), aFloat("bias", 0), aBool("bias_after_scale", true)}
	})
	edit("dropout_prob_2", "dropout with prob 2 (scale -1) in place of relu", func(p *pbProgram) {
		o := findOp(p, "relu")
		o.typ = "dropout"
		o.attrs = []pbAttr{aFloat("dropout_prob", 2), aBool("is_test", true), aStr("dropout_implementation", "downgrade_in_infer")}
	})
}

// typelessProgram writes p with an extra raw attribute in its op 1 (conv2d).
func typelessProgram(p pbProgram, raw []byte) []byte {
	blk := pbVarint(nil, 1, 0)
	blk = pbVarint(blk, 2, uint64(0xffffffffffffffff))
	for _, v := range p.vars {
		blk = pbBytes(blk, 3, v.bytes())
	}
	for i, o := range p.ops {
		ob := o.bytes()
		if i == 1 {
			ob = pbBytes(ob, 4, raw)
		}
		blk = pbBytes(blk, 4, ob)
	}
	return pbBytes(nil, 1, blk)
}

func genPdiparams(c *corpus, blob []byte) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range truncOffsets(len(blob), 48) {
		c.add(fmt.Sprintf("pdiparams/trunc_%05d.pdiparams", n), blob[:n], "valid parameters cut short")
	}
	c.add("pdiparams/random_0.pdiparams", randBytes(r, 1024), "random bytes")
	c.add("pdiparams/random_zero_header.pdiparams", append(make([]byte, 12), randBytes(r, 1024)...), "zero record header then random bytes")
	for i := range 8 {
		// Flip bytes in the record headers (the first 60 bytes hold one).
		c.add(fmt.Sprintf("pdiparams/mut_flip_%d.pdiparams", i), flip(r, blob, 0, 60, 1+i%2), "a record header with bytes flipped (may load)")
	}
	c.add("pdiparams/mut_flip_data.pdiparams", flip(r, blob, 100, len(blob), 20), "weights with bytes flipped (loads: weights are data)")
	ps := tinyParams()
	variant := func(name, desc string, f func(rs []pdRecord) []pdRecord) {
		rs := f(records(ps))
		c.add("pdiparams/"+name+".pdiparams", joinRecords(rs), desc)
	}
	i32 := func(v int32) *int32 { return &v }
	variant("lod_version_1", "lod tensor version 1", func(rs []pdRecord) []pdRecord { rs[0].lodVersion = 1; return rs })
	variant("tensor_version_7", "tensor version 7", func(rs []pdRecord) []pdRecord { rs[0].tensorVersion = 7; return rs })
	variant("lod_level_1", "lod level 1 with one offset table", func(rs []pdRecord) []pdRecord {
		rs[0].lod = [][]byte{append(le64(0), le64(4)...)}
		return rs
	})
	variant("lod_level_9", "lod level 9 (limit 8)", func(rs []pdRecord) []pdRecord {
		for range 9 {
			rs[0].lod = append(rs[0].lod, le64(0))
		}
		return rs
	})
	variant("lod_bytes_odd", "a lod level of 7 bytes (not size_t multiples)", func(rs []pdRecord) []pdRecord {
		rs[0].lod = [][]byte{make([]byte, 7)}
		return rs
	})
	{
		b := joinRecords(records(ps))
		lie := append(append(le32(0), le64(1)...), le64(1<<62)...)
		c.add("pdiparams/lod_bytes_huge.pdiparams", append(lie, b[12:]...), "a lod level declaring 2^62 bytes")
		lie2 := append(le32(0), le64(math.MaxUint64)...)
		c.add("pdiparams/lod_level_max.pdiparams", append(lie2, b[12:]...), "lod level 2^64-1")
	}
	variant("desc_size_negative", "desc size -1", func(rs []pdRecord) []pdRecord { rs[0].descSize = i32(-1); return rs })
	variant("desc_size_min", "desc size -2^31", func(rs []pdRecord) []pdRecord { rs[0].descSize = i32(math.MinInt32); return rs })
	variant("desc_size_huge", "desc size 2^31-1", func(rs []pdRecord) []pdRecord { rs[0].descSize = i32(math.MaxInt32); return rs })
	variant("desc_size_5000", "desc size 5000 (limit 4096), bytes present", func(rs []pdRecord) []pdRecord {
		rs[0].desc = append(rs[0].desc, make([]byte, 5000-len(rs[0].desc))...)
		return rs
	})
	variant("desc_garbage", "desc of random bytes", func(rs []pdRecord) []pdRecord { rs[0].desc = randBytes(r, 9); return rs })
	variant("desc_empty", "empty desc", func(rs []pdRecord) []pdRecord { rs[0].desc = nil; return rs })
	variant("dtype_fp64", "a FP64 record (data sized for it)", func(rs []pdRecord) []pdRecord {
		rs[0].desc = tensorDesc(6, ps[0].dims)
		rs[0].data = append(rs[0].data, rs[0].data...)
		return rs
	})
	variant("dtype_int64", "an INT64 record", func(rs []pdRecord) []pdRecord { rs[0].desc = tensorDesc(3, []int64{2, 3, 3, 3}); return rs })
	variant("dtype_fp16", "an FP16 record", func(rs []pdRecord) []pdRecord {
		rs[0].desc = tensorDesc(4, []int64{4, 3, 3, 3})
		rs[0].data = rs[0].data[:len(rs[0].data)/2]
		return rs
	})
	variant("dtype_99", "data type 99", func(rs []pdRecord) []pdRecord { rs[0].desc = tensorDesc(99, []int64{4, 3, 3, 3}); return rs })
	variant("dims_huge", "dims [4,3,2^40,3] with 108 values", func(rs []pdRecord) []pdRecord { rs[0].desc = tensorDesc(5, []int64{4, 3, 1 << 40, 3}); return rs })
	variant("dims_negative", "dims [4,3,-3,3]", func(rs []pdRecord) []pdRecord { rs[0].desc = tensorDesc(5, []int64{4, 3, -3, 3}); return rs })
	variant("dims_wrap", "dims [2^62+1,4,27]: product wraps to 108", func(rs []pdRecord) []pdRecord {
		rs[0].desc = tensorDesc(5, []int64{(1 << 62) + 1, 4, 27})
		return rs
	})
	variant("dims_rank17", "dims of rank 17", func(rs []pdRecord) []pdRecord { rs[0].desc = tensorDesc(5, make([]int64, 17)); return rs })
	variant("dims_mismatch", "dims [3,4,3,3] (same count, wrong shape)", func(rs []pdRecord) []pdRecord {
		rs[0].desc = tensorDesc(5, []int64{3, 4, 3, 3})
		return rs
	})
	variant("dims_packed_1e6", "a desc with 10^6 packed dims", func(rs []pdRecord) []pdRecord {
		var packed []byte
		for range 4000 {
			packed = protowire.AppendVarint(packed, 1)
		}
		rs[0].desc = pbBytes(pbVarint(nil, 1, 5), 2, packed)
		return rs
	})
	variant("data_short", "first record missing 4 bytes of data", func(rs []pdRecord) []pdRecord { rs[0].data = rs[0].data[4:]; return rs })
	variant("trailing", "16 bytes after the last record", func(rs []pdRecord) []pdRecord {
		return append(rs, pdRecord{desc: tensorDesc(5, []int64{1}), data: le32(0)})
	})
	variant("missing_last", "the last record missing", func(rs []pdRecord) []pdRecord { return rs[:len(rs)-1] })
	variant("mut_swapped_same_shape", "the first two records ([4] each) swapped: undetectable, the format has no names", func(rs []pdRecord) []pdRecord { rs[0], rs[1] = rs[1], rs[0]; return rs })
	variant("swapped", "the two conv weights ([4,3,3,3] and [4,1,3,3]) swapped", func(rs []pdRecord) []pdRecord { rs[4], rs[5] = rs[5], rs[4]; return rs })
	variant("duplicated", "the first record twice", func(rs []pdRecord) []pdRecord { return append(rs[:1], rs...) })
	variant("empty", "no records", func(rs []pdRecord) []pdRecord { return nil })
	c.add("pdiparams/twice.pdiparams", append(append([]byte(nil), blob...), blob...), "the whole blob twice")
	variant("mut_nan_weights", "NaN and Inf weights (loads: weights are data)", func(rs []pdRecord) []pdRecord {
		nan := floatBytes([]float32{float32(math.NaN()), float32(math.Inf(1))})
		copy(rs[0].data, nan)
		return rs
	})
}

// ---------------------------------------------------------------------------
// ONNX: a hand-written ModelProto encoder, so that every field can lie.

type oTensor struct {
	name   string
	dims   []int64
	dtype  uint64 // 1 FLOAT, 7 INT64, 11 DOUBLE
	raw    []byte
	floats []float32 // float_data (packed)
	ints   []int64   // int64_data (packed)
	extra  []byte    // appended raw fields
}

func (t oTensor) bytes() []byte {
	var b []byte
	for _, d := range t.dims {
		b = pbVarint(b, 1, uint64(d))
	}
	b = pbVarint(b, 2, t.dtype)
	if len(t.floats) > 0 {
		var p []byte
		for _, f := range t.floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = pbBytes(b, 4, p)
	}
	if len(t.ints) > 0 {
		var p []byte
		for _, v := range t.ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = pbBytes(b, 7, p)
	}
	b = pbString(b, 8, t.name)
	if t.raw != nil {
		b = pbBytes(b, 9, t.raw)
	}
	return append(b, t.extra...)
}

// AttributeProto types.
const (
	atFLOAT   = 1
	atINT     = 2
	atSTRING  = 3
	atTENSOR  = 4
	atGRAPH   = 5
	atFLOATS  = 6
	atINTS    = 7
	atSTRINGS = 8
)

type oAttr struct {
	name string
	typ  uint64
	raw  []byte // value fields
}

func oInts(name string, vs ...int64) oAttr {
	var b []byte
	for _, v := range vs {
		b = pbVarint(b, 8, uint64(v))
	}
	return oAttr{name, atINTS, b}
}
func oInt(name string, v int64) oAttr { return oAttr{name, atINT, pbVarint(nil, 3, uint64(v))} }
func oFloat(name string, f float32) oAttr {
	return oAttr{name, atFLOAT, pbFloat(nil, 2, f)}
}
func oStr(name, s string) oAttr { return oAttr{name, atSTRING, pbString(nil, 4, s)} }

func (a oAttr) bytes() []byte {
	b := pbString(nil, 1, a.name)
	b = append(b, a.raw...)
	if a.typ != 0 {
		b = pbVarint(b, 20, a.typ)
	}
	return b
}

type oNode struct {
	op      string
	in, out []string
	name    string
	domain  string
	attrs   []oAttr
}

func (n oNode) bytes() []byte {
	var b []byte
	for _, s := range n.in {
		b = pbString(b, 1, s)
	}
	for _, s := range n.out {
		b = pbString(b, 2, s)
	}
	if n.name != "" {
		b = pbString(b, 3, n.name)
	}
	b = pbString(b, 4, n.op)
	for _, a := range n.attrs {
		b = pbBytes(b, 5, a.bytes())
	}
	if n.domain != "" {
		b = pbString(b, 7, n.domain)
	}
	return b
}

// oValue is a ValueInfoProto of a tensor; a dim is an int64 (dim_value) or
// a string (dim_param).
type oValue struct {
	name string
	elem uint64
	dims []any
	typ  []byte // replaces the TypeProto when set
}

func (v oValue) bytes() []byte {
	typ := v.typ
	if typ == nil {
		var shape []byte
		for _, d := range v.dims {
			var dim []byte
			switch d := d.(type) {
			case int64:
				dim = pbVarint(nil, 1, uint64(d))
			case int:
				dim = pbVarint(nil, 1, uint64(int64(d)))
			case string:
				dim = pbString(nil, 2, d)
			}
			shape = pbBytes(shape, 1, dim)
		}
		tt := pbVarint(nil, 1, v.elem)
		tt = pbBytes(tt, 2, shape)
		typ = pbBytes(nil, 1, tt)
	}
	b := pbString(nil, 1, v.name)
	return pbBytes(b, 2, typ)
}

type oOpset struct {
	domain  string
	version int64
}

type oModel struct {
	ir       int64
	opsets   []oOpset
	nodes    []oNode
	inits    []oTensor
	inputs   []oValue
	outputs  []oValue
	graphRaw []byte // appended to the GraphProto
	modelRaw []byte // appended to the ModelProto
	noGraph  bool
}

func (m oModel) graphBytes() []byte {
	var g []byte
	for _, n := range m.nodes {
		g = pbBytes(g, 1, n.bytes())
	}
	g = pbString(g, 2, "tiny")
	for _, t := range m.inits {
		g = pbBytes(g, 5, t.bytes())
	}
	for _, v := range m.inputs {
		g = pbBytes(g, 11, v.bytes())
	}
	for _, v := range m.outputs {
		g = pbBytes(g, 12, v.bytes())
	}
	return append(g, m.graphRaw...)
}

func (m oModel) bytes() []byte {
	b := pbVarint(nil, 1, uint64(m.ir))
	b = pbString(b, 2, "lcnet-hostile")
	if !m.noGraph {
		b = pbBytes(b, 7, m.graphBytes())
	}
	for _, o := range m.opsets {
		ob := []byte{}
		if o.domain != "" {
			ob = pbString(ob, 1, o.domain)
		}
		ob = pbVarint(ob, 2, uint64(o.version))
		b = pbBytes(b, 8, ob)
	}
	return append(b, m.modelRaw...)
}

// tinyONNX: x[N,3,8,8] -> Conv 4x3x3x3 (pads 1) -> Relu -> GlobalAveragePool
// -> Flatten -> Gemm (2x4, transB) -> Softmax.
func tinyONNX() oModel {
	return oModel{
		ir:      7,
		opsets:  []oOpset{{"", 13}},
		inputs:  []oValue{{name: "x", elem: 1, dims: []any{"N", 3, 8, 8}}},
		outputs: []oValue{{name: "y", elem: 1, dims: []any{"N", 2}}},
		inits: []oTensor{
			{name: "W", dims: []int64{4, 3, 3, 3}, dtype: 1, raw: floatBytes(f32s(108, 11))},
			{name: "B", dims: []int64{4}, dtype: 1, raw: floatBytes(f32s(4, 12))},
			{name: "W2", dims: []int64{2, 4}, dtype: 1, floats: f32s(8, 13)},
			{name: "B2", dims: []int64{2}, dtype: 1, floats: f32s(2, 14)},
		},
		nodes: []oNode{
			{op: "Conv", in: []string{"x", "W", "B"}, out: []string{"c"}, name: "conv",
				attrs: []oAttr{oInts("kernel_shape", 3, 3), oInts("pads", 1, 1, 1, 1), oInts("strides", 1, 1), oInt("group", 1), oInts("dilations", 1, 1)}},
			{op: "Relu", in: []string{"c"}, out: []string{"r"}, name: "relu"},
			{op: "GlobalAveragePool", in: []string{"r"}, out: []string{"p"}, name: "pool"},
			{op: "Flatten", in: []string{"p"}, out: []string{"f"}, name: "flatten", attrs: []oAttr{oInt("axis", 1)}},
			{op: "Gemm", in: []string{"f", "W2", "B2"}, out: []string{"g"}, name: "fc",
				attrs: []oAttr{oFloat("alpha", 1), oFloat("beta", 1), oInt("transB", 1)}},
			{op: "Softmax", in: []string{"g"}, out: []string{"y"}, name: "softmax", attrs: []oAttr{oInt("axis", -1)}},
		},
	}
}

func genONNX(c *corpus) {
	r := rand.New(rand.NewPCG(4, 4))
	base := tinyONNX().bytes()
	c.add("ok/tiny.onnx", base, "valid tiny ONNX model (Conv, Relu, GlobalAveragePool, Flatten, Gemm, Softmax)")
	for _, n := range truncOffsets(len(base), 40) {
		c.add(fmt.Sprintf("onnx/trunc_%05d.onnx", n), base[:n], "valid model cut short")
	}
	for i, n := range []int{16, 300, 4096} {
		c.add(fmt.Sprintf("onnx/random_%d.onnx", i), append([]byte{0x08, 0x07}, randBytes(r, n)...), "ir_version 7 then random bytes")
	}
	for i := range 8 {
		c.add(fmt.Sprintf("onnx/mut_flip_%d.onnx", i), flip(r, base, 0, len(base), 1+i%3), "valid model with bytes flipped (may load)")
	}
	add := func(name, desc string, b []byte) { c.add("onnx/"+name+".onnx", b, desc) }
	edit := func(name, desc string, f func(m *oModel)) {
		m := tinyONNX()
		f(&m)
		add(name, desc, m.bytes())
	}
	node := func(m *oModel, name string) *oNode {
		for i := range m.nodes {
			if m.nodes[i].name == name {
				return &m.nodes[i]
			}
		}
		log.Fatalf("no node %s", name)
		return nil
	}
	init := func(m *oModel, name string) *oTensor {
		for i := range m.inits {
			if m.inits[i].name == name {
				return &m.inits[i]
			}
		}
		log.Fatalf("no initializer %s", name)
		return nil
	}
	setAttr := func(n *oNode, a oAttr) {
		for i := range n.attrs {
			if n.attrs[i].name == a.name {
				n.attrs[i] = a
				return
			}
		}
		n.attrs = append(n.attrs, a)
	}

	// Model level.
	add("empty", "empty file", nil)
	edit("no_graph", "a model without a graph", func(m *oModel) { m.noGraph = true })
	edit("graph_twice", "two graphs (a second, empty one)", func(m *oModel) { m.modelRaw = pbBytes(nil, 7, nil) })
	edit("ir_version_huge", "ir_version 2^63-1", func(m *oModel) { m.ir = math.MaxInt64 })
	edit("ir_version_negative", "ir_version -1", func(m *oModel) { m.ir = -1 })
	edit("opset_none", "no opset_import", func(m *oModel) { m.opsets = nil })
	edit("opset_0", "opset 0", func(m *oModel) { m.opsets = []oOpset{{"", 0}} })
	edit("opset_99", "opset 99", func(m *oModel) { m.opsets = []oOpset{{"", 99}} })
	edit("opset_conflict", "opset 13 and opset 7 for the default domain", func(m *oModel) { m.opsets = append(m.opsets, oOpset{"", 7}) })
	edit("opset_custom_domain", "Relu from domain com.evil", func(m *oModel) {
		m.opsets = append(m.opsets, oOpset{"com.evil", 1})
		node(m, "relu").domain = "com.evil"
	})
	edit("function_override", "a local function named Relu in the model's functions", func(m *oModel) {
		fn := pbString(nil, 1, "Relu")
		fn = pbString(fn, 4, "X")
		fn = pbString(fn, 5, "Y")
		fn = pbBytes(fn, 7, oNode{op: "Neg", in: []string{"X"}, out: []string{"Y"}}.bytes())
		fn = pbString(fn, 10, "")
		m.modelRaw = pbBytes(nil, 25, fn)
		node(m, "relu").domain = "local"
		m.opsets = append(m.opsets, oOpset{"local", 1})
	})
	{
		// 10000 nested sequence types in the input's TypeProto.
		var t []byte = pbBytes(nil, 1, pbVarint(nil, 1, 1))
		for range 3000 {
			t = pbBytes(nil, 4, pbBytes(nil, 1, t))
		}
		edit("type_nested_3000", "input type: 3000 nested sequences", func(m *oModel) { m.inputs[0].typ = t })
	}
	{
		// An If node whose then-branch holds a graph holding an If ... 500 deep.
		var g []byte
		for range 500 {
			n := oNode{op: "If", in: []string{"cond"}, out: []string{"o"}, attrs: []oAttr{{"then_branch", atGRAPH, pbBytes(nil, 6, g)}}}
			g = pbBytes(nil, 1, n.bytes())
		}
		edit("subgraph_nested_500", "an If whose branches nest 500 graphs deep", func(m *oModel) {
			m.nodes = append([]oNode{{op: "If", in: []string{"x"}, out: []string{"dead"}, name: "if", attrs: []oAttr{{"then_branch", atGRAPH, pbBytes(nil, 6, g)}}}}, m.nodes...)
		})
	}
	{
		var shape []byte
		for range 5000 {
			shape = pbBytes(shape, 1, pbVarint(nil, 1, 1))
		}
		tt := pbBytes(pbVarint(nil, 1, 1), 2, shape)
		edit("input_rank_5000", "input of rank 5000", func(m *oModel) { m.inputs[0].typ = pbBytes(nil, 1, tt) })
	}

	// Inputs and outputs.
	edit("input_int64", "input of INT64", func(m *oModel) { m.inputs[0].elem = 7 })
	edit("input_string", "input of STRING", func(m *oModel) { m.inputs[0].elem = 8 })
	edit("input_elem_0", "input of element type 0 (undefined)", func(m *oModel) { m.inputs[0].elem = 0 })
	edit("input_dims_huge", "input [N,3,2^40,8]", func(m *oModel) { m.inputs[0].dims = []any{"N", 3, int64(1) << 40, 8} })
	edit("input_dims_2e31", "input [N,3,2^31,2^31]", func(m *oModel) { m.inputs[0].dims = []any{"N", 3, int64(1) << 31, int64(1) << 31} })
	edit("input_dims_negative", "input [N,3,-5,8]", func(m *oModel) { m.inputs[0].dims = []any{"N", 3, -5, 8} })
	edit("input_dims_zero", "input [N,3,0,8]", func(m *oModel) { m.inputs[0].dims = []any{"N", 3, 0, 8} })
	edit("input_channels_param", "input channels symbolic", func(m *oModel) { m.inputs[0].dims = []any{"N", "C", 8, 8} })
	edit("input_rank_1", "input of rank 1", func(m *oModel) { m.inputs[0].dims = []any{"N"} })
	edit("input_none", "no graph input", func(m *oModel) { m.inputs = nil })
	edit("input_two", "two graph inputs", func(m *oModel) {
		m.inputs = append(m.inputs, oValue{name: "x2", elem: 1, dims: []any{"N", 3, 8, 8}})
	})
	edit("input_dim_param_16k", "a 16 KiB dim_param", func(m *oModel) { m.inputs[0].dims = []any{strings.Repeat("N", 16<<10), 3, 8, 8} })
	edit("output_missing", "graph output never produced", func(m *oModel) { m.outputs[0].name = "nowhere" })
	edit("output_none", "no graph output", func(m *oModel) { m.outputs = nil })
	edit("output_two", "two graph outputs", func(m *oModel) { m.outputs = append(m.outputs, oValue{name: "r", elem: 1, dims: []any{"N", 4, 8, 8}}) })
	edit("output_is_input", "the graph output is the input", func(m *oModel) { m.outputs[0].name = "x" })

	// Initializers.
	edit("init_dims_huge", "W dims [4,3,2^40,3] with 108 values", func(m *oModel) { init(m, "W").dims = []int64{4, 3, 1 << 40, 3} })
	edit("init_dims_wrap", "W dims [2^62+1,4,27]: product wraps to 108", func(m *oModel) { init(m, "W").dims = []int64{(1 << 62) + 1, 4, 27} })
	edit("init_dims_wrap0", "W dims [2^32,2^32,108] with no data: product wraps to 0", func(m *oModel) {
		w := init(m, "W")
		w.dims, w.raw = []int64{1 << 32, 1 << 32, 108}, []byte{}
	})
	edit("init_dims_negative", "W dims [4,3,-3,3]", func(m *oModel) { init(m, "W").dims = []int64{4, 3, -3, 3} })
	edit("init_raw_short", "W raw_data one byte short", func(m *oModel) { w := init(m, "W"); w.raw = w.raw[:len(w.raw)-1] })
	edit("init_raw_long", "W raw_data 4 bytes long", func(m *oModel) { w := init(m, "W"); w.raw = append(w.raw, 0, 0, 0, 0) })
	edit("init_floats_short", "W2 float_data with 7 of 8 values", func(m *oModel) { w := init(m, "W2"); w.floats = w.floats[:7] })
	edit("init_raw_and_floats", "W2 with both raw_data and float_data", func(m *oModel) { w := init(m, "W2"); w.raw = floatBytes(w.floats) })
	edit("init_no_data", "W without any data", func(m *oModel) { init(m, "W").raw = nil })
	edit("init_double", "W as DOUBLE (raw data sized for it)", func(m *oModel) {
		w := init(m, "W")
		w.dtype, w.raw = 11, append(w.raw, w.raw...)
	})
	edit("init_dtype_0", "W of data type 0", func(m *oModel) { init(m, "W").dtype = 0 })
	edit("init_dtype_99", "W of data type 99", func(m *oModel) { init(m, "W").dtype = 99 })
	edit("init_string", "W of STRING data", func(m *oModel) {
		w := init(m, "W")
		w.dtype, w.raw = 8, nil
		w.extra = pbString(nil, 6, "hello")
	})
	external := func(loc string) func(m *oModel) {
		return func(m *oModel) {
			w := init(m, "W")
			w.raw = nil
			e := pbBytes(nil, 13, append(pbString(nil, 1, "location"), pbString(nil, 2, loc)...))
			e = pbBytes(e, 13, append(pbString(nil, 1, "length"), pbString(nil, 2, "432")...))
			w.extra = pbVarint(e, 14, 1) // data_location EXTERNAL
		}
	}
	edit("init_external_etc_passwd", "W stored externally in /etc/passwd", external("/etc/passwd"))
	edit("init_external_traversal", "W stored externally in ../../../../../../etc/passwd", external("../../../../../../etc/passwd"))
	edit("init_external_missing", "W stored externally in weights.bin (absent)", external("weights.bin"))
	edit("init_external_proc", "W stored externally in /proc/self/mem", external("/proc/self/mem"))
	edit("init_segment", "W with a segment (chunked tensor)", func(m *oModel) {
		init(m, "W").extra = pbBytes(nil, 3, append(pbVarint(nil, 1, 0), pbVarint(nil, 2, 1<<40)...))
	})
	edit("init_dup_name", "two initializers named W", func(m *oModel) {
		m.inits = append(m.inits, oTensor{name: "W", dims: []int64{2}, dtype: 1, raw: floatBytes([]float32{1, 2})})
	})
	edit("init_named_x", "an initializer named like the input, with other dims", func(m *oModel) {
		m.inits = append(m.inits, oTensor{name: "x", dims: []int64{1}, dtype: 1, raw: floatBytes([]float32{1})})
	})
	edit("init_nameless", "an initializer without a name", func(m *oModel) { init(m, "B2").name = "" })
	edit("mut_init_nan", "NaN and Inf weights (loads: weights are data)", func(m *oModel) {
		w := init(m, "W")
		copy(w.raw, floatBytes([]float32{float32(math.NaN()), float32(math.Inf(-1))}))
	})

	// Nodes.
	edit("node_unknown", "an unknown op NonMaxSuppression", func(m *oModel) { node(m, "relu").op = "NonMaxSuppression" })
	edit("node_op_empty", "a node without op_type", func(m *oModel) { node(m, "relu").op = "" })
	edit("node_ms_domain", "com.microsoft FusedConv", func(m *oModel) {
		n := node(m, "relu")
		n.op, n.domain = "FusedConv", "com.microsoft"
	})
	edit("node_undefined_input", "relu reads an undefined value", func(m *oModel) { node(m, "relu").in = []string{"nowhere"} })
	edit("node_cycle", "relu reads its own output", func(m *oModel) { node(m, "relu").in = []string{"r"} })
	edit("node_two_writers", "two nodes writing r", func(m *oModel) { node(m, "pool").out = []string{"r"} })
	edit("node_writes_input", "a node writing the graph input", func(m *oModel) { node(m, "relu").out = []string{"x"} })
	edit("node_empty_output", "relu with output \"\"", func(m *oModel) { node(m, "relu").out = []string{""} })
	edit("node_no_outputs", "relu without outputs", func(m *oModel) { node(m, "relu").out = nil })
	edit("conv_no_weight", "Conv without its weight input", func(m *oModel) { node(m, "conv").in = []string{"x"} })
	edit("conv_five_inputs", "Conv with five inputs", func(m *oModel) { node(m, "conv").in = []string{"x", "W", "B", "B", "B"} })
	edit("conv_weight_computed", "Conv weight is a computed value", func(m *oModel) { node(m, "conv").in = []string{"x", "x"} })
	convA := func(name, desc string, a oAttr) {
		edit(name, desc, func(m *oModel) { setAttr(node(m, "conv"), a) })
	}
	convA("conv_group_0", "group 0", oInt("group", 0))
	convA("conv_group_neg", "group -1", oInt("group", -1))
	convA("conv_group_2", "group 2 for 3 channels", oInt("group", 2))
	convA("conv_group_2e40", "group 2^40", oInt("group", 1<<40))
	convA("conv_group_float", "group as a FLOAT", oFloat("group", 1))
	convA("conv_group_tensor", "group as a TENSOR", oAttr{"group", atTENSOR, pbBytes(nil, 5, oTensor{dims: []int64{1}, dtype: 7, ints: []int64{1}}.bytes())})
	convA("conv_group_no_type", "group without an attribute type, value in f", oAttr{"group", 0, pbFloat(nil, 2, 1)})
	convA("conv_strides_zero", "strides [0,0]", oInts("strides", 0, 0))
	convA("conv_strides_neg", "strides [-1,1]", oInts("strides", -1, 1))
	convA("conv_strides_huge", "strides [2^40,1]", oInts("strides", 1<<40, 1))
	convA("conv_strides_string", "strides as a STRING", oStr("strides", "1,1"))
	convA("conv_strides_one", "one stride", oInts("strides", 1))
	convA("conv_pads_neg", "pads [-1,-1,-1,-1]", oInts("pads", -1, -1, -1, -1))
	convA("conv_pads_huge", "pads [2^30 x4]", oInts("pads", 1<<30, 1<<30, 1<<30, 1<<30))
	convA("conv_pads_65535", "pads [65535 x4]: a 131k x 131k output", oInts("pads", 65535, 65535, 65535, 65535))
	convA("conv_pads_three", "three pads", oInts("pads", 1, 1, 1))
	convA("conv_pads_int32_wrap", "pads 2^32+1 (wraps to 1 in 32 bits)", oInts("pads", 1<<32+1, 1<<32+1, 1<<32+1, 1<<32+1))
	convA("conv_kernel_mismatch", "kernel_shape [5,5] for a 3x3 weight", oInts("kernel_shape", 5, 5))
	convA("conv_dilations_zero", "dilations [0,0]", oInts("dilations", 0, 0))
	convA("conv_dilations_huge", "dilations [2^20,2^20]", oInts("dilations", 1<<20, 1<<20))
	convA("conv_auto_pad_bogus", "auto_pad BOGUS", oStr("auto_pad", "BOGUS"))
	convA("conv_attr_no_name", "an attribute without a name", oAttr{"", atINT, pbVarint(nil, 3, 1)})
	{
		var packed []byte
		for range 70000 {
			packed = protowire.AppendVarint(packed, 1)
		}
		convA("conv_strides_70000", "strides with 70000 packed elements", oAttr{"strides", atINTS, pbBytes(nil, 8, packed)})
	}
	edit("gemm_transb_7", "Gemm transB 7", func(m *oModel) { setAttr(node(m, "fc"), oInt("transB", 7)) })
	edit("gemm_alpha_nan", "Gemm alpha NaN", func(m *oModel) { setAttr(node(m, "fc"), oFloat("alpha", float32(math.NaN()))) })
	edit("gemm_alpha_inf", "Gemm alpha +Inf", func(m *oModel) { setAttr(node(m, "fc"), oFloat("alpha", float32(math.Inf(1)))) })
	edit("gemm_transa", "Gemm transA 1", func(m *oModel) { setAttr(node(m, "fc"), oInt("transA", 1)) })
	edit("gemm_no_transb", "Gemm without transB on a [2,4] weight", func(m *oModel) { node(m, "fc").attrs = nil })
	edit("softmax_axis_99", "Softmax axis 99", func(m *oModel) { setAttr(node(m, "softmax"), oInt("axis", 99)) })
	edit("flatten_axis_neg99", "Flatten axis -99", func(m *oModel) { setAttr(node(m, "flatten"), oInt("axis", -99)) })
	reshape := func(name, desc string, shape ...int64) {
		edit(name, desc, func(m *oModel) {
			*node(m, "flatten") = oNode{op: "Reshape", in: []string{"p", "shape"}, out: []string{"f"}, name: "flatten"}
			m.inits = append(m.inits, oTensor{name: "shape", dims: []int64{int64(len(shape))}, dtype: 7, ints: shape})
		})
	}
	reshape("reshape_two_minus1", "Reshape to [-1,-1]", -1, -1)
	reshape("reshape_huge", "Reshape to [0, 2^40]", 0, 1<<40)
	reshape("reshape_negative", "Reshape to [0, -7]", 0, -7)
	reshape("reshape_wrap", "Reshape to [0, 2^62+1, 4]: product wraps to 4", 0, (1<<62)+1, 4)
	edit("reshape_shape_float", "Reshape with a FLOAT shape tensor", func(m *oModel) {
		*node(m, "flatten") = oNode{op: "Reshape", in: []string{"p", "shape"}, out: []string{"f"}, name: "flatten"}
		m.inits = append(m.inits, oTensor{name: "shape", dims: []int64{2}, dtype: 1, floats: []float32{1, 4}})
	})
	edit("hardsigmoid_alpha_int", "HardSigmoid alpha given as an INT", func(m *oModel) {
		*node(m, "relu") = oNode{op: "HardSigmoid", in: []string{"c"}, out: []string{"r"}, name: "relu", attrs: []oAttr{oInt("alpha", 3)}}
	})
	edit("hardsigmoid_alpha_0", "HardSigmoid alpha 0", func(m *oModel) {
		*node(m, "relu") = oNode{op: "HardSigmoid", in: []string{"c"}, out: []string{"r"}, name: "relu", attrs: []oAttr{oFloat("alpha", 0)}}
	})
	edit("clip_min_gt_max", "Clip with min 6 > max 0", func(m *oModel) {
		*node(m, "relu") = oNode{op: "Clip", in: []string{"c", "cmin", "cmax"}, out: []string{"r"}, name: "relu"}
		m.inits = append(m.inits, oTensor{name: "cmin", dtype: 1, raw: floatBytes([]float32{6})}, oTensor{name: "cmax", dtype: 1, raw: floatBytes([]float32{0})})
	})
	edit("mul_inf", "Mul by an Inf scalar", func(m *oModel) {
		*node(m, "relu") = oNode{op: "Mul", in: []string{"c", "k"}, out: []string{"r"}, name: "relu"}
		m.inits = append(m.inits, oTensor{name: "k", dtype: 1, raw: floatBytes([]float32{float32(math.Inf(1))})})
	})
	{
		m := tinyONNX()
		var nodes []oNode
		for _, n := range m.nodes {
			if n.name == "relu" {
				prev := "c"
				for k := range 1000 {
					o := fmt.Sprintf("i%d", k)
					nodes = append(nodes, oNode{op: "Identity", in: []string{prev}, out: []string{o}})
					prev = o
				}
				n.in = []string{prev}
			}
			nodes = append(nodes, n)
		}
		m.nodes = nodes
		add("mut_identity_1000", "1000 chained Identity nodes (may load)", m.bytes())
	}
}

// ---------------------------------------------------------------------------
// Pickles (.pdparams).

// pk writes pickle opcodes.
type pk struct{ b []byte }

func (p *pk) op(b ...byte) *pk { p.b = append(p.b, b...); return p }
func (p *pk) proto(v byte) *pk { return p.op(0x80, v) }
func (p *pk) str(s string) *pk { // BINUNICODE
	p.op('X')
	p.b = append(p.b, le32(uint32(len(s)))...)
	p.b = append(p.b, s...)
	return p
}
func (p *pk) short(s string) *pk { // SHORT_BINUNICODE
	p.op(0x8c, byte(len(s)))
	p.b = append(p.b, s...)
	return p
}
func (p *pk) bin(b []byte) *pk { // BINBYTES
	p.op('B')
	p.b = append(p.b, le32(uint32(len(b)))...)
	p.b = append(p.b, b...)
	return p
}
func (p *pk) int(v int64) *pk {
	switch {
	case v >= 0 && v < 256:
		return p.op('K', byte(v))
	case v >= 0 && v < 65536:
		return p.op('M', byte(v), byte(v>>8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.op('J')
		p.b = append(p.b, le32(uint32(int32(v)))...)
		return p
	}
	// LONG1 little-endian two's complement, 8 bytes.
	p.op(0x8a, 8)
	p.b = append(p.b, le64(uint64(v))...)
	return p
}
func (p *pk) global(mod, name string) *pk { // GLOBAL (protocols 0-3)
	p.op('c')
	p.b = append(p.b, mod+"\n"+name+"\n"...)
	return p
}
func (p *pk) stackGlobal(mod, name string) *pk { // STACK_GLOBAL (protocol 4)
	return p.short(mod).short(name).op(0x93)
}
func (p *pk) tuple(items ...func(*pk)) *pk {
	p.op('(')
	for _, f := range items {
		f(p)
	}
	return p.op('t')
}

// latin1 pushes _codecs.encode(text, "latin1"): how protocol 2 pickles bytes.
func (p *pk) latin1(b []byte) *pk {
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	return p.global("_codecs", "encode").str(s.String()).str("latin1").op(0x86, 'R')
}

// arrayOpts are the lies an ndarray pickle can tell.
type arrayOpts struct {
	proto   int
	shape   []int64
	shapeFn func(*pk) // replaces the shape tuple
	dtype   string    // "f4" by default
	order   string    // "<" by default
	fortran bool
	data    []byte
	dataFn  func(*pk) // replaces the data
	state   func(*pk) // replaces the whole BUILD state
}

// array pushes numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')
// with BUILD (1, shape, dtype, fortran, data), as numpy pickles an array.
func (p *pk) array(o arrayOpts) *pk {
	p.global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").int(0).op(0x85)
	if o.proto >= 3 {
		p.op('C', 1, 'b')
	} else {
		p.latin1([]byte("b"))
	}
	p.op(0x87, 'R')
	if o.state != nil {
		o.state(p)
		return p.op('b')
	}
	p.op('(').int(1)
	if o.shapeFn != nil {
		o.shapeFn(p)
	} else {
		p.op('(')
		for _, d := range o.shape {
			p.int(d)
		}
		p.op('t')
	}
	dt, order := o.dtype, o.order
	if dt == "" {
		dt = "f4"
	}
	if order == "" {
		order = "<"
	}
	p.global("numpy", "dtype").str(dt).op(0x89, 0x88, 0x87, 'R')
	p.op('(').int(3).str(order).op('N', 'N', 'N').int(-1).int(-1).int(0).op('t', 'b')
	if o.fortran {
		p.op(0x88)
	} else {
		p.op(0x89)
	}
	switch {
	case o.dataFn != nil:
		o.dataFn(p)
	case o.proto >= 3:
		p.bin(o.data)
	default:
		p.latin1(o.data)
	}
	return p.op('t', 'b')
}

// stateDict pickles sd (names sorted) the way paddle.save does, with the
// StructuredToParameterName@@ entry.
func stateDict(proto int, sd map[string]*graph.Tensor) []byte {
	p := (&pk{}).proto(byte(proto)).op('}', 0x94)
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p.op('(')
	for _, k := range keys {
		t := sd[k]
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		p.str(k).array(arrayOpts{proto: proto, shape: shape, data: floatBytes(t.Data)})
	}
	p.str("StructuredToParameterName@@").op('}', '(')
	for _, k := range keys {
		p.str(k).str("param_" + k)
	}
	p.op('u', 'u', '.')
	return p.b
}

// tinyStateDict is a PP-LCNet at scale 0.01 (every layer 8 channels), no
// head conv, 2 classes, with fc.weight in Paddle's [in, out] layout.
func tinyStateDict() map[string]*graph.Tensor {
	cfg := pplcnet.Default(0.01)
	cfg.UseLastConv, cfg.Classes = false, 2
	g, err := pplcnet.Build(cfg, 5)
	if err != nil {
		log.Fatal(err)
	}
	sd := g.StateDict()
	w := sd["fc.weight"]
	out, inN := w.Shape[0], w.Shape[1]
	t := &graph.Tensor{Shape: []int{inN, out}, Data: make([]float32, inN*out)}
	for o := 0; o < out; o++ {
		for i := 0; i < inN; i++ {
			t.Data[i*out+o] = w.Data[o*inN+i]
		}
	}
	sd["fc.weight"] = t
	return sd
}

func genPdparams(c *corpus) {
	r := rand.New(rand.NewPCG(5, 5))
	sd := tinyStateDict()
	p4 := stateDict(4, sd)
	p2 := stateDict(2, sd)
	c.add("ok/tiny_p4.pdparams", p4, "valid PaddleClas state dict, protocol 4 (PP-LCNet scale 0.01, no head conv, 2 classes)")
	c.add("ok/tiny_p2.pdparams", p2, "the same, protocol 2 (bytes as _codecs.encode)")
	for _, n := range truncOffsets(len(p4), 18) {
		c.add(fmt.Sprintf("pdparams/trunc_p4_%05d.pdparams", n), p4[:n], "valid state dict cut short")
	}
	for _, n := range truncOffsets(len(p2), 12)[8:11] {
		c.add(fmt.Sprintf("pdparams/trunc_p2_%05d.pdparams", n), p2[:n], "valid protocol-2 state dict cut short")
	}
	c.add("pdparams/random_0.pdparams", append([]byte{0x80, 0x04}, randBytes(r, 2000)...), "PROTO 4 then random bytes")
	c.add("pdparams/random_1.pdparams", append([]byte{0x80, 0x02}, randBytes(r, 300)...), "PROTO 2 then random bytes")
	add := func(name, desc string, b []byte) { c.add("pdparams/"+name+".pdparams", b, desc) }

	// Payloads that run `touch "$LCNET_HOSTILE_SENTINEL"` when Python
	// unpickles them (exec_*: the test checks this with python3 when it is
	// installed, to prove the payloads are live), and that lcnet must refuse.
	add("exec_os_system_p2", "os.system(touch) via GLOBAL", (&pk{}).proto(2).global("os", "system").str(touch).op(0x85, 'R', '.').b)
	add("exec_posix_system_p2", "posix.system(touch) via GLOBAL", (&pk{}).proto(2).global("posix", "system").str(touch).op(0x85, 'R', '.').b)
	add("exec_builtins_eval_p2", "builtins.eval(\"__import__('os').system(...)\")",
		(&pk{}).proto(2).global("builtins", "eval").str(`__import__('os').system('`+touch+`')`).op(0x85, 'R', '.').b)
	add("exec_builtins_exec_p4", "builtins.exec via STACK_GLOBAL inside a FRAME",
		framed((&pk{}).stackGlobal("builtins", "exec").op(0x94).str(`import os; os.system('`+touch+`')`).op(0x85, 'R', '.').b))
	add("exec_subprocess_popen_p4", "subprocess.Popen(('sh','-c',touch)) via STACK_GLOBAL",
		(&pk{}).proto(4).stackGlobal("subprocess", "Popen").op('(').short("sh").short("-c").str(touch).op('t', 0x85, 'R', '.').b)
	add("exec_subprocess_call_p3", "subprocess.call(['sh','-c',touch]) via GLOBAL",
		(&pk{}).proto(3).global("subprocess", "call").op(']', '(').short("sh").short("-c").str(touch).op('e', 0x85, 'R', '.').b)
	add("exec_os_popen_p2", "os.popen(touch).read()", (&pk{}).proto(2).global("os", "popen").str(touch).op(0x85, 'R', '.').b)
	add("exec_memo_stack_global_p4", "STACK_GLOBAL whose module and name come from the memo",
		(&pk{}).proto(4).short("os").op(0x94).short("system").op(0x94).op('0', '0').op('h', 0, 'h', 1, 0x93).str(touch).op(0x85, 'R', '.').b)
	add("exec_dotted_name_p4", "STACK_GLOBAL ('subprocess', 'os.system'): a dotted name reaching os",
		(&pk{}).proto(4).stackGlobal("subprocess", "os.system").str(touch).op(0x85, 'R', '.').b)
	add("exec_in_dict_value_p2", "a state dict whose first value is os.system(touch)",
		(&pk{}).proto(2).op('}').str("conv1.conv.weight").global("os", "system").str(touch).op(0x85, 'R', 's', '.').b)
	add("exec_inst_opcode_p2", "INST opcode (imports and calls os.system)",
		(&pk{}).proto(2).op('(').str(touch).op('i').op([]byte("os\nsystem\n")...).op('.').b)
	add("exec_obj_opcode_p2", "OBJ opcode (calls os.system)", (&pk{}).proto(2).op('(').global("os", "system").str(touch).op('o', '.').b)
	add("exec_getattr_import_p4", "getattr(__import__('os'), 'system')(touch)",
		(&pk{}).proto(4).stackGlobal("builtins", "getattr").stackGlobal("builtins", "__import__").short("os").op(0x85, 'R').short("system").op(0x86, 'R').str(touch).op(0x85, 'R', '.').b)
	inner := (&pk{}).proto(2).global("os", "system").str(touch).op(0x85, 'R', '.').b
	add("exec_nested_pickle_loads_p4", "pickle.loads(<a pickle calling os.system>)",
		(&pk{}).proto(4).stackGlobal("pickle", "loads").bin(inner).op(0x85, 'R', '.').b)
	add("exec_after_numpy_array_p4", "a valid array entry, then os.system(touch) as the next value (needs numpy to run)",
		(&pk{}).proto(4).op('}', '(').str("a").array(arrayOpts{proto: 4, shape: []int64{2}, data: floatBytes([]float32{1, 2})}).
			str("b").global("os", "system").str(touch).op(0x85, 'R', 'u', '.').b)
	add("exec_reconstruct_of_system_p2", "numpy _reconstruct applied to os.system (forbidden at GLOBAL)",
		(&pk{}).proto(2).global("numpy.core.multiarray", "_reconstruct").global("os", "system").str(touch).op(0x85).op('C', 1, 'b', 0x87, 'R', '.').b)

	// Other forbidden globals, each called on a harmless argument.
	for _, g := range [][2]string{
		{"nt", "system"}, {"numpy", "load"}, {"numpy.testing._private.utils", "runstring"}, {"numpy.lib.npyio", "load"},
		{"numpy.core.multiarray", "fromstring"}, {"numpy", "frombuffer"}, {"numpy.ctypeslib", "load_library"},
		{"torch._utils", "_rebuild_tensor_v2"}, {"torch", "FloatStorage"}, {"__main__", "Exploit"}, {"copyreg", "_reconstructor"},
		{"copy_reg", "_reconstructor"}, {"functools", "partial"}, {"operator", "attrgetter"}, {"webbrowser", "open"},
		{"shutil", "rmtree"}, {"sys", "exit"}, {"runpy", "_run_code"}, {"timeit", "timeit"}, {"pty", "spawn"}, {"ctypes", "CDLL"},
		{"builtins", "open"}, {"builtins", "compile"}, {"__builtin__", "eval"}, {"io", "open"}, {"pickle", "load"},
		{"collections", "OrderedDict.fromkeys"}, {"collections", "defaultdict"}, {"numpy", "dtype.__class__"},
		{"_codecs", "decode"}, {"_codecs", "register"}, {"_codecs", "lookup"}, {"codecs", "encode"}, {"zlib", "decompress"},
		{"numpy.core.multiarray ", "_reconstruct"}, {"numpy.core.multiarray", "_reconstruct "}, {"NUMPY", "ndarray"},
		{"numpy\x00os", "system"}, {"numpу", "ndarray"}, {"numpy.core.multiarray.os", "system"}, {"", ""},
	} {
		name := strings.NewReplacer(".", "_", " ", "SP", "\x00", "NUL", "у", "CYR").Replace(g[0] + "__" + g[1])
		add("global_"+name+"_p2", "forbidden global "+fmt.Sprintf("%q.%q", g[0], g[1])+" via GLOBAL",
			(&pk{}).proto(2).global(g[0], g[1]).str("x").op(0x85, 'R', '.').b)
		add("global_"+name+"_p4", "forbidden global "+fmt.Sprintf("%q.%q", g[0], g[1])+" via STACK_GLOBAL",
			(&pk{}).proto(4).stackGlobal(g[0], g[1]).str("x").op(0x85, 'R', '.').b)
	}
	add("global_crlf", "GLOBAL numpy\\r\\nndarray\\r\\n", (&pk{}).proto(2).op('c').op([]byte("numpy\r\nndarray\r\n")...).op('.').b)
	add("global_no_newline", "GLOBAL operand without a newline", (&pk{}).proto(2).op('c').op([]byte("os system")...).b)
	add("global_300_chars", "GLOBAL module of 300 characters", (&pk{}).proto(2).global(strings.Repeat("a", 300), "b").op('.').b)
	add("stack_global_ints", "STACK_GLOBAL on two integers", (&pk{}).proto(4).int(1).int(2).op(0x93, '.').b)
	add("stack_global_empty", "STACK_GLOBAL on an empty stack", (&pk{}).proto(4).op(0x93, '.').b)

	// _codecs.encode: whitelisted for protocol 2 bytes, but only as
	// encode(latin-1 text, "latin1").
	codecs := func(name, desc string, args func(*pk)) {
		p := (&pk{}).proto(2).op('}').str("conv1.conv.weight").global("_codecs", "encode")
		args(p)
		add("codecs_"+name, desc, p.op('R', 's', '.').b)
	}
	codecs("zlib", "_codecs.encode('x', 'zlib_codec')", func(p *pk) { p.str("x").str("zlib_codec").op(0x86) })
	codecs("base64", "_codecs.encode(..., 'base64')", func(p *pk) { p.str("aGVsbG8=").str("base64").op(0x86) })
	codecs("rot13", "_codecs.encode(..., 'rot13')", func(p *pk) { p.str("hello").str("rot13").op(0x86) })
	codecs("hex", "_codecs.encode(..., 'hex')", func(p *pk) { p.str("hello").str("hex").op(0x86) })
	codecs("utf8", "_codecs.encode(..., 'utf-8')", func(p *pk) { p.str("héllo").str("utf-8").op(0x86) })
	codecs("three_args", "_codecs.encode(text, 'latin1', 'strict')", func(p *pk) { p.str("x").str("latin1").str("strict").op(0x87) })
	codecs("one_arg", "_codecs.encode(text)", func(p *pk) { p.str("x").op(0x85) })
	codecs("bytes_arg", "_codecs.encode(b'x', 'latin1')", func(p *pk) { p.op('C', 1, 'x').str("latin1").op(0x86) })
	codecs("int_arg", "_codecs.encode(5, 'latin1')", func(p *pk) { p.int(5).str("latin1").op(0x86) })
	codecs("encoding_int", "_codecs.encode('x', 7)", func(p *pk) { p.str("x").int(7).op(0x86) })
	codecs("non_latin1", "_codecs.encode('€', 'latin1')", func(p *pk) { p.str("€").str("latin1").op(0x86) })
	codecs("args_list", "_codecs.encode called with a list, not a tuple", func(p *pk) { p.op(']').str("x").op('a') })
	add("codecs_as_reconstruct_class", "_reconstruct(_codecs.encode, (0,), b'b')",
		(&pk{}).proto(2).op('}').str("conv1.conv.weight").global("numpy.core.multiarray", "_reconstruct").global("_codecs", "encode").int(0).op(0x85).op('C', 1, 'b', 0x87, 'R', 's', '.').b)
	add("codecs_array_data_short", "an array whose _codecs.encode data is 3 bytes short",
		(&pk{}).proto(2).op('}').str("conv1.conv.weight").array(arrayOpts{proto: 2, shape: []int64{4}, data: make([]byte, 13)}).op('s', '.').b)

	// Arrays that lie, as the first entry of a state dict.
	arr := func(name, desc string, o arrayOpts) {
		if o.proto == 0 {
			o.proto = 4
		}
		add("array_"+name, desc, (&pk{}).proto(byte(o.proto)).op('}').str("conv1.conv.weight").array(o).op('s', '.').b)
	}
	arr("shape_2e40", "shape (2^40,) with 4 bytes of data", arrayOpts{shape: []int64{1 << 40}, data: make([]byte, 4)})
	arr("shape_neg", "shape (-1,)", arrayOpts{shape: []int64{-1}, data: make([]byte, 4)})
	arr("shape_wrap0", "shape (2^32, 2^32) with no data: product wraps to 0", arrayOpts{shape: []int64{1 << 32, 1 << 32}, data: []byte{}})
	arr("shape_wrap108", "shape (2^62+1, 4, 27) with 108 floats: product wraps to 108", arrayOpts{shape: []int64{(1 << 62) + 1, 4, 27}, data: make([]byte, 432)})
	arr("shape_string", "shape '3'", arrayOpts{shapeFn: func(p *pk) { p.str("3") }, data: make([]byte, 12)})
	arr("shape_nested", "shape ((2,),)", arrayOpts{shapeFn: func(p *pk) { p.op('(').int(2).op(0x85, 't') }, data: make([]byte, 8)})
	arr("shape_float", "shape (2.0,)", arrayOpts{shapeFn: func(p *pk) { p.op('(', 'G').op(le64r(math.Float64bits(2))...).op('t') }, data: make([]byte, 8)})
	arr("shape_nan", "shape (nan,)", arrayOpts{shapeFn: func(p *pk) { p.op('(', 'G').op(le64r(math.Float64bits(math.NaN()))...).op('t') }, data: make([]byte, 8)})
	arr("shape_rank40", "an array of rank 40", arrayOpts{shape: make([]int64, 40), data: []byte{}})
	arr("shape_huge_long", "shape (LONG1 of 255 bytes,)", arrayOpts{shapeFn: func(p *pk) {
		p.op('(', 0x8a, 255).op(bytes.Repeat([]byte{0x7f}, 255)...).op('t')
	}, data: make([]byte, 4)})
	arr("dtype_object", "dtype 'O' (object array)", arrayOpts{dtype: "O", shape: []int64{1}, dataFn: func(p *pk) { p.op(']').global("os", "system").op('a') }})
	arr("dtype_S4", "dtype '|S4'", arrayOpts{dtype: "S4", order: "|", shape: []int64{1}, data: []byte("abcd")})
	arr("dtype_f16", "dtype '<f16' (long double)", arrayOpts{dtype: "f16", shape: []int64{1}, data: make([]byte, 16)})
	arr("dtype_c8", "dtype '<c8' (complex)", arrayOpts{dtype: "c8", shape: []int64{1}, data: make([]byte, 8)})
	arr("dtype_long_name", "a 100-character dtype name", arrayOpts{dtype: strings.Repeat("f", 100), shape: []int64{1}, data: make([]byte, 4)})
	arr("dtype_order_bogus", "byte order '!'", arrayOpts{order: "!", shape: []int64{1}, data: make([]byte, 4)})
	arr("fortran_2d", "a Fortran-ordered 2-D array", arrayOpts{shape: []int64{2, 2}, fortran: true, data: make([]byte, 16)})
	arr("data_long", "shape (1,) with 8 bytes of data", arrayOpts{shape: []int64{1}, data: make([]byte, 8)})
	arr("data_list", "data as a list of floats", arrayOpts{shape: []int64{1}, dataFn: func(p *pk) { p.op(']').int(1).op('a') }})
	arr("data_none", "data None", arrayOpts{shape: []int64{1}, dataFn: func(p *pk) { p.op('N') }})
	arr("state_short", "BUILD state of 2 items", arrayOpts{state: func(p *pk) { p.int(1).int(2).op(0x86) }})
	arr("state_dict", "BUILD state is a dict", arrayOpts{state: func(p *pk) { p.op('}') }})
	add("array_built_twice", "BUILD applied twice to one array",
		(&pk{}).proto(4).op('}').str("w").array(arrayOpts{proto: 4, shape: []int64{1}, data: make([]byte, 4)}).
			op('(').int(1).op('(').int(1).op('t').global("numpy", "dtype").str("f4").op(0x89, 0x88, 0x87, 'R', 0x89).bin(make([]byte, 4)).op('t', 'b', 's', '.').b)
	add("reconstruct_2_args", "_reconstruct with 2 arguments",
		(&pk{}).proto(4).op('}').str("w").global("numpy.core.multiarray", "_reconstruct").global("numpy", "ndarray").int(0).op(0x85, 0x86, 'R', 's', '.').b)
	add("dtype_build_garbage", "dtype BUILD state of a string",
		(&pk{}).proto(4).op('}').str("w").global("numpy", "dtype").str("f4").op(0x89, 0x88, 0x87, 'R').str("junk").op('b', 's', '.').b)
	add("scalar_wrong", "numpy scalar(dtype, 2 bytes) for f4",
		(&pk{}).proto(4).op('}').str("w").global("numpy.core.multiarray", "scalar").global("numpy", "dtype").str("f4").op(0x89, 0x88, 0x87, 'R').op('C', 2, 0, 0).op(0x86, 'R', 's', '.').b)

	// Keys and values.
	one := func(p *pk) *pk { return p.array(arrayOpts{proto: 4, shape: []int64{1}, data: make([]byte, 4)}) }
	add("key_int", "a dict key that is an int", one((&pk{}).proto(4).op('}').int(5)).op('s', '.').b)
	add("key_none", "a dict key that is None", one((&pk{}).proto(4).op('}').op('N')).op('s', '.').b)
	add("key_tuple", "a dict key that is a tuple", one((&pk{}).proto(4).op('}').op(')')).op('s', '.').b)
	add("key_duplicate", "conv1.conv.weight twice, with different shapes",
		(&pk{}).proto(4).op('}', '(').str("conv1.conv.weight").array(arrayOpts{proto: 4, shape: []int64{1}, data: make([]byte, 4)}).
			str("conv1.conv.weight").array(arrayOpts{proto: 4, shape: []int64{2}, data: make([]byte, 8)}).op('u', '.').b)
	add("key_nul", "a key with a NUL byte", one((&pk{}).proto(4).op('}').str("conv1\x00.conv.weight")).op('s', '.').b)
	add("value_none", "a value None", (&pk{}).proto(4).op('}').str("w").op('N', 's', '.').b)
	add("value_list", "a value that is a list", (&pk{}).proto(4).op('}').str("w").op(']', 's', '.').b)
	add("value_tuple3", "a value that is a 3-tuple", one((&pk{}).proto(4).op('}').str("w").str("name")).int(1).op(0x87, 's', '.').b)
	add("top_list", "the pickle holds a list, not a dict", (&pk{}).proto(4).op(']', '.').b)
	add("top_int", "the pickle holds an int", (&pk{}).proto(4).int(5).op('.').b)
	add("empty_dict", "an empty state dict", (&pk{}).proto(4).op('}', '.').b)

	// The machine itself.
	add("binunicode_4g", "BINUNICODE of length 2^32-1", (&pk{}).proto(4).op('X').op(le32(math.MaxUint32)...).op('a', '.').b)
	add("binunicode8_2e63", "BINUNICODE8 of length 2^63", (&pk{}).proto(4).op(0x8d).op(le64(1<<63)...).op('.').b)
	add("binbytes8_max", "BINBYTES8 of length 2^64-1", (&pk{}).proto(4).op(0x8e).op(le64(math.MaxUint64)...).op('.').b)
	add("short_binbytes_past_end", "SHORT_BINBYTES of 255 with 3 bytes left", (&pk{}).proto(4).op('C', 255, 1, 2, 3).b)
	add("frame_huge", "FRAME of length 2^62", (&pk{}).proto(4).op(0x95).op(le64(1<<62)...).op('}', '.').b)
	add("long4_huge", "LONG4 of length 2^31-1", (&pk{}).proto(4).op(0x8b).op(le32(math.MaxInt32)...).op('.').b)
	add("binget_unset", "BINGET of an unset memo slot", (&pk{}).proto(4).op('h', 5, '.').b)
	add("long_binget_max", "LONG_BINGET 2^32-1", (&pk{}).proto(4).op('j').op(le32(math.MaxUint32)...).op('.').b)
	add("long_binput_max", "LONG_BINPUT 2^32-1 (a sparse memo)", (&pk{}).proto(4).op('}', 'r').op(le32(math.MaxUint32)...).op('.').b)
	add("binput_empty_stack", "BINPUT on an empty stack", (&pk{}).proto(4).op('q', 0, '.').b)
	add("memoize_empty_stack", "MEMOIZE on an empty stack", (&pk{}).proto(4).op(0x94, '.').b)
	add("marks_2000", "2000 nested MARKs", append(append((&pk{}).proto(4).b, bytes.Repeat([]byte{'('}, 2000)...), '.'))
	add("tuples_2000", "2000 nested tuples", append(append((&pk{}).proto(4).op(')').b, bytes.Repeat([]byte{0x85}, 2000)...), '.'))
	add("stop_empty", "STOP on an empty stack", (&pk{}).proto(4).op('.').b)
	add("stop_two", "STOP with two items on the stack", (&pk{}).proto(4).op('}', '}', '.').b)
	add("no_stop", "no STOP", (&pk{}).proto(4).op('}').b)
	add("pop_empty", "POP on an empty stack", (&pk{}).proto(4).op('0', '.').b)
	add("pop_mark_none", "POP_MARK without a MARK", (&pk{}).proto(4).op('1', '.').b)
	add("setitem_on_list", "SETITEM on a list", (&pk{}).proto(4).op(']').str("k").str("v").op('s', '.').b)
	add("setitems_odd", "SETITEMS with 3 items", (&pk{}).proto(4).op('}', '(').str("k").str("v").str("w").op('u', '.').b)
	add("append_on_dict", "APPEND on a dict", (&pk{}).proto(4).op('}').int(1).op('a', '.').b)
	add("tuple_no_mark", "TUPLE without a MARK", (&pk{}).proto(4).int(1).op('t', '.').b)
	add("reduce_on_int", "REDUCE on an int", (&pk{}).proto(4).int(1).op(')', 'R', '.').b)
	add("build_on_dict", "BUILD on a dict", (&pk{}).proto(4).op('}', '}', 'b', '.').b)
	add("self_list", "a list that contains itself, as a value",
		(&pk{}).proto(4).op('}').str("w").op(']', 'q', 0, 'h', 0, 'a', 's', '.').b)
	add("self_dict", "a dict that contains itself", (&pk{}).proto(4).op('}', 'q', 0).str("w").op('h', 0, 's', '.').b)
	{
		// Nine levels of lists, each holding ten references to the level
		// below: 10^9 leaves from a few hundred bytes, if anything walks it.
		p := (&pk{}).proto(4).op('}').str("w").op(']', 'q', 0)
		for lvl := 1; lvl <= 9; lvl++ {
			p.op(']', '(')
			for range 10 {
				p.op('h', byte(lvl-1))
			}
			p.op('e', 'q', byte(lvl))
		}
		add("laughs_lists", "nine levels of ten shared lists (10^9 leaves)", p.op('s', '.').b)
	}
	for _, o := range []struct {
		name string
		b    []byte
	}{
		{"op_persid", []byte("P1\n")}, {"op_binpersid", []byte{'K', 1, 'Q'}}, {"op_ext1", []byte{0x82, 1}},
		{"op_newobj", []byte{')', ')', 0x81}}, {"op_newobj_ex", []byte{')', ')', '}', 0x92}}, {"op_bytearray8", append([]byte{0x96}, le64(4)...)},
		{"op_next_buffer", []byte{0x97}}, {"op_readonly_buffer", []byte{0x98}}, {"op_0xff", []byte{0xff}},
		{"op_string", []byte("S'x'\n")}, {"op_unicode", []byte("Vx\n")}, {"op_int", []byte("I1\n")}, {"op_float", []byte("F1.0\n")},
		{"op_long", []byte("L1L\n")}, {"op_get", []byte("p0\ng0\n")}, {"op_dict", []byte("(d")}, {"op_list", []byte("(l")},
	} {
		add("vm_"+o.name, "opcode the machine must refuse: "+o.name, append(append((&pk{}).proto(4).b, o.b...), '.'))
	}
	add("vm_proto_6", "PROTO 6", (&pk{}).proto(6).op('}', '.').b)
	add("vm_proto_255", "PROTO 255", (&pk{}).proto(255).op('}', '.').b)
	add("vm_proto_twice", "PROTO 4 then PROTO 0", (&pk{}).proto(4).proto(0).op('}', '.').b)
	{
		// Memo amplification: one 32 KiB array stored in the memo and
		// referenced by 4000 keys. The file is ~60 KiB; decoding every
		// entry separately allocates 4000 x 32 KiB = 125 MiB.
		p := (&pk{}).proto(4).op('}', '(').short("a0").array(arrayOpts{proto: 4, shape: []int64{8192}, data: make([]byte, 32768)}).op('q', 0)
		for i := 1; i < 4000; i++ {
			p.short(fmt.Sprintf("a%d", i)).op('h', 0)
		}
		add("memo_amplify_4000", "one 32 KiB array referenced by 4000 keys (125 MiB if copied per key)", p.op('u', '.').b)
	}
	{
		// The same amplification with a structure that loads: the tiny
		// network's state dict in which every pointwise weight and BN
		// vector is one memoised array per shape.
		add("mut_memo_shared_weights", "the tiny state dict with equal-shaped weights shared through the memo (may load)", sharedStateDict(sd))
	}
}

// le64r is le64 in big-endian order (BINFLOAT is big-endian).
func le64r(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// framed wraps protocol-4 opcodes in PROTO 4 + one FRAME.
func framed(body []byte) []byte {
	b := []byte{0x80, 4, 0x95}
	b = append(b, le64(uint64(len(body)))...)
	return append(b, body...)
}

// sharedStateDict pickles sd with every tensor of a repeated shape written
// once and referenced through the memo afterwards.
func sharedStateDict(sd map[string]*graph.Tensor) []byte {
	p := (&pk{}).proto(4).op('}', '(')
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	memo := map[string]uint32{}
	next := uint32(0)
	for _, k := range keys {
		t := sd[k]
		key := fmt.Sprint(t.Shape)
		p.str(k)
		if id, ok := memo[key]; ok {
			p.op('j').op(le32(id)...)
			continue
		}
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		p.array(arrayOpts{proto: 4, shape: shape, data: floatBytes(t.Data)})
		p.op('r').op(le32(next)...)
		memo[key] = next
		next++
	}
	return p.op('u', '.').b
}

// ---------------------------------------------------------------------------
// safetensors: u64 header length, JSON header, data.

func stFile(header string, data []byte) []byte {
	b := le64(uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func genSafetensors(c *corpus) {
	r := rand.New(rand.NewPCG(6, 6))
	// A valid timm-layout file: PP-LCNet at scale 0.01 (8 channels
	// everywhere), head conv of 8, 2 classes.
	cfg := pplcnet.Default(0.01)
	cfg.ClassExpand, cfg.Classes = 8, 2
	g, err := pplcnet.Build(cfg, 7)
	if err != nil {
		log.Fatal(err)
	}
	var tb bytes.Buffer
	if err := safetensors.Write(g, &tb); err != nil {
		log.Fatal(err)
	}
	timm := tb.Bytes()
	c.add("ok/tiny.safetensors", timm, "valid timm-layout PP-LCNet (scale 0.01, head 8, 2 classes)")
	for _, n := range truncOffsets(len(timm), 14) {
		c.add(fmt.Sprintf("safetensors/trunc_timm_%05d.safetensors", n), timm[:n], "valid timm file cut short")
	}
	hlen := binary.LittleEndian.Uint64(timm)
	header, body := string(timm[8:8+hlen]), timm[8+hlen:]
	lie := func(name, desc, old, repl string) {
		if !strings.Contains(header, old) {
			log.Fatalf("safetensors: no %q in the header", old)
		}
		c.add("safetensors/"+name+".safetensors", stFile(strings.Replace(header, old, repl, 1), body), desc)
	}
	lie("timm_stem_shape", "conv_stem.weight declared [8,3,3,4] (same bytes, wrong shape)", `"shape":[8,3,3,3]`, `"shape":[8,3,3,4]`)
	lie("timm_stem_renamed", "conv_stem.weight renamed", `"conv_stem.weight"`, `"conv_stem.weigh"`)
	lie("timm_bf16", "conv_stem.weight declared BF16", `"dtype":"F32","shape":[8,3,3,3]`, `"dtype":"BF16","shape":[8,3,3,3]`)
	c.add("safetensors/timm_trailing.safetensors", append(append([]byte(nil), timm...), 0, 0, 0, 0), "4 bytes after the last tensor")
	data := floatBytes(f32s(12, 21))
	good := `{"__metadata__":{"format":"pt"},"conv_stem.weight":{"dtype":"F32","shape":[1,3,2,2],"data_offsets":[0,48]}}`
	base := stFile(good, data)
	c.add("safetensors/mut_valid_not_a_model.safetensors", base, "a well-formed safetensors file that is not a PP-LCNet")
	for _, n := range truncOffsets(len(base), 16) {
		c.add(fmt.Sprintf("safetensors/trunc_%05d.safetensors", n), base[:n], "valid file cut short")
	}
	c.add("safetensors/random.safetensors", append(le64(200), randBytes(r, 200)...), "header length 200, random bytes")
	add := func(name, desc string, b []byte) { c.add("safetensors/"+name+".safetensors", b, desc) }
	hdr := func(name, desc, h string) { add(name, desc, stFile(h, data)) }
	add("len_2e63", "header length 2^63", append(le64(1<<63), good...))
	add("len_4g", "header length 2^32", append(le64(1<<32), good...))
	add("len_past_end", "header length past the end", append(le64(uint64(len(good)+100)), good...))
	add("len_zero", "header length 0", append(le64(0), data...))
	add("len_short", "header length 7", append(le64(7), good...))
	hdr("not_json", "header is not JSON", "this is not json at all")
	hdr("array", "header is a JSON array", `[1,2,3]`)
	hdr("deep", "header nested 5000 deep", strings.Repeat("[", 5000)+strings.Repeat("]", 5000))
	hdr("dup_name", "a tensor name twice", `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`)
	for _, dt := range []string{"F64", "I64", "BF16", "F8_E4M3", "BOGUS", ""} {
		hdr("dtype_"+strings.ToLower(dt), "dtype "+dt, `{"w":{"dtype":"`+dt+`","shape":[12],"data_offsets":[0,48]}}`)
	}
	hdr("dtype_number", "dtype 5", `{"w":{"dtype":5,"shape":[12],"data_offsets":[0,48]}}`)
	hdr("shape_huge", "shape [2^40]", `{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,48]}}`)
	hdr("shape_negative", "shape [-12]", `{"w":{"dtype":"F32","shape":[-12],"data_offsets":[0,48]}}`)
	hdr("shape_wrap", "shape [2^62+1, 4, 3]: product wraps to 12", `{"w":{"dtype":"F32","shape":[4611686018427387905,4,3],"data_offsets":[0,48]}}`)
	hdr("shape_float", "shape [1.5]", `{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,48]}}`)
	hdr("shape_string", "shape \"12\"", `{"w":{"dtype":"F32","shape":"12","data_offsets":[0,48]}}`)
	hdr("shape_1e400", "shape [1e400]", `{"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,48]}}`)
	hdr("shape_rank40", "shape of rank 40", `{"w":{"dtype":"F32","shape":[`+strings.TrimSuffix(strings.Repeat("1,", 40), ",")+`],"data_offsets":[0,4]}}`)
	hdr("offsets_reversed", "data_offsets [48,0]", `{"w":{"dtype":"F32","shape":[12],"data_offsets":[48,0]}}`)
	hdr("offsets_past_end", "data_offsets [0,2^40]", `{"w":{"dtype":"F32","shape":[12],"data_offsets":[0,1099511627776]}}`)
	hdr("offsets_negative", "data_offsets [-4,44]", `{"w":{"dtype":"F32","shape":[12],"data_offsets":[-4,44]}}`)
	hdr("offsets_three", "three data_offsets", `{"w":{"dtype":"F32","shape":[12],"data_offsets":[0,24,48]}}`)
	hdr("offsets_mismatch", "shape [12] with 40 bytes", `{"w":{"dtype":"F32","shape":[12],"data_offsets":[0,40]}}`)
	hdr("offsets_overlap", "two tensors sharing bytes", `{"a":{"dtype":"F32","shape":[12],"data_offsets":[0,48]},"b":{"dtype":"F32","shape":[12],"data_offsets":[0,48]}}`)
	hdr("offsets_missing", "no data_offsets", `{"w":{"dtype":"F32","shape":[12]}}`)
	hdr("metadata_not_string", "__metadata__ with a nested object", `{"__metadata__":{"a":{"b":[1,2,3]}},"w":{"dtype":"F32","shape":[12],"data_offsets":[0,48]}}`)
	hdr("name_empty", "a tensor named \"\"", `{"":{"dtype":"F32","shape":[12],"data_offsets":[0,48]}}`)
	hdr("name_nul", "a tensor name with a NUL", `{"w\u0000x":{"dtype":"F32","shape":[12],"data_offsets":[0,48]}}`)
	hdr("tensor_not_object", "a tensor entry that is a number", `{"w":7}`)
}

// ---------------------------------------------------------------------------
// .npy

func npyFile(major byte, header string, data []byte) []byte {
	b := []byte("\x93NUMPY")
	b = append(b, major, 0)
	h := header
	pre := 10
	if major >= 2 {
		pre = 12
	}
	for (pre+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	if major >= 2 {
		b = append(b, le32(uint32(len(h)))...)
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	}
	b = append(b, h...)
	return append(b, data...)
}

func genNPY(c *corpus) {
	r := rand.New(rand.NewPCG(7, 7))
	var buf bytes.Buffer
	if err := npy.Write(&buf, &npy.Array{Shape: []int{1, 3, 8, 8}, Data: f32s(192, 31)}); err != nil {
		log.Fatal(err)
	}
	good := buf.Bytes()
	c.add("ok/tiny.npy", good, "valid [1,3,8,8] float32 array: the input of the ok/ models")
	for _, n := range truncOffsets(len(good), 24) {
		c.add(fmt.Sprintf("npy/trunc_%05d.npy", n), good[:n], "valid array cut short")
	}
	c.add("npy/random.npy", append([]byte("\x93NUMPY\x01\x00"), randBytes(r, 300)...), "magic then random bytes")
	data := floatBytes(f32s(12, 32))
	hdr := func(name, desc, h string, d []byte) { c.add("npy/"+name+".npy", npyFile(1, h, d), desc) }
	h := func(descr, fortran, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	c.add("npy/header_len_65535.npy", append([]byte("\x93NUMPY\x01\x00\xff\xff"), "{'descr': '<f4'"...), "v1 header length 65535, file ends")
	c.add("npy/header_len_4g.npy", append([]byte("\x93NUMPY\x03\x00\xff\xff\xff\xff"), "{'descr': '<f4'"...), "v3 header length 2^32-1")
	c.add("npy/version_9.npy", npyFile(9, h("<f4", "False", "(12,)"), data), "format version 9.0")
	c.add("npy/only_magic.npy", []byte("\x93NUMPY"), "only the magic")
	c.add("npy/empty.npy", nil, "empty file")
	hdr("descr_f8", "descr '<f8'", h("<f8", "False", "(6,)"), data)
	hdr("descr_i4", "descr '<i4'", h("<i4", "False", "(12,)"), data)
	hdr("descr_f2", "descr '<f2'", h("<f2", "False", "(24,)"), data)
	payload := (&pk{}).proto(2).global("os", "system").str(touch).op(0x85, 'R', '.').b
	hdr("descr_object_pickle", "descr '|O': the data is a pickle calling os.system", h("|O", "False", "(1,)"), payload)
	hdr("descr_struct", "a structured dtype", "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (6,), }", data)
	hdr("fortran", "fortran_order True, 2-D", h("<f4", "True", "(3, 4)"), data)
	hdr("shape_negative", "shape (-12,)", h("<f4", "False", "(-12,)"), data)
	hdr("shape_2e40", "shape (2**40,) with 48 bytes", h("<f4", "False", "(1099511627776,)"), data)
	hdr("shape_wrap0", "shape (2**32, 2**32): product wraps to 0", h("<f4", "False", "(4294967296, 4294967296)"), nil)
	hdr("shape_wrap12", "shape (2**62+1, 4, 3): product wraps to 12", h("<f4", "False", "(4611686018427387905, 4, 3)"), data)
	hdr("shape_float", "shape (12.0,)", h("<f4", "False", "(12.0,)"), data)
	hdr("shape_string", "shape ('12',)", h("<f4", "False", "('12',)"), data)
	hdr("shape_nested", "shape ((12,),)", h("<f4", "False", "((12,),)"), data)
	hdr("shape_rank100", "shape of rank 100", h("<f4", "False", "("+strings.Repeat("1, ", 100)+")"), data[:4])
	hdr("shape_bigint", "shape (10**40,)", h("<f4", "False", "(10000000000000000000000000000000000000000,)"), data)
	hdr("header_list", "header is a list", "[1, 2, 3]", data)
	hdr("header_eval", "header is a Python expression calling os.system", "__import__('os').system('"+touch+"')", data)
	hdr("header_eval_in_shape", "shape is an expression", h("<f4", "False", "(__import__('os').system('true'),)"), data)
	hdr("header_extra_key", "an extra key 'evil'", "{'descr': '<f4', 'fortran_order': False, 'shape': (12,), 'evil': 1, }", data)
	hdr("header_nul", "a NUL in the header", "{'descr': '<f4\x00', 'fortran_order': False, 'shape': (12,), }", data)
	hdr("header_deep", "a shape nested 5000 deep", h("<f4", "False", strings.Repeat("(", 5000)+strings.Repeat(")", 5000)), data)
	hdr("data_short", "shape (12,) with 44 bytes", h("<f4", "False", "(12,)"), data[:44])
	hdr("data_long", "shape (12,) with 52 bytes", h("<f4", "False", "(12,)"), append(append([]byte(nil), data...), 0, 0, 0, 0))
	c.add("npy/mut_big_endian.npy", npyFile(1, h(">f4", "False", "(12,)"), data), "big-endian float32 (valid)")
	c.add("npy/mut_nan.npy", npyFile(1, h("<f4", "False", "(1, 3, 2, 2)"), floatBytes([]float32{float32(math.NaN()), float32(math.Inf(1)), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})), "NaN and Inf values (valid array)")
}

// ---------------------------------------------------------------------------
// Images.

func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	td := append([]byte(typ), data...)
	b = append(b, td...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(td))
}

func ihdr(w, h uint32, depth, ctype, interlace byte) []byte {
	d := binary.BigEndian.AppendUint32(nil, w)
	d = binary.BigEndian.AppendUint32(d, h)
	d = append(d, depth, ctype, 0, 0, interlace)
	return pngChunk("IHDR", d)
}

func zlibZeros(n int) []byte {
	var b bytes.Buffer
	z, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	chunk := make([]byte, 1<<16)
	for n > 0 {
		k := min(n, len(chunk))
		z.Write(chunk[:k])
		n -= k
	}
	z.Close()
	return b.Bytes()
}

func pngFile(chunks ...[]byte) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

func testImage() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			m.Set(x, y, color.RGBA{uint8(x * 32), uint8(y * 32), uint8((x + y) * 16), 255})
		}
	}
	return m
}

// exifTIFF is a little-endian TIFF blob whose IFD0 holds the given entries
// (tag, type, count, value) and points at next as the next IFD.
func exifTIFF(count uint16, entries [][4]uint32, next uint32) []byte {
	b := []byte("II*\x00")
	b = append(b, le32(8)...)
	b = binary.LittleEndian.AppendUint16(b, count)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(e[0]))
		b = binary.LittleEndian.AppendUint16(b, uint16(e[1]))
		b = append(b, le32(e[2])...)
		b = append(b, le32(e[3])...)
	}
	return append(b, le32(next)...)
}

// jpegWithAPP1 inserts an APP1 segment after SOI.
func jpegWithAPP1(j, payload []byte) []byte {
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// jpegSOF rewrites the frame size in the first SOF0/SOF2 segment.
func jpegSOF(j []byte, w, h uint16) []byte {
	out := append([]byte(nil), j...)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xff {
			break
		}
		m := out[i+1]
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if m == 0xc0 || m == 0xc2 {
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
			return out
		}
		i += 2 + n
	}
	log.Fatal("no SOF")
	return nil
}

func genImages(c *corpus) {
	r := rand.New(rand.NewPCG(8, 8))
	img := testImage()
	var pb, jb, gb, bb bytes.Buffer
	png.Encode(&pb, img)
	jpeg.Encode(&jb, img, &jpeg.Options{Quality: 90})
	gif.Encode(&gb, img, &gif.Options{NumColors: 256, Quantizer: nil, Drawer: nil})
	bmp.Encode(&bb, img)
	valid := map[string][]byte{"png": pb.Bytes(), "jpg": jb.Bytes(), "gif": gb.Bytes(), "bmp": bb.Bytes()}
	for _, ext := range []string{"png", "jpg", "gif", "bmp"} {
		b := valid[ext]
		c.add("ok/tiny."+ext, b, "valid 8x8 "+ext)
		for _, n := range truncOffsets(len(b), 16) {
			if ext == "gif" && n == len(b)-1 {
				c.add(fmt.Sprintf("images/mut_trunc_%s_%05d.%s", ext, n, ext), b[:n], "valid image without its trailer (decodes: the frame is complete)")
				continue
			}
			c.add(fmt.Sprintf("images/trunc_%s_%05d.%s", ext, n, ext), b[:n], "valid image cut short")
		}
		for i := range 4 {
			c.add(fmt.Sprintf("images/mut_flip_%s_%d.%s", ext, i, ext), flip(r, b, 0, len(b), 1+i), "valid image with bytes flipped (may decode)")
		}
		c.add("images/random."+ext, randBytes(r, 500), "random bytes named ."+ext)
	}
	add := func(name, desc string, b []byte) { c.add("images/"+name, b, desc) }
	idat1x1 := pngChunk("IDAT", zlibZeros(4))
	iend := pngChunk("IEND", nil)

	// PNG.
	add("png_65535x65535.png", "IHDR 65535x65535 (4.3 gigapixels), tiny IDAT", pngFile(ihdr(65535, 65535, 8, 2, 0), idat1x1, iend))
	add("png_2e31x1.png", "IHDR (2^31-1)x1", pngFile(ihdr(math.MaxInt32, 1, 8, 2, 0), idat1x1, iend))
	add("png_4gx4g.png", "IHDR 2^32-1 x 2^32-1 (beyond the PNG maximum)", pngFile(ihdr(math.MaxUint32, math.MaxUint32, 8, 2, 0), idat1x1, iend))
	add("png_0x0.png", "IHDR 0x0", pngFile(ihdr(0, 0, 8, 2, 0), idat1x1, iend))
	add("png_depth_3.png", "bit depth 3", pngFile(ihdr(1, 1, 3, 2, 0), idat1x1, iend))
	add("png_ctype_5.png", "colour type 5", pngFile(ihdr(1, 1, 8, 5, 0), idat1x1, iend))
	add("png_interlace_2.png", "interlace method 2", pngFile(ihdr(1, 1, 8, 2, 2), idat1x1, iend))
	add("png_bad_crc.png", "IHDR with a wrong CRC", func() []byte {
		b := pngFile(ihdr(1, 1, 8, 2, 0), idat1x1, iend)
		b[8+8+13+3] ^= 0xff
		return b
	}())
	add("png_idat_bomb_1x1.png", "a 1x1 image whose IDAT inflates to 8 MiB", pngFile(ihdr(1, 1, 8, 2, 0), pngChunk("IDAT", zlibZeros(8<<20)), iend))
	add("png_idat_overflow_1500.png", "1500x1500 (inside the test limit) whose IDAT inflates to 16 MiB, 2.4x the image", pngFile(ihdr(1500, 1500, 8, 2, 0), pngChunk("IDAT", zlibZeros(16<<20)), iend))
	add("png_idat_short_1500.png", "1500x1500 whose IDAT holds one row", pngFile(ihdr(1500, 1500, 8, 2, 0), pngChunk("IDAT", zlibZeros(4501)), iend))
	add("png_idat_not_zlib.png", "IDAT of random bytes", pngFile(ihdr(8, 8, 8, 2, 0), pngChunk("IDAT", randBytes(r, 64)), iend))
	add("png_chunk_len_2e31.png", "a chunk declaring 2^31-1 bytes", append(pngFile(ihdr(1, 1, 8, 2, 0)), append(binary.BigEndian.AppendUint32(nil, math.MaxInt32), "IDAT"...)...))
	add("png_no_iend.png", "no IEND", pngFile(ihdr(1, 1, 8, 2, 0), idat1x1))
	add("png_no_idat.png", "no IDAT", pngFile(ihdr(1, 1, 8, 2, 0), iend))
	{
		var chunks [][]byte
		chunks = append(chunks, ihdr(1, 1, 8, 2, 0))
		for range 2000 {
			chunks = append(chunks, pngChunk("tEXt", []byte("k\x00v")))
		}
		chunks = append(chunks, idat1x1, iend)
		add("png_2000_text_chunks.png", "2000 tEXt chunks before IDAT (may decode)", pngFile(chunks...))
	}
	add("png_ztxt_bomb.png", "a zTXt chunk inflating to 8 MiB, then an invalid IDAT", pngFile(ihdr(1, 1, 8, 2, 0), pngChunk("zTXt", append([]byte("k\x00\x00"), zlibZeros(8<<20)...)), pngChunk("IDAT", []byte{1, 2, 3}), iend))
	add("png_iccp_bomb.png", "an iCCP chunk inflating to 8 MiB, then an invalid IDAT", pngFile(ihdr(1, 1, 8, 2, 0), pngChunk("iCCP", append([]byte("p\x00\x00"), zlibZeros(8<<20)...)), pngChunk("IDAT", []byte{1, 2, 3}), iend))
	add("png_plte_300.png", "a palette of 300 entries", pngFile(ihdr(1, 1, 8, 3, 0), pngChunk("PLTE", make([]byte, 900)), idat1x1, iend))
	add("png_trns_long.png", "tRNS longer than the palette", pngFile(ihdr(1, 1, 8, 3, 0), pngChunk("PLTE", make([]byte, 6)), pngChunk("tRNS", make([]byte, 200)), idat1x1, iend))
	add("png_palette_index_oob.png", "a palette image indexing entry 255 of 2", pngFile(ihdr(1, 1, 8, 3, 0), pngChunk("PLTE", make([]byte, 6)),
		pngChunk("IDAT", func() []byte {
			var b bytes.Buffer
			z := zlib.NewWriter(&b)
			z.Write([]byte{0, 255})
			z.Close()
			return b.Bytes()
		}()), iend))
	loop := exifTIFF(1, [][4]uint32{{0x8769, 4, 1, 8}}, 8) // ExifIFD pointer and next IFD both back to IFD0
	add("png_exif_loop.png", "eXIf whose IFDs point back at themselves, then an invalid IDAT", pngFile(ihdr(1, 1, 8, 2, 0), pngChunk("eXIf", loop), pngChunk("IDAT", []byte{1}), iend))
	add("png_exif_count_65535.png", "eXIf IFD0 claiming 65535 entries, invalid IDAT", pngFile(ihdr(1, 1, 8, 2, 0), pngChunk("eXIf", exifTIFF(65535, nil, 0)), pngChunk("IDAT", []byte{1}), iend))
	add("png_zip_polyglot.png", "a PNG header followed by a ZIP archive", append(pngFile(ihdr(1, 1, 8, 2, 0)), "PK\x03\x04\x14\x00\x00\x00"...))

	// JPEG.
	j := valid["jpg"]
	add("jpeg_65535x65535.jpg", "SOF 65535x65535", jpegSOF(j, 65535, 65535))
	add("jpeg_0x0.jpg", "SOF 0x0", jpegSOF(j, 0, 0))
	add("jpeg_30000x30000.jpg", "SOF 30000x30000 (900 megapixels)", jpegSOF(j, 30000, 30000))
	add("jpeg_exif_loop.jpg", "EXIF IFD pointing at itself, truncated scan", jpegWithAPP1(j[:len(j)/2], append([]byte("Exif\x00\x00"), loop...)))
	add("jpeg_exif_count_65535.jpg", "EXIF IFD0 claiming 65535 entries, truncated scan", jpegWithAPP1(j[:len(j)/2], append([]byte("Exif\x00\x00"), exifTIFF(65535, nil, 0)...)))
	add("jpeg_exif_offset_max.jpg", "EXIF IFD0 at offset 2^32-1, truncated scan", jpegWithAPP1(j[:len(j)/2], append([]byte("Exif\x00\x00II*\x00"), le32(math.MaxUint32)...)))
	add("mut_jpeg_orientation_9.jpg", "EXIF orientation 9 (invalid; ignored)", jpegWithAPP1(j, append([]byte("Exif\x00\x00"), exifTIFF(1, [][4]uint32{{0x0112, 3, 1, 9}}, 0)...)))
	add("jpeg_no_sof.jpg", "SOI, EOI", []byte{0xff, 0xd8, 0xff, 0xd9})
	add("jpeg_segment_len_1.jpg", "a segment of length 1", []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0xff, 0xd9})
	add("jpeg_scans_1448_1000.jpg", "a 1448x1448 progressive JPEG with 1000 AC scans of one EOB run each (16 KB; CPU time grows with scans x blocks)", progressiveJPEG(1448, 1448, 1000))

	// GIF.
	g := valid["gif"]
	screen := func(w, h uint16) []byte {
		b := append([]byte(nil), g...)
		binary.LittleEndian.PutUint16(b[6:], w)
		binary.LittleEndian.PutUint16(b[8:], h)
		return b
	}
	add("gif_screen_65535.gif", "logical screen 65535x65535", screen(65535, 65535))
	add("gif_screen_0.gif", "logical screen 0x0", screen(0, 0))
	{
		// A 65535x65535 frame whose LZW data is one clear code and EOI.
		b := []byte("GIF89a")
		b = binary.LittleEndian.AppendUint16(b, 65535)
		b = binary.LittleEndian.AppendUint16(b, 65535)
		b = append(b, 0x80, 0, 0) // global table of 2 colours
		b = append(b, 0, 0, 0, 255, 255, 255)
		b = append(b, ',', 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint16(b, 65535)
		b = binary.LittleEndian.AppendUint16(b, 65535)
		b = append(b, 0, 2, 2, 0x4c, 0x01, 0, ';')
		add("gif_frame_65535.gif", "a 65535x65535 frame with 2 bytes of LZW", b)
		lzw := append([]byte(nil), b...)
		lzw[len(lzw)-6] = 12 // LZW minimum code size 12
		add("gif_lzw_size_12.gif", "LZW minimum code size 12", lzw)
	}
	{
		// A 1500x1500 frame whose LZW stream expands from few bytes (the
		// GIF compression bomb): the pixels fit the limit, but the stream
		// is cut short.
		b := []byte("GIF89a")
		b = binary.LittleEndian.AppendUint16(b, 1500)
		b = binary.LittleEndian.AppendUint16(b, 1500)
		b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255, ',', 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint16(b, 1500)
		b = binary.LittleEndian.AppendUint16(b, 1500)
		b = append(b, 0, 2)
		for range 50 {
			b = append(b, 255)
			b = append(b, bytes.Repeat([]byte{0}, 255)...)
		}
		b = append(b, 0, ';')
		add("gif_lzw_zeros_1500.gif", "1500x1500 frame of zero LZW codes, too short", b)
	}
	add("gif_no_frames.gif", "a header and trailer, no frame", append(append([]byte(nil), g[:13+3*256]...), ';'))

	// BMP.
	bm := valid["bmp"]
	bmpWith := func(f func(b []byte)) []byte {
		b := append([]byte(nil), bm...)
		f(b)
		return b
	}
	add("bmp_65535x65535.bmp", "65535x65535", bmpWith(func(b []byte) {
		binary.LittleEndian.PutUint32(b[18:], 65535)
		binary.LittleEndian.PutUint32(b[22:], 65535)
	}))
	add("bmp_height_min.bmp", "height -2^31", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[22:], 1<<31) }))
	add("bmp_width_neg.bmp", "width -8", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[18:], uint32(0xfffffff8)) }))
	add("mut_bmp_top_down.bmp", "height -8 (top-down; valid)", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[22:], uint32(0xfffffff8)) }))
	add("bmp_bpp_0.bmp", "0 bits per pixel", bmpWith(func(b []byte) { binary.LittleEndian.PutUint16(b[28:], 0) }))
	add("bmp_bpp_7.bmp", "7 bits per pixel", bmpWith(func(b []byte) { binary.LittleEndian.PutUint16(b[28:], 7) }))
	add("bmp_bpp_64.bmp", "64 bits per pixel", bmpWith(func(b []byte) { binary.LittleEndian.PutUint16(b[28:], 64) }))
	add("bmp_compression_bogus.bmp", "compression 99", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[30:], 99) }))
	add("bmp_offset_past_end.bmp", "pixel data offset past the end", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[10:], 1<<30) }))
	add("bmp_header_size_12.bmp", "DIB header size 12 with a 40-byte header", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[14:], 12) }))
	add("bmp_header_size_huge.bmp", "DIB header size 2^31", bmpWith(func(b []byte) { binary.LittleEndian.PutUint32(b[14:], 1<<31) }))
	add("bmp_palette_huge.bmp", "8-bit with 2^31 palette colours", bmpWith(func(b []byte) {
		binary.LittleEndian.PutUint16(b[28:], 8)
		binary.LittleEndian.PutUint32(b[46:], 1<<31)
	}))
	add("bmp_2000x2000_short.bmp", "2000x2000 header with 8x8 of pixels", bmpWith(func(b []byte) {
		binary.LittleEndian.PutUint32(b[18:], 2000)
		binary.LittleEndian.PutUint32(b[22:], 2000)
	}))

	// TIFF and WebP are decoded too.
	{
		t := []byte("II*\x00\x08\x00\x00\x00")
		entries := [][4]uint32{{256, 4, 1, 65535}, {257, 4, 1, 65535}, {258, 3, 1, 8}, {262, 3, 1, 1}, {273, 4, 1, 200}, {278, 4, 1, 65535}, {279, 4, 1, 1 << 30}}
		t = binary.LittleEndian.AppendUint16(t, uint16(len(entries)))
		for _, e := range entries {
			t = binary.LittleEndian.AppendUint16(t, uint16(e[0]))
			t = binary.LittleEndian.AppendUint16(t, uint16(e[1]))
			t = append(t, le32(e[2])...)
			t = append(t, le32(e[3])...)
		}
		t = append(t, le32(0)...)
		add("tiff_65535x65535.tif", "TIFF 65535x65535 with a 2^30-byte strip that is absent", t)
		add("tiff_ifd_loop.tif", "TIFF whose IFD0 points at itself", exifTIFF(1, [][4]uint32{{256, 4, 1, 8}}, 8))
		add("tiff_count_huge.tif", "TIFF IFD0 with 65535 entries", exifTIFF(65535, nil, 0))
	}
	{
		w := []byte("RIFF")
		w = append(w, le32(math.MaxUint32)...)
		w = append(w, "WEBPVP8L"...)
		w = append(w, le32(5)...)
		w = append(w, 0x2f, 0xff, 0xff, 0xff, 0x0f) // 16384x16384
		add("webp_16384.webp", "VP8L 16384x16384 with no data, RIFF size 2^32-1", w)
	}
	add("random_noext", "random bytes without an extension", randBytes(r, 1000))
	add("jpeg_named.png", "a truncated JPEG named .png", j[:len(j)/3])
}

// progressiveJPEG builds a w x h grayscale progressive JPEG (w*h/64 <=
// 32767 blocks) with one all-zero DC scan and n AC scans that are each a
// single end-of-band run over every block: a few bytes per scan, a pass
// over every block per scan for the decoder. libjpeg-turbo refuses more
// than 500 scans (TJFLAG_LIMITSCANS).
func progressiveJPEG(w, h, n int) []byte {
	var b []byte
	seg := func(m byte, data []byte) {
		b = append(b, 0xff, m)
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)+2))
		b = append(b, data...)
	}
	b = append(b, 0xff, 0xd8)
	q := make([]byte, 65)
	for i := 1; i < 65; i++ {
		q[i] = 1
	}
	seg(0xdb, q)
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, uint16(h))
	sof = binary.BigEndian.AppendUint16(sof, uint16(w))
	seg(0xc2, append(sof, 1, 1, 0x11, 0))
	seg(0xc4, []byte{0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})    // DC: '0' -> category 0
	seg(0xc4, []byte{0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe0}) // AC: '0' -> EOB run of 2^14+14 bits
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	seg(0xda, []byte{1, 1, 0x00, 0, 0, 0})
	dc := make([]byte, (blocks+7)/8)
	if blocks%8 != 0 {
		dc[len(dc)-1] |= byte(0xff >> (blocks % 8))
	}
	b = append(b, dc...)
	extra := uint32(blocks - 1<<14)
	bits := extra<<(32-15) | (1<<(32-15) - 1) // code '0', 14 extra bits, 1-padding
	for range n {
		seg(0xda, []byte{1, 1, 0x00, 1, 63, 0})
		for _, c := range []byte{byte(bits >> 24), byte(bits >> 16), byte(bits >> 8)} {
			b = append(b, c)
			if c == 0xff {
				b = append(b, 0)
			}
		}
	}
	return append(b, 0xff, 0xd9)
}

// ---------------------------------------------------------------------------
// inference.yml (paired with ok/pir by the test).

func genYML(c *corpus) {
	good := `Global:
  model_name: tiny
PreProcess:
  transform_ops:
  - ResizeImage:
      resize_short: 10
  - CropImage:
      size: 8
  - NormalizeImage:
      scale: 0.00392156862745098
      mean: [0.485, 0.456, 0.406]
      std: [0.229, 0.224, 0.225]
      order: ''
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 1
    label_list: [a, b]
`
	c.add("ok/pir_yml/inference.yml", []byte(good), "valid preprocessing and labels for the tiny model")
	add := func(name, desc, text string) { c.add("yml/"+name+".yml", []byte(text), desc) }
	sub := func(old, repl string) string {
		if !strings.Contains(good, old) {
			log.Fatalf("yml: no %q", old)
		}
		return strings.Replace(good, old, repl, 1)
	}
	{
		// Billion laughs: nine levels of ten aliases.
		var b strings.Builder
		b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
		for i := 1; i <= 9; i++ {
			fmt.Fprintf(&b, "a%d: &a%d [", i, i)
			for k := range 10 {
				if k > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "*a%d", i-1)
			}
			b.WriteString("]\n")
		}
		add("billion_laughs", "nine levels of ten aliases", b.String()+good)
		add("laughs_in_labels", "label_list made of nested aliases", strings.Replace(good, "label_list: [a, b]", "label_list: *a9", 1)+b.String())
	}
	add("deep_nesting", "a value nested 5000 deep", "x: "+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+"\n"+good)
	add("python_tag", "a !!python/object/apply:os.system tag", "x: !!python/object/apply:os.system ['"+touch+"']\n"+good)
	add("python_tag_in_op", "resize_short given as !!python/object/apply", sub("resize_short: 10", "resize_short: !!python/object/apply:os.system ['"+touch+"']"))
	add("unknown_transform", "a RandomErasing transform", sub("  - ToCHWImage: null\n", "  - ToCHWImage: null\n  - RandomErasing: {}\n"))
	add("resize_string", "resize_short: abc", sub("resize_short: 10", "resize_short: abc"))
	add("resize_negative", "resize_short: -10", sub("resize_short: 10", "resize_short: -10"))
	add("resize_huge", "resize_short: 2^40", sub("resize_short: 10", "resize_short: 1099511627776"))
	add("resize_1e400", "resize_short: 1e400", sub("resize_short: 10", "resize_short: 1e400"))
	add("crop_zero", "crop size 0", sub("size: 8", "size: 0"))
	add("crop_huge", "crop size 2^31", sub("size: 8", "size: 2147483648"))
	add("crop_list3", "crop size [1,2,3]", sub("size: 8", "size: [1, 2, 3]"))
	add("std_zero", "std [0, 0, 0]", sub("std: [0.229, 0.224, 0.225]", "std: [0, 0, 0]"))
	add("std_nan", "std [.nan, 1, 1]", sub("std: [0.229, 0.224, 0.225]", "std: [.nan, 1, 1]"))
	add("mean_strings", "mean as strings", sub("mean: [0.485, 0.456, 0.406]", "mean: [a, b, c]"))
	add("mean_7", "seven means", sub("mean: [0.485, 0.456, 0.406]", "mean: [1, 1, 1, 1, 1, 1, 1]"))
	add("scale_string", "scale '1/255' (PaddleClas writes this; a string)", sub("scale: 0.00392156862745098", "scale: 1/256x"))
	add("channel_num_7", "channel_num 7", sub("order: ''", "order: ''\n      channel_num: 7"))
	add("order_bogus", "order 'xyz'", sub("order: ''", "order: xyz"))
	add("topk_negative", "topk -1", sub("topk: 1", "topk: -1"))
	add("labels_map", "label_list is a map", sub("label_list: [a, b]", "label_list: {a: b}"))
	add("transform_ops_map", "transform_ops is a map", sub("  transform_ops:\n", "  transform_ops: {}\n  x:\n"))
	add("dup_keys", "PreProcess twice", good+"PreProcess: {}\n")
	add("tabs", "tab indentation", strings.ReplaceAll(good, "  ", "\t"))
	add("not_utf8", "invalid UTF-8", "Global: {model_name: \"\xff\xfe\"}\n"+good[strings.Index(good, "PreProcess"):])
	add("merge_loop", "a merge key that refers to itself", "a: &a\n  <<: *a\n"+good)
	add("empty", "an empty file", "")
	add("scalar", "a bare scalar", "42\n")
	add("mut_labels_5000", "5000 labels (may load)", strings.Replace(good, "label_list: [a, b]", "label_list: ["+strings.TrimSuffix(strings.Repeat("x, ", 5000), ", ")+"]", 1))
}

// ---------------------------------------------------------------------------
// Recognition by content: names that lie.

func genSniff(c *corpus) {
	r := rand.New(rand.NewPCG(9, 9))
	add := func(name, desc string, b []byte) { c.add("sniff/"+name, b, desc) }
	add("empty.onnx", "an empty file named .onnx", nil)
	add("one_byte.pdparams", "one byte", []byte{0x80})
	add("proto_only.pdparams", "PROTO 4 and nothing else", []byte{0x80, 0x04})
	add("brace.json", "a lone {", []byte("{"))
	add("zip.pdparams", "a ZIP (npz) header", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"))
	add("npy.onnx", "a .npy array named .onnx", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)))
	add("png.pdmodel", "a PNG named .pdmodel", pngFile(ihdr(1, 1, 8, 2, 0), pngChunk("IDAT", zlibZeros(4)), pngChunk("IEND", nil)))
	add("elf.onnx", "an ELF header", append([]byte("\x7fELF\x02\x01\x01\x00"), randBytes(r, 120)...))
	add("gzip.onnx", "a gzip header", append([]byte{0x1f, 0x8b, 0x08, 0x00}, randBytes(r, 60)...))
	add("shebang.json", "a shell script", []byte("#!/bin/sh\n"+touch+"\n"))
	add("html.onnx", "an HTML error page (a failed download)", []byte("<!DOCTYPE html><html><body>404 Not Found</body></html>\n"))
	add("lfs_pointer.onnx", "a Git LFS pointer instead of the model", []byte("version https://git-lfs.github.com/spec/v1\noid sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nsize 988821\n"))
	add("pdiparams_alone.pdiparams", "a parameter blob loaded as a model", joinRecords(records(tinyParams())))
	add("zeros_4k.onnx", "4 KiB of zeros", make([]byte, 4096))
	add("ff_4k.onnx", "4 KiB of 0xff", bytes.Repeat([]byte{0xff}, 4096))
	add("onnx_prefix_pir.onnx", "ONNX-looking start then PIR JSON", append([]byte{0x08, 0x07, 0x12}, mustJSON(tinyPIR())[:400]...))
	// Valid content under a misleading name: must load.
	c.add("ok/sniff/onnx_named.pdparams", tinyONNX().bytes(), "the tiny ONNX model named .pdparams")
}
