package onnx

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/onnxtest"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"google.golang.org/protobuf/encoding/protowire"
)

// tiny is a valid one-node model: y = Relu(x).
func tiny() *onnxtest.Model {
	return &onnxtest.Model{Opset: 13, Input: "x", InDims: []int64{0, 2, 3, 3}, Output: "y", OutDims: []int64{0, 2, 3, 3},
		Nodes: []onnxtest.Node{onnxtest.N("Relu", []string{"x"}, "y")}}
}

func TestTinyModel(t *testing.T) {
	g, err := Read(tiny().Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 1 || !graph.SameShape(g.OutputShape(), []int{2, 3, 3}) {
		t.Fatalf("got %d nodes, output %v", len(g.Nodes), g.OutputShape())
	}
	// Symbolic H and W take the options (or 224).
	m := tiny()
	m.InDims = []int64{0, 2, 0, 0}
	for _, c := range []struct {
		opt  Options
		want []int
	}{{Options{}, []int{2, 224, 224}}, {Options{InputH: 80, InputW: 160}, []int{2, 80, 160}}} {
		g, err := Read(m.Bytes(), c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if !graph.SameShape(g.InputShape(), c.want) {
			t.Errorf("input %v, want %v", g.InputShape(), c.want)
		}
	}
}

func TestHostile(t *testing.T) {
	withInit := func(tt onnxtest.Tensor) []byte {
		m := tiny()
		m.Inits = []onnxtest.Tensor{tt}
		m.Nodes = []onnxtest.Node{onnxtest.N("Add", []string{"x", tt.Name}, "y")}
		return m.Bytes()
	}
	rawInit := func(fields []byte) []byte {
		m := tiny()
		m.GraphRaw = protowire.AppendBytes(protowire.AppendTag(nil, 5, protowire.BytesType), fields)
		return m.Bytes()
	}
	unknown := tiny()
	unknown.Nodes = append([]onnxtest.Node{onnxtest.N("Relu", []string{"x"}, "r")}, onnxtest.Node{Op: "LeakyRelu", Name: "leaky_7", In: []string{"r"}, Out: []string{"y"}})
	residual := tiny()
	residual.Nodes = []onnxtest.Node{onnxtest.N("Relu", []string{"x"}, "r"), onnxtest.N("Add", []string{"x", "r"}, "y")}
	badOpset := tiny()
	badOpset.Opset = 22
	cycle := tiny()
	cycle.Nodes = []onnxtest.Node{onnxtest.N("Relu", []string{"z"}, "y"), onnxtest.N("Relu", []string{"y"}, "z")}
	twice := tiny()
	twice.Nodes = []onnxtest.Node{onnxtest.N("Relu", []string{"x"}, "y"), onnxtest.N("Relu", []string{"x"}, "y")}
	badAttr := tiny()
	badAttr.Nodes = []onnxtest.Node{onnxtest.N("HardSigmoid", []string{"x"}, "y", onnxtest.I("alpha", 3))}

	// Nested sequence types 5000 deep inside a value_info's TypeProto.
	deep := []byte{}
	for range 5000 {
		deep = protowire.AppendBytes(protowire.AppendTag(nil, 4, protowire.BytesType), protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), deep))
	}
	deepModel := tiny()
	deepModel.GraphRaw = protowire.AppendBytes(protowire.AppendTag(nil, 13, protowire.BytesType),
		protowire.AppendBytes(protowire.AppendTag(append(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "deep"), nil...), 2, protowire.BytesType), deep))

	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrFormat, "no graph"},
		{"text", []byte("this is not a model\n"), ErrFormat, ""},
		{"graph as varint", []byte{0x38, 0x01}, ErrFormat, "wire type"},
		{"opset as fixed32", []byte{0x45, 1, 2, 3, 4}, ErrFormat, ""},
		{"length past end", []byte{0x3a, 0xff, 0xff, 0xff, 0x0f, 0x00}, ErrFormat, ""},
		{"huge dims, tiny file", withInit(onnxtest.Tensor{Name: "b", Dims: []int64{1 << 20, 1 << 20}, Floats: []float32{1}}), ErrFormat, "elements"},
		{"dims overflow", withInit(onnxtest.Tensor{Name: "b", Dims: []int64{1 << 20, 1 << 20, 1 << 20, 1 << 20}, Floats: []float32{1}}), ErrFormat, ""},
		{"negative dim", withInit(onnxtest.Tensor{Name: "b", Dims: []int64{-2}, Floats: []float32{1}}), ErrFormat, ""},
		{"raw size mismatch", withInit(onnxtest.Tensor{Name: "b", Dims: []int64{5}, Floats: []float32{1, 2}}), ErrFormat, "raw bytes"},
		{"float_data size mismatch", withInit(onnxtest.Tensor{Name: "b", Dims: []int64{5}, Floats: []float32{1, 2}, Typed: true}), ErrFormat, "float_data"},
		{"external data", rawInit([]byte{0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 'b', 0x70, 0x01}), ErrUnsupported, "external data"},
		{"bad dtype", rawInit([]byte{0x08, 0x01, 0x10, 0x63, 0x42, 0x01, 'b'}), ErrUnsupported, "data type"},
		{"unknown op", unknown.Bytes(), ErrUnsupported, `node 1 "leaky_7" (LeakyRelu)`},
		{"residual add", residual.Bytes(), ErrUnsupported, "two computed values"},
		{"opset 22", badOpset.Bytes(), ErrUnsupported, "opset 22"},
		{"use before definition", cycle.Bytes(), ErrFormat, "not produced"},
		{"value produced twice", twice.Bytes(), ErrFormat, "produced twice"},
		{"attribute of wrong type", badAttr.Bytes(), ErrFormat, `attribute "alpha"`},
		{"deeply nested type", deepModel.Bytes(), nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.data, Options{})
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "onnx: ") || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q should start with \"onnx: \" and mention %q", err, c.msg)
			}
			t.Log(err)
		})
	}
}

