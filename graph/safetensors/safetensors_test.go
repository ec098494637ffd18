package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

func run(t testing.TB, g *graph.Graph, in []float32, batch int) []float32 {
	t.Helper()
	o, err := graph.Optimize(g)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fallback.Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, batch*graph.Numel(g.OutputShape()))
	if err := p.NewInstance().Run(in, batch, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sinInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(0.01 * float64(i)))
	}
	return x
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// TestRoundTrip writes PaddleClas-semantics graphs (plain and optimized) in
// timm layout, reads them back as timm graphs and compares outputs; a
// second write must give the same bytes.
func TestRoundTrip(t *testing.T) {
	for _, s := range pplcnet.Scales {
		c := pplcnet.Default(s)
		c.InputH, c.InputW = 64, 64
		g, err := pplcnet.Build(c, 3)
		if err != nil {
			t.Fatal(err)
		}
		o, err := graph.Optimize(g)
		if err != nil {
			t.Fatal(err)
		}
		in := sinInput(2 * 3 * 64 * 64)
		want := run(t, g, in, 2)
		for name, src := range map[string]*graph.Graph{"plain": g, "optimized": o} {
			t.Run(fmt.Sprintf("x%g/%s", s, name), func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(src, &buf); err != nil {
					t.Fatal(err)
				}
				if !Sniff(buf.Bytes()[:16]) {
					t.Error("written file not sniffed")
				}
				h, err := Read(buf.Bytes(), Options{InputH: 64, InputW: 64, Softmax: true})
				if err != nil {
					t.Fatal(err)
				}
				got := run(t, h, in, 2)
				if d := maxDiff(got, want); d > 1e-5 {
					t.Errorf("read-back differs by %g", d)
				}
				var again bytes.Buffer
				if err := Write(h, &again); err != nil {
					t.Fatal(err)
				}
				if name == "plain" && !bytes.Equal(again.Bytes(), buf.Bytes()) {
					t.Error("write(read(file)) differs from file")
				}
				// The timm graph has no dropout scale and a head bias.
				for _, n := range h.Nodes {
					if _, ok := n.Op.(*graph.Scale); ok {
						t.Error("timm graph has a Scale")
					}
					if n.Name == "last_conv" && n.Op.(*graph.Conv2D).Bias == nil {
						t.Error("timm head conv has no bias")
					}
				}
			})
		}
	}
}

// TestTimmNames checks the names and shapes timm's lcnet_100 uses.
func TestTimmNames(t *testing.T) {
	g, err := pplcnet.Build(pplcnet.Default(1), 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(g, &buf); err != nil {
		t.Fatal(err)
	}
	ts, meta, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"conv_stem.weight": {16, 3, 3, 3}, "bn1.running_var": {16},
		"blocks.0.0.conv_dw.weight": {16, 1, 3, 3}, "blocks.0.0.conv_pw.weight": {32, 16, 1, 1},
		"blocks.3.1.conv_dw.weight": {256, 1, 5, 5}, "blocks.4.3.bn2.bias": {256},
		"blocks.5.0.se.conv_reduce.weight": {64, 256, 1, 1}, "blocks.5.1.se.conv_expand.bias": {512},
		"conv_head.weight": {1280, 512, 1, 1}, "conv_head.bias": {1280},
		"classifier.weight": {1000, 1280}, "classifier.bias": {1000},
	}
	for name, shape := range want {
		if got, ok := ts[name]; !ok || !graph.SameShape(got.Shape, shape) {
			t.Errorf("%s: %v, want %v", name, got.Shape, shape)
		}
	}
	// 4 tensors per BN: stem + 26 block convs; 2 per conv w/o BN...
	if n := len(ts); n != 1+4+13*(2+8)+2*4+4 {
		t.Errorf("%d tensors", n)
	}
	if meta["format"] != "pt" {
		t.Errorf("metadata %v", meta)
	}
	// num_batches_tracked (I64) is ignored on read.
	ts2 := map[string]*graph.Tensor{}
	for k, v := range ts {
		f, _ := v.Float32()
		ts2[k] = &graph.Tensor{Shape: v.Shape, Data: f}
	}
	var b2 bytes.Buffer
	writeTensors(&b2, ts2, nil)
	withNBT := addI64(t, b2.Bytes(), "bn1.num_batches_tracked")
	if _, err := Read(withNBT, Options{}); err != nil {
		t.Errorf("with num_batches_tracked: %v", err)
	}
}

