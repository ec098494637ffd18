// Package graph is lcnet's description of what a network computes: values
// with per-sample shapes, nodes with ops and constant weights, shape
// inference, rewrite passes and counting. It knows nothing about how the
// network is run: no kernels, no cgo.
//
// The PP-LCNet family builder (package pplcnet) and every importer produce a
// *Graph; Optimize rewrites it (folds batch norm, bias adds and constant
// scales, fuses activations, recognises squeeze-excite); the backends run it.
package graph

import (
	"errors"
	"fmt"
)

// Value is a tensor flowing between nodes. Its Shape is per sample: the
// batch dimension is implicit.
type Value struct {
	Name  string
	Shape []int
}

// Node applies Op to its input values and produces one output value.
type Node struct {
	Name   string
	Op     Op
	Inputs []int // value indices
	Output int   // value index
}

// Graph is a single-input, single-output network whose nodes are kept in
// topological order.
type Graph struct {
	Name   string
	Values []Value
	Nodes  []*Node
	Input  int // value index of the network input
	Output int // value index of the network output
}

// ErrGraph is wrapped by structural errors (dangling values, cycles, a
// missing output).
var ErrGraph = errors.New("invalid graph")

// New returns a graph with one input of the given per-sample shape.
func New(name, input string, shape ...int) *Graph {
	g := &Graph{Name: name}
	g.Input = g.addValue(input, shape)
	g.Output = g.Input
	return g
}

func (g *Graph) addValue(name string, shape []int) int {
	g.Values = append(g.Values, Value{Name: name, Shape: append([]int(nil), shape...)})
	return len(g.Values) - 1
}

// Add appends a node named name computing op on the given input values,
// infers its output shape, makes that output the graph's output and returns
// its value index. The error names the node.
func (g *Graph) Add(name string, op Op, inputs ...int) (int, error) {
	shapes := make([][]int, len(inputs))
	for i, in := range inputs {
		if in < 0 || in >= len(g.Values) {
			return -1, fmt.Errorf("graph: node %q (%s): input %d: %w: no such value", name, op.Type(), in, ErrGraph)
		}
		shapes[i] = g.Values[in].Shape
	}
	out, err := op.InferShape(shapes)
	if err != nil {
		return -1, fmt.Errorf("graph: node %q (%s): %w", name, op.Type(), err)
	}
	id := g.addValue(name, out)
	g.Nodes = append(g.Nodes, &Node{Name: name, Op: op, Inputs: append([]int(nil), inputs...), Output: id})
	g.Output = id
	return id, nil
}

// InputShape is the per-sample input shape.
func (g *Graph) InputShape() []int { return g.Values[g.Input].Shape }

// OutputShape is the per-sample output shape.
func (g *Graph) OutputShape() []int { return g.Values[g.Output].Shape }

// Validate checks that every node reads values produced earlier (or the
// input), that each value has one producer, and re-infers every shape. The
// error names the first bad node.
func (g *Graph) Validate() error {
	if g == nil || len(g.Values) == 0 {
		return fmt.Errorf("graph: %w: empty", ErrGraph)
	}
	if g.Input < 0 || g.Input >= len(g.Values) || g.Output < 0 || g.Output >= len(g.Values) {
		return fmt.Errorf("graph: %w: input or output out of range", ErrGraph)
	}
	in := g.Values[g.Input].Shape
	for _, d := range in {
		if d <= 0 {
			return fmt.Errorf("graph: input %q has shape %v: %w", g.Values[g.Input].Name, in, ErrShape)
		}
	}
	ready := make([]bool, len(g.Values))
	ready[g.Input] = true
	for _, n := range g.Nodes {
		if n == nil || n.Op == nil {
			return fmt.Errorf("graph: %w: nil node or op", ErrGraph)
		}
		shapes := make([][]int, len(n.Inputs))
		for i, v := range n.Inputs {
			if v < 0 || v >= len(g.Values) || !ready[v] {
				return fmt.Errorf("graph: node %q (%s): %w: input %d is not produced before it", n.Name, n.Op.Type(), ErrGraph, v)
			}
			shapes[i] = g.Values[v].Shape
		}
		if n.Output < 0 || n.Output >= len(g.Values) || ready[n.Output] {
			return fmt.Errorf("graph: node %q (%s): %w: output value %d is produced twice or out of range", n.Name, n.Op.Type(), ErrGraph, n.Output)
		}
		out, err := n.Op.InferShape(shapes)
		if err != nil {
			return fmt.Errorf("graph: node %q (%s): %w", n.Name, n.Op.Type(), err)
		}
		g.Values[n.Output].Shape = out
		ready[n.Output] = true
	}
	if !ready[g.Output] {
		return fmt.Errorf("graph: %w: output %q is never produced", ErrGraph, g.Values[g.Output].Name)
	}
	return nil
}

