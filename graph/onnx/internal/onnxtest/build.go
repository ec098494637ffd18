// Package onnxtest writes small ONNX models for tests: a minimal
// ModelProto encoder and a set of synthetic models that exercise the
// importer's operators, shared by package onnx's tests and the ONNX Runtime
// test module.
package onnxtest

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Attribute types (onnx.proto AttributeProto.AttributeType).
const (
	AFloat  = 1
	AInt    = 2
	AString = 3
	ATensor = 4
	AFloats = 6
	AInts   = 7
)

// Attr is one node attribute.
type Attr struct {
	Name   string
	Type   int
	F      float32
	I      int64
	S      string
	Ints   []int64
	Floats []float32
	T      *Tensor
}

// Node is one NodeProto.
type Node struct {
	Op, Name string
	In, Out  []string
	Attrs    []Attr
}

// Tensor is a TensorProto: Floats or Int64s is written as raw_data unless
// Typed is set.
type Tensor struct {
	Name   string
	Dims   []int64
	Floats []float32
	Int64s []int64
	Typed  bool
}

// Model is a single-input, single-output model. Dims of 0 are written as
// the symbolic "N".
type Model struct {
	Opset    int
	IR       int
	Nodes    []Node
	Inits    []Tensor
	Input    string
	InDims   []int64
	Output   string
	OutDims  []int64
	GraphRaw []byte // extra bytes appended to the GraphProto
}

func tag(b []byte, n protowire.Number, t protowire.Type) []byte { return protowire.AppendTag(b, n, t) }

func bytesField(b []byte, n protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(tag(b, n, protowire.BytesType), v)
}

func strField(b []byte, n protowire.Number, s string) []byte {
	return protowire.AppendString(tag(b, n, protowire.BytesType), s)
}

func varField(b []byte, n protowire.Number, v int64) []byte {
	return protowire.AppendVarint(tag(b, n, protowire.VarintType), uint64(v))
}

// Encode returns the TensorProto bytes.
func (t *Tensor) Encode() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = varField(b, 1, d)
	}
	if t.Int64s != nil {
		b = varField(b, 2, 7)
	} else {
		b = varField(b, 2, 1)
	}
	b = strField(b, 8, t.Name)
	switch {
	case t.Typed && t.Int64s != nil:
		var p []byte
		for _, v := range t.Int64s {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = bytesField(b, 7, p)
	case t.Typed:
		var p []byte
		for _, v := range t.Floats {
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(v))
		}
		b = bytesField(b, 4, p)
	case t.Int64s != nil:
		var p []byte
		for _, v := range t.Int64s {
			p = binary.LittleEndian.AppendUint64(p, uint64(v))
		}
		b = bytesField(b, 9, p)
	default:
		var p []byte
		for _, v := range t.Floats {
			p = binary.LittleEndian.AppendUint32(p, math.Float32bits(v))
		}
		b = bytesField(b, 9, p)
	}
	return b
}

func (a *Attr) encode() []byte {
	var b []byte
	b = strField(b, 1, a.Name)
	switch a.Type {
	case AFloat:
		b = protowire.AppendFixed32(tag(b, 2, protowire.Fixed32Type), math.Float32bits(a.F))
	case AInt:
		b = varField(b, 3, a.I)
	case AString:
		b = strField(b, 4, a.S)
	case ATensor:
		b = bytesField(b, 5, a.T.Encode())
	case AFloats:
		for _, f := range a.Floats {
			b = protowire.AppendFixed32(tag(b, 7, protowire.Fixed32Type), math.Float32bits(f))
		}
	case AInts:
		for _, v := range a.Ints {
			b = varField(b, 8, v)
		}
	}
	return varField(b, 20, int64(a.Type))
}

func valueInfo(name string, dims []int64) []byte {
	var sb []byte
	for _, d := range dims {
		if d == 0 {
			sb = bytesField(sb, 1, strField(nil, 2, "N"))
		} else {
			sb = bytesField(sb, 1, varField(nil, 1, d))
		}
	}
	tt := varField(nil, 1, 1)
	tt = bytesField(tt, 2, sb)
	b := strField(nil, 1, name)
	return bytesField(b, 2, bytesField(nil, 1, tt))
}

// Bytes encodes the model.
func (m *Model) Bytes() []byte {
	var g []byte
	for _, n := range m.Nodes {
		var nb []byte
		for _, s := range n.In {
			nb = strField(nb, 1, s)
		}
		for _, s := range n.Out {
			nb = strField(nb, 2, s)
		}
		nb = strField(nb, 3, n.Name)
		nb = strField(nb, 4, n.Op)
		for _, a := range n.Attrs {
			nb = bytesField(nb, 5, a.encode())
		}
		g = bytesField(g, 1, nb)
	}
	g = strField(g, 2, "test")
	for _, t := range m.Inits {
		g = bytesField(g, 5, t.Encode())
	}
	g = bytesField(g, 11, valueInfo(m.Input, m.InDims))
	g = bytesField(g, 12, valueInfo(m.Output, m.OutDims))
	g = append(g, m.GraphRaw...)
	ir := m.IR
	if ir == 0 {
		ir = 7
	}
	b := varField(nil, 1, int64(ir))
	b = strField(b, 2, "onnxtest")
	b = bytesField(b, 7, g)
	op := strField(nil, 1, "")
	op = varField(op, 2, int64(m.Opset))
	return bytesField(b, 8, op)
}