// addI64 appends a scalar I64 tensor to a file.
func addI64(t *testing.T, data []byte, name string) []byte {
	n := binary.LittleEndian.Uint64(data)
	hdr := strings.TrimRight(string(data[8:8+n]), " ")
	body := data[8+n:]
	hdr = hdr[:len(hdr)-1] + fmt.Sprintf(`,%q:{"dtype":"I64","shape":[],"data_offsets":[%d,%d]}}`, name, len(body), len(body)+8)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	out = append(out, hdr...)
	out = append(out, body...)
	return append(out, 7, 0, 0, 0, 0, 0, 0, 0)
}

// TestRealModel writes the real text-line model's weights (BN folded, from
// ONNX) as timm safetensors and reads them back with its strides.
func TestRealModel(t *testing.T) {
	const path = "/work/shared/models/pplcnet_x0_25_textline_ori/model.onnx"
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	g, err := onnx.Load(path, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(g, &buf); err != nil {
		t.Fatal(err)
	}
	tl := pplcnet.TextLine(0.25)
	h, err := Read(buf.Bytes(), Options{InputH: 80, InputW: 160, Softmax: true, Strides: tl.Strides})
	if err != nil {
		t.Fatal(err)
	}
	in := sinInput(3 * 80 * 160)
	got := run(t, h, in, 1)
	want := []float32{0.09793964, 0.90206039}
	t.Logf("timm read-back of the real model: %v (diff %.2g)", got, maxDiff(got, want))
	if d := maxDiff(got, want); d > 1e-5 {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestHalfPrecision(t *testing.T) {
	cases := map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x3555: 0.33325195, 0x0001: 5.9604645e-8, 0x8000: float32(math.Copysign(0, -1)), 0x7bff: 65504}
	for h, want := range cases {
		if got := halfToFloat(h); got != want || math.Signbit(float64(got)) != math.Signbit(float64(want)) {
			t.Errorf("half %#04x = %g, want %g", h, got, want)
		}
	}
	bf := Tensor{DType: "BF16", Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x00, 0xc0}}
	if f, err := bf.Float32(); err != nil || f[0] != 1 || f[1] != -2 {
		t.Errorf("bf16: %v %v", f, err)
	}
	if _, err := (Tensor{DType: "I64", Data: make([]byte, 8)}).Float32(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("I64 as float: %v", err)
	}
}

func file(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

func TestHostile(t *testing.T) {
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "too short"},
		{"huge header length", append(huge, '{', '}'), "header length"},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 100), "header length"},
		{"not json", file("nope", nil), "not a JSON object"},
		{"json array", file("[]", nil), "not a JSON object"},
		{"trailing garbage", file(`{}x`, nil), "after the header"},
		{"bad dtype", file(`{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "unknown dtype"},
		{"offset out of range", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 4)), "data_offsets"},
		{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), "data_offsets"},
		{"shape/offset mismatch", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), "needs 8 bytes"},
		{"huge shape", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), "more than the file holds"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), "more than the file holds"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "gap or overlap"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "gap or overlap"},
		{"uncovered bytes", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)), "cover 4 of 8"},
		{"duplicate name", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "twice"},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), "unknown field"},
		{"wrong field type", file(`{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "tensor \"a\""},
		{"not lcnet", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "missing tensor \"conv_stem.weight\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.data, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q should mention %q", err, c.msg)
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v wraps neither ErrFormat nor ErrUnsupported", err)
			}
			t.Log(err)
		})
	}
}

// TestTruncated cuts a valid file at many offsets.
func TestTruncated(t *testing.T) {
	c := pplcnet.Default(0.25)
	c.Classes = 10
	g, err := pplcnet.Build(c, 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(g, &buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for k := 0; k < len(data); k += max(1, len(data)/3000) {
		if _, err := Read(data[:k], Options{}); err == nil {
			t.Fatalf("truncated at %d: no error", k)
		}
	}
}

func FuzzRead(f *testing.F) {
	c := pplcnet.Default(0.25)
	c.Classes, c.ClassExpand, c.InputH, c.InputW = 3, 8, 32, 32
	g, err := pplcnet.Build(c, 1)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(g, &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(file(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, _, err := Parse(data)
		if err != nil {
			return
		}
		for _, tt := range ts {
			tt.Float32()
		}
		g, err := Read(data, Options{InputH: 32, InputW: 32})
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("Read returned an invalid graph: %v", err)
		}
	})
}