// Producer returns the index of the node producing value v, or -1.
func (g *Graph) Producer(v int) int {
	for i, n := range g.Nodes {
		if n.Output == v {
			return i
		}
	}
	return -1
}

// Consumers returns the indices of the nodes reading value v, in order.
func (g *Graph) Consumers(v int) []int {
	var cs []int
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == v {
				cs = append(cs, i)
				break
			}
		}
	}
	return cs
}

// Clone returns a copy whose node list, values and ops can be rewritten
// without touching g. Weight tensors are shared: passes never modify a
// tensor in place, they replace it.
func (g *Graph) Clone() *Graph {
	c := &Graph{Name: g.Name, Input: g.Input, Output: g.Output}
	c.Values = make([]Value, len(g.Values))
	for i, v := range g.Values {
		c.Values[i] = Value{Name: v.Name, Shape: append([]int(nil), v.Shape...)}
	}
	c.Nodes = make([]*Node, len(g.Nodes))
	for i, n := range g.Nodes {
		c.Nodes[i] = &Node{Name: n.Name, Op: cloneOp(n.Op), Inputs: append([]int(nil), n.Inputs...), Output: n.Output}
	}
	return c
}

func cloneOp(op Op) Op {
	switch o := op.(type) {
	case *Conv2D:
		c := *o
		return &c
	case *BatchNorm:
		c := *o
		return &c
	case *Act:
		c := *o
		return &c
	case *BiasAdd:
		c := *o
		return &c
	case *Scale:
		c := *o
		return &c
	case *Reshape:
		return &Reshape{Shape: append([]int(nil), o.Shape...)}
	case *FC:
		c := *o
		return &c
	case *SE:
		c := *o
		return &c
	}
	return op // stateless ops
}

// StateDict maps "node.suffix" names to the graph's constants.
func (g *Graph) StateDict() map[string]*Tensor {
	m := make(map[string]*Tensor)
	for _, n := range g.Nodes {
		for _, p := range n.Op.Params() {
			m[n.Name+"."+p.Suffix] = p.T
		}
	}
	return m
}

// LoadStateDict replaces the graph's constants with the named tensors of
// sd, checking that each exists with the same number of values and that sd
// has no name the graph lacks. Shapes may differ in layout only where
// transpose says so: for FC weights given as [In, Out] (Paddle) set
// transposeFC. The values are copied into the graph's own tensors, so load
// before cloning or optimizing.
func (g *Graph) LoadStateDict(sd map[string]*Tensor, transposeFC bool) error {
	used := make(map[string]bool, len(sd))
	for _, n := range g.Nodes {
		fc, isFC := n.Op.(*FC)
		for _, p := range n.Op.Params() {
			name := n.Name + "." + p.Suffix
			src, ok := sd[name]
			if !ok {
				return fmt.Errorf("graph: missing parameter %q", name)
			}
			used[name] = true
			if src.Len() != p.T.Len() || len(src.Data) != Numel(src.Shape) {
				return fmt.Errorf("graph: parameter %q has shape %v, want %v: %w", name, src.Shape, p.T.Shape, ErrShape)
			}
			if isFC && p.Suffix == "weight" && transposeFC {
				if !SameShape(src.Shape, []int{fc.In, fc.Out}) {
					return fmt.Errorf("graph: parameter %q has shape %v, want [%d %d] (in, out): %w", name, src.Shape, fc.In, fc.Out, ErrShape)
				}
				Transpose(p.T.Data, src.Data, fc.In, fc.Out)
				continue
			}
			if len(src.Shape) == len(p.T.Shape) && !SameShape(src.Shape, p.T.Shape) {
				return fmt.Errorf("graph: parameter %q has shape %v, want %v: %w", name, src.Shape, p.T.Shape, ErrShape)
			}
			copy(p.T.Data, src.Data)
		}
	}
	for name := range sd {
		if !used[name] {
			return fmt.Errorf("graph: unexpected parameter %q", name)
		}
	}
	return nil
}