func TestLimits(t *testing.T) {
	data := tiny().Bytes()
	if _, err := Read(data, Options{MaxBytes: 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes: %v", err)
	}
	m := tiny()
	m.Inits = []onnxtest.Tensor{onnxtest.FloatT("b", 1, 1, 2)}
	m.Nodes = []onnxtest.Node{onnxtest.N("Add", []string{"x", "b"}, "y")}
	if _, err := Read(m.Bytes(), Options{MaxElements: 1}); err == nil {
		t.Error("MaxElements not enforced")
	}
}

// TestTruncated cuts real and built-in models at many offsets: every cut
// must give an error, never a panic or a graph.
func TestTruncated(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	var models [][]byte
	if data, err := os.ReadFile(realModel); err == nil {
		models = append(models, data)
	}
	g, err := pplcnet.Build(pplcnet.Default(0.25), 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Export(g, &buf, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	models = append(models, buf.Bytes())
	for _, data := range models {
		var offs []int
		for k := 0; k < min(len(data), 4096); k++ {
			offs = append(offs, k)
		}
		for k := 4096; k < len(data); k += 997 {
			offs = append(offs, k)
		}
		n := 0
		for _, k := range offs {
			if _, err := Read(data[:k], Options{}); err == nil {
				t.Errorf("truncated at %d of %d: no error", k, len(data))
			}
			n++
		}
		// Single flipped bytes: errors are fine, panics are not.
		for k := 0; k < len(data); k += max(331, len(data)/200) {
			c := bytes.Clone(data)
			c[k] ^= 0xa5
			Read(c, Options{})
		}
		t.Logf("%d truncations of %d bytes rejected", n, len(data))
	}
}

func TestSniff(t *testing.T) {
	if !Sniff(tiny().Bytes()) {
		t.Error("tiny model not sniffed")
	}
	if data, err := os.ReadFile(realModel); err == nil && !Sniff(data[:16]) {
		t.Error("real model not sniffed")
	}
	for _, s := range []string{"", "PK\x03\x04", "{\"base_code\"", "\x93NUMPY", "\x80\x04\x95"} {
		if Sniff([]byte(s)) {
			t.Errorf("%q sniffed as onnx", s)
		}
	}
}

func FuzzImport(f *testing.F) {
	f.Add(tiny().Bytes())
	for _, c := range onnxtest.Cases() {
		f.Add(c.Model.Bytes())
	}
	g, err := pplcnet.Build(pplcnet.Config{}, 0)
	if err == nil {
		var buf bytes.Buffer
		Export(g, &buf, ExportOptions{})
		f.Add(buf.Bytes())
	}
	c := pplcnet.Default(0.25)
	c.InputH, c.InputW, c.ClassExpand, c.Classes = 16, 16, 16, 3
	if g, err := pplcnet.Build(c, 1); err == nil {
		var buf bytes.Buffer
		if Export(g, &buf, ExportOptions{Opset: 7}) == nil {
			f.Add(buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Read(data, Options{MaxElements: 1 << 20, InputH: 16, InputW: 16})
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("Read returned an invalid graph: %v", err)
		}
		var buf bytes.Buffer
		if err := Export(g, &buf, ExportOptions{}); err != nil {
			t.Fatalf("cannot export an imported graph: %v", err)
		}
		if _, err := Read(buf.Bytes(), Options{MaxElements: 1 << 20}); err != nil {
			t.Fatalf("cannot re-import an exported graph: %v", err)
		}
	})
}
