package onnx

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lcnet-go/lcnet/graph/onnx/internal/onnxtest"
)

// FuzzOps builds structurally valid models from the fuzz input: a chain of
// operators with fuzzed attributes and constant shapes on x [N,4,6,6]. It
// reaches the importer's operator code, which byte-level mutation of a
// protobuf rarely does. Import may fail; it must not panic or return an
// invalid graph.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	f.Add([]byte{0, 3, 1, 1, 2, 0, 9, 4, 12, 2, 7, 7, 13, 14})
	f.Add([]byte{20, 3, 2, 1, 1, 0, 0, 9, 11, 15, 1, 16, 0})
	ops := []string{"Conv", "Relu", "HardSigmoid", "HardSwish", "Mul", "Add", "Clip", "GlobalAveragePool",
		"Flatten", "Gemm", "MatMul", "Softmax", "Reshape", "Squeeze", "Unsqueeze", "Div", "Sub", "BatchNormalization",
		"AveragePool", "ReduceMean", "Sigmoid", "Dropout"}
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 64 {
			return
		}
		k := 0
		next := func() int {
			if k >= len(prog) {
				return 0
			}
			k++
			return int(prog[k-1])
		}
		small := func() int64 { return int64(next()%5) - 1 }
		opset := []int{7, 11, 13, 17}[next()%4]
		m := &onnxtest.Model{Opset: opset, Input: "x", InDims: []int64{0, 4, 6, 6}}
		cur := "x"
		for step := 0; k < len(prog) && step < 12; step++ {
			op := ops[next()%len(ops)]
			out := fmt.Sprintf("v%d", step)
			n := onnxtest.Node{Op: op, Name: out, In: []string{cur}, Out: []string{out}}
			cname := func(dims ...int64) string {
				name := fmt.Sprintf("c%d_%d", step, len(m.Inits))
				m.Inits = append(m.Inits, onnxtest.FloatT(name, step, 0.5, dims...))
				return name
			}
			iname := func(v ...int64) string {
				name := fmt.Sprintf("i%d_%d", step, len(m.Inits))
				m.Inits = append(m.Inits, onnxtest.IntT(name, v...))
				return name
			}
			switch op {
			case "Conv":
				oc, g := int64(1+next()%8), int64(1+next()%4)
				kh, kw := int64(1+next()%4), int64(1+next()%4)
				n.In = append(n.In, cname(oc, int64(4)/max(g, 1), kh, kw))
				if next()%2 == 0 {
					n.In = append(n.In, cname(oc))
				}
				n.Attrs = append(n.Attrs, onnxtest.I("group", g), onnxtest.Is("strides", 1+small(), 1+small()),
					onnxtest.Is("pads", small(), small(), small(), small()))
				if next()%3 == 0 {
					n.Attrs = append(n.Attrs, onnxtest.S("auto_pad", []string{"SAME_UPPER", "SAME_LOWER", "VALID", "BAD"}[next()%4]))
				}
			case "Mul", "Add", "Div", "Sub":
				shapes := [][]int64{{}, {1}, {4, 1, 1}, {1, 4, 1, 1}, {4}, {6}, {2, 2}}
				n.In = append(n.In, cname(shapes[next()%len(shapes)]...))
				if next()%3 == 0 {
					n.In[0], n.In[1] = n.In[1], n.In[0]
				}
				if next()%4 == 0 {
					n.In[1] = cur
				}
			case "Clip":
				if opset < 11 {
					n.Attrs = append(n.Attrs, onnxtest.F("min", float32(small())), onnxtest.F("max", float32(next()%8)))
				} else {
					n.In = append(n.In, cname(), cname())
				}
			case "Gemm":
				n.In = append(n.In, cname(int64(1+next()%8), int64(1+next()%8)))
				n.Attrs = append(n.Attrs, onnxtest.I("transB", int64(next()%2)))
			case "MatMul":
				n.In = append(n.In, cname(int64(1+next()%8), int64(1+next()%8)))
			case "Reshape":
				n.In = append(n.In, iname(small(), small(), small()))
			case "Squeeze", "Unsqueeze", "ReduceMean":
				if opset >= 13 && op != "ReduceMean" {
					n.In = append(n.In, iname(small(), small()))
				} else {
					n.Attrs = append(n.Attrs, onnxtest.Is("axes", small(), small()))
				}
			case "BatchNormalization":
				c := int64(1 + next()%6)
				n.In = append(n.In, cname(c), cname(c), cname(c), cname(c))
			case "AveragePool":
				n.Attrs = append(n.Attrs, onnxtest.Is("kernel_shape", int64(next()%8), int64(next()%8)))
			case "Softmax", "Flatten":
				n.Attrs = append(n.Attrs, onnxtest.I("axis", small()))
			}
			m.Nodes = append(m.Nodes, n)
			cur = out
		}
		m.Output = cur
		g, err := Read(m.Bytes(), Options{MaxElements: 1 << 16})
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("invalid graph: %v", err)
		}
		var buf bytes.Buffer
		if err := Export(g, &buf, ExportOptions{Opset: 13}); err != nil {
			t.Fatalf("export: %v", err)
		}
		if _, err := Read(buf.Bytes(), Options{}); err != nil {
			t.Fatalf("re-import: %v", err)
		}
	})
}
