package paddle

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// roundTripConfigs are PP-LCNet members to export and import again.
func roundTripConfigs() map[string]pplcnet.Config {
	noLast := pplcnet.Default(0.5)
	noLast.UseLastConv, noLast.Classes, noLast.InputH, noLast.InputW = false, 10, 96, 96
	relu := pplcnet.Default(0.35)
	relu.Act, relu.GateSlope, relu.InputH, relu.InputW, relu.Classes = graph.ActReLU, 0.2, 64, 96, 7
	relu.Kernels[0], relu.SE[0] = 5, true
	noDrop := pplcnet.TextLine(0.25)
	noDrop.DropoutProb, noDrop.Softmax = 0, false
	return map[string]pplcnet.Config{
		"imagenet_x0_25":               pplcnet.Default(0.25),
		"textline_x0_25":               pplcnet.TextLine(0.25),
		"x0_5_nolastconv":              noLast,
		"x0_35_relu_slope0_2":          relu,
		"textline_nodropout_nosoftmax": noDrop,
	}
}

func buildConfig(t testing.TB, c pplcnet.Config) *graph.Graph {
	t.Helper()
	g, err := pplcnet.Build(c, 7)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sameGraph compares two graphs after graph.Optimize: the same op sequence,
// shapes, attributes and bit-identical weights.
func sameGraph(t *testing.T, want, got *graph.Graph) {
	t.Helper()
	a, err := graph.Optimize(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := graph.Optimize(got)
	if err != nil {
		t.Fatal(err)
	}
	if !graph.SameShape(a.InputShape(), b.InputShape()) || !graph.SameShape(a.OutputShape(), b.OutputShape()) {
		t.Fatalf("shapes %v->%v, want %v->%v", b.InputShape(), b.OutputShape(), a.InputShape(), a.OutputShape())
	}
	if len(a.Nodes) != len(b.Nodes) {
		t.Fatalf("%d nodes after optimizing, want %d:\n%s\nwant:\n%s", len(b.Nodes), len(a.Nodes), dump(b), dump(a))
	}
	for i := range a.Nodes {
		na, nb := a.Nodes[i], b.Nodes[i]
		if da, db := describeOp(na.Op), describeOp(nb.Op); da != db {
			t.Fatalf("node %d: %s, want %s", i, db, da)
		}
		if !graph.SameShape(a.Values[na.Output].Shape, b.Values[nb.Output].Shape) {
			t.Fatalf("node %d (%s): shape %v, want %v", i, na.Op.Type(), b.Values[nb.Output].Shape, a.Values[na.Output].Shape)
		}
		pa, pb := na.Op.Params(), nb.Op.Params()
		if len(pa) != len(pb) {
			t.Fatalf("node %d (%s): %d params, want %d", i, na.Op.Type(), len(pb), len(pa))
		}
		for k := range pa {
			if pa[k].Suffix != pb[k].Suffix || !graph.SameShape(pa[k].T.Shape, pb[k].T.Shape) {
				t.Fatalf("node %d: param %s %v, want %s %v", i, pb[k].Suffix, pb[k].T.Shape, pa[k].Suffix, pa[k].T.Shape)
			}
			for j := range pa[k].T.Data {
				if math.Float32bits(pa[k].T.Data[j]) != math.Float32bits(pb[k].T.Data[j]) {
					t.Fatalf("node %d (%s) param %s[%d] = %g, want %g", i, na.Op.Type(), pa[k].Suffix, j, pb[k].T.Data[j], pa[k].T.Data[j])
				}
			}
		}
	}
}

// describeOp prints an op's attributes without its tensors.
func describeOp(op graph.Op) string {
	switch o := op.(type) {
	case *graph.Conv2D:
		c := *o
		c.Weight, c.Bias = nil, nil
		c.DilH, c.DilW = o.Dilation()
		return fmt.Sprintf("conv2d%+v", c)
	case *graph.FC:
		c := *o
		c.Weight, c.Bias = nil, nil
		return fmt.Sprintf("fc%+v", c)
	case *graph.SE:
		c := *o
		c.W1, c.B1, c.W2, c.B2 = nil, nil, nil, nil
		return fmt.Sprintf("se%+v", c)
	case *graph.BatchNorm:
		return fmt.Sprintf("batch_norm{eps %g}", o.Eps)
	case *graph.BiasAdd:
		return "bias_add"
	case *graph.Scale:
		return fmt.Sprintf("scale{%g}", o.Factor)
	case *graph.Reshape:
		return fmt.Sprintf("reshape%v", o.Shape)
	}
	return op.Type()
}

func dump(g *graph.Graph) string {
	var b bytes.Buffer
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "  %-20s %s %v\n", n.Name, describeOp(n.Op), g.Values[n.Output].Shape)
	}
	return b.String()
}

func TestRoundTripPIR(t *testing.T) {
	for name, c := range roundTripConfigs() {
		t.Run(name, func(t *testing.T) {
			g := buildConfig(t, c)
			for _, o := range []exportOpts{{}, {pads4: true, noPersis: true}} {
				m := mustExport(t, g, o)
				got, err := ReadPIR(bytes.NewReader(m.pir(o)), bytes.NewReader(m.pdiparams(false)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				sameGraph(t, g, got)
			}
		})
	}
}

func TestRoundTripProgram(t *testing.T) {
	for name, c := range roundTripConfigs() {
		t.Run(name, func(t *testing.T) {
			g := buildConfig(t, c)
			for _, o := range []exportOpts{{}, {pads4: true, packed: true, linear: "mul"}, {linear: "matmul"}} {
				m := mustExport(t, g, o)
				got, err := ReadProgram(bytes.NewReader(m.program(o)), bytes.NewReader(m.pdiparams(o.packed)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				sameGraph(t, g, got)
			}
		})
	}
}

func TestDynamicInputSize(t *testing.T) {
	c := pplcnet.TextLine(0.25)
	g := buildConfig(t, c)
	o := exportOpts{dynamic: true}
	m := mustExport(t, g, o)
	prog, params := m.pir(o), m.pdiparams(false)
	// The declared size is dynamic: the caller gives it (80x160 here).
	got, err := ReadPIR(bytes.NewReader(prog), bytes.NewReader(params), Options{InputH: 80, InputW: 160})
	if err != nil {
		t.Fatal(err)
	}
	sameGraph(t, g, got)
	// Without a size the default is 224x224.
	got, err = ReadPIR(bytes.NewReader(prog), bytes.NewReader(params), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !graph.SameShape(got.InputShape(), []int{3, 224, 224}) {
		t.Fatalf("default input %v, want [3 224 224]", got.InputShape())
	}
	// A static model refuses another size.
	m = mustExport(t, g, exportOpts{})
	_, err = ReadPIR(bytes.NewReader(m.pir(exportOpts{})), bytes.NewReader(params), Options{InputH: 96, InputW: 96})
	if err == nil {
		t.Fatal("a 96x96 request on an 80x160 model was accepted")
	}
}

func TestRoundTripTiny(t *testing.T) {
	g := tinyGraph(t)
	m := mustExport(t, g, exportOpts{})
	got, err := ReadPIR(bytes.NewReader(m.pir(exportOpts{})), bytes.NewReader(m.pdiparams(false)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameGraph(t, g, got)
	got, err = ReadProgram(bytes.NewReader(m.program(exportOpts{})), bytes.NewReader(m.pdiparams(false)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameGraph(t, g, got)
}
