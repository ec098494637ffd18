package lcnet

import (
	"fmt"
	"strings"

	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/graph"
)

// Layer describes one node of the planned (optimized) network.
type Layer struct {
	Name    string `json:"name"`
	Op      string `json:"op"`      // e.g. "conv2d 3x3/2 dw +hardswish"
	Shape   []int  `json:"shape"`   // per-sample output shape
	Backend string `json:"backend"` // "dnnl" or "go"
	// Why is set when the node runs on Go although the preferred backend is
	// oneDNN: the reason oneDNN declined it.
	Why string `json:"why,omitempty"`
	// Impl is the kernel oneDNN picked for the node (e.g.
	// "jit_dw:avx512_core"), when it runs on oneDNN.
	Impl   string `json:"impl,omitempty"`
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
}

// Layers lists the planned nodes in execution order.
func (m *Model) Layers() []Layer {
	g := m.opt
	impl := map[string]string{}
	for _, s := range m.plan.segs {
		if d, ok := s.prog.(interface{ implOf(string) string }); ok {
			for _, k := range s.nodes {
				impl[g.Nodes[k].Name] = d.implOf(g.Nodes[k].Name)
			}
		}
	}
	ls := make([]Layer, len(g.Nodes))
	for i, n := range g.Nodes {
		one := &graph.Graph{Values: g.Values, Nodes: []*graph.Node{n}, Input: g.Input, Output: n.Output}
		c := graph.Count(one)
		ls[i] = Layer{Name: n.Name, Op: describe(n.Op), Shape: g.Values[n.Output].Shape,
			Backend: m.plan.nodeBackend[i], Why: m.plan.nodeWhy[i], Impl: impl[n.Name], Params: c.Params, MACs: c.MACs}
	}
	return ls
}

func describe(op graph.Op) string {
	switch o := op.(type) {
	case *graph.Conv2D:
		var b strings.Builder
		fmt.Fprintf(&b, "conv2d %dx%d", o.KH, o.KW)
		if o.StrideH != 1 || o.StrideW != 1 {
			if o.StrideH == o.StrideW {
				fmt.Fprintf(&b, "/%d", o.StrideH)
			} else {
				fmt.Fprintf(&b, "/(%d,%d)", o.StrideH, o.StrideW)
			}
		}
		switch {
		case o.Depthwise():
			b.WriteString(" dw")
		case o.Groups > 1:
			fmt.Fprintf(&b, " g%d", o.Groups)
		}
		fmt.Fprintf(&b, " %d->%d", o.InC, o.OutC)
		if o.Act.Kind != graph.ActNone {
			b.WriteString(" +" + o.Act.String())
		}
		return b.String()
	case *graph.FC:
		s := fmt.Sprintf("fc %d->%d", o.In, o.Out)
		if o.Act.Kind != graph.ActNone {
			s += " +" + o.Act.String()
		}
		return s
	case *graph.SE:
		return fmt.Sprintf("squeeze_excite %d->%d->%d %s/%s", o.C, o.Reduce, o.C, o.Act, o.Gate)
	case *graph.Scale:
		return fmt.Sprintf("scale %g", o.Factor)
	}
	return op.Type()
}

// Counts returns params, MACs and Paddle-rule FLOPs of the network as built
// or imported (before batch-norm folding), per sample.
func (m *Model) Counts() graph.Counts { return graph.Count(m.src) }

// Backend is the preferred backend the model was planned for ("dnnl" or
// "go"); Layers tells which nodes, if any, fell back to Go.
func (m *Model) Backend() string { return m.plan.preferred }

// DNNLISA is the instruction set oneDNN dispatches to on this CPU, or ""
// when the binary was built without oneDNN.
func DNNLISA() string {
	if !dnn.Available() {
		return ""
	}
	return dnn.ISA()
}
