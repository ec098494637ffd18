package paddle

import (
	"bytes"
	"math"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
)

// setAttr sets (or, with v nil, removes) attribute name of every op with
// the given id in a decoded PIR op list.
func setAttr(ops []any, id, name string, v map[string]any) {
	for _, o := range ops {
		m := o.(map[string]any)
		if m["#"] != id {
			continue
		}
		var as []any
		for _, a := range m["A"].([]any) {
			if a.(map[string]any)["N"] != name {
				as = append(as, a)
			}
		}
		if v != nil {
			as = append(as, map[string]any{"N": name, "AT": v})
		}
		m["A"] = as
	}
}

func importEdited(t *testing.T, f func(ops []any) []any) *graph.Graph {
	t.Helper()
	pir, _, params := tinyFiles(t)
	g, err := ReadPIR(bytes.NewReader(pirEdit(t, pir, f)), bytes.NewReader(params), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func nodesOf[T graph.Op](g *graph.Graph) []T {
	var out []T
	for _, n := range g.Nodes {
		if op, ok := n.Op.(T); ok {
			out = append(out, op)
		}
	}
	return out
}

func TestHardSigmoidDefaults(t *testing.T) {
	// Without attributes the op definitions' defaults apply: slope 0.2.
	g := importEdited(t, func(ops []any) []any {
		setAttr(ops, "1.hardsigmoid", "slope", nil)
		setAttr(ops, "1.hardsigmoid", "offset", nil)
		return ops
	})
	var acts []graph.Activation
	for _, a := range nodesOf[*graph.Act](g) {
		if a.Act.Kind == graph.ActHardSigmoid {
			acts = append(acts, a.Act)
		}
	}
	if len(acts) != 1 || math.Abs(float64(acts[0].Slope)-0.2) > 1e-7 || acts[0].Offset != 0.5 {
		t.Fatalf("hardsigmoid %v, want slope 0.2 offset 0.5", acts)
	}
	// The legacy op too.
	m := mustExport(t, tinyGraph(t), exportOpts{})
	g2, err := ReadProgram(bytes.NewReader(programWithoutHsigAttrs(t)), bytes.NewReader(m.pdiparams(false)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range nodesOf[*graph.Act](g2) {
		if a.Act.Kind == graph.ActHardSigmoid && (math.Abs(float64(a.Act.Slope)-0.2) > 1e-7 || a.Act.Offset != 0.5) {
			t.Fatalf("legacy hard_sigmoid %v, want slope 0.2", a.Act)
		}
	}
}

// programWithoutHsigAttrs exports the tiny graph as a ProgramDesc whose
// hard_sigmoid has no slope/offset attributes.
func programWithoutHsigAttrs(t *testing.T) []byte {
	m := mustExport(t, tinyGraph(t), exportOpts{})
	for i := range m.ops {
		if m.ops[i].typ == "hardsigmoid" {
			m.ops[i].attrs = nil
		}
	}
	return m.program(exportOpts{})
}

func TestSamePadding(t *testing.T) {
	g := importEdited(t, func(ops []any) []any {
		for _, o := range ops {
			if m := o.(map[string]any); m["#"] == "1.conv2d" {
				setAttr([]any{m}, "1.conv2d", "padding_algorithm", map[string]any{"#": "0.a_str", "D": "SAME"})
				break // the first (3x3, stride 2x1) conv
			}
		}
		return ops
	})
	c := nodesOf[*graph.Conv2D](g)[0]
	// 8x8 input, 3x3 kernel, stride (2,1): out 4x8, pads (0,1) and (1,1).
	if c.PadT != 0 || c.PadB != 1 || c.PadL != 1 || c.PadR != 1 {
		t.Fatalf("SAME pads t%d b%d l%d r%d, want 0 1 1 1", c.PadT, c.PadB, c.PadL, c.PadR)
	}
}

func TestDropoutModes(t *testing.T) {
	g := importEdited(t, func(ops []any) []any {
		setAttr(ops, "1.dropout", "mode", map[string]any{"#": "0.a_str", "D": "upscale_in_train"})
		setAttr(ops, "1.dropout", "is_test", map[string]any{"#": "0.a_bool", "D": false})
		return ops
	})
	if len(nodesOf[*graph.Scale](g)) != 0 || len(nodesOf[*graph.Identity](g)) != 1 {
		t.Fatal("upscale_in_train dropout is not an identity")
	}
	g = importEdited(t, func(ops []any) []any { return ops })
	if s := nodesOf[*graph.Scale](g); len(s) != 1 || s[0].Factor != 0.75 {
		t.Fatalf("downgrade_in_infer dropout: %v, want scale 0.75", s)
	}
	pir, _, params := tinyFiles(t)
	bad := pirEdit(t, pir, func(ops []any) []any {
		setAttr(ops, "1.dropout", "mode", map[string]any{"#": "0.a_str", "D": "sometimes"})
		return ops
	})
	_, err := ReadPIR(bytes.NewReader(bad), bytes.NewReader(params), Options{})
	wantErr(t, err, ErrUnsupported, "sometimes")
}
