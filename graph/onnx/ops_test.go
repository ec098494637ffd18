package onnx

import (
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/naive"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/onnxtest"
)

// TestSyntheticOps imports the synthetic operator models and checks what
// they became. Their numbers are checked against ONNX Runtime in
// internal/orttest.
func TestSyntheticOps(t *testing.T) {
	for _, c := range onnxtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			g, err := Read(c.Model.Bytes(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			in := sinInput(2 * graph.Numel(c.InShape))
			out, err := naive.Run(g, in, 2)
			if err != nil {
				t.Fatal(err)
			}
			o, err := graph.Optimize(g)
			if err != nil {
				t.Fatal(err)
			}
			out2, err := naive.Run(o, in, 2)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(out, out2); d > 1e-6 {
				t.Errorf("optimized graph differs by %g", d)
			}
			var types []string
			for _, n := range g.Nodes {
				types = append(types, n.Op.Type())
				switch op := n.Op.(type) {
				case *graph.Conv2D:
					switch c.Name {
					case "same_upper_gemm_opset11": // in 9x8, k3 s2: total pads 2 and 1 -> (1,1), (0,1)
						if op.PadT != 1 || op.PadB != 1 || op.PadL != 0 || op.PadR != 1 {
							t.Errorf("SAME_UPPER pads t%d l%d b%d r%d", op.PadT, op.PadL, op.PadB, op.PadR)
						}
					case "same_lower_bn_relu6_matmul_opset7": // k2: totals 1 and 1, the extra pixel first
						if op.PadT != 1 || op.PadB != 0 || op.PadL != 1 || op.PadR != 0 {
							t.Errorf("SAME_LOWER pads t%d l%d b%d r%d", op.PadT, op.PadL, op.PadB, op.PadR)
						}
					}
				case *graph.Act:
					if c.Name == "same_upper_gemm_opset11" && op.Act.Kind == graph.ActHardSigmoid && (op.Act.Slope != 0.2 || op.Act.Offset != 0.5) {
						t.Errorf("default HardSigmoid is %v, want alpha 0.2 beta 0.5", op.Act)
					}
				}
			}
			t.Logf("%v -> %v", types, out[:min(4, len(out))])
		})
	}
}
