package graph

import (
	"fmt"
	"math"
)

// Optimize returns a rewritten copy of g ready for a backend: identities
// removed, batch norms and bias adds folded into the producing conv or FC,
// constant scales folded into a following FC (or a preceding linear conv),
// activations fused into their producer, and squeeze-excite subgraphs
// recognised as SE nodes. g itself is not modified.
func Optimize(g *Graph) (*Graph, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	o := g.Clone()
	passes := []func(*Graph) bool{
		RemoveIdentities, FoldBiasAdd, FoldBatchNorm, FoldScale, FuseActivations, RecognizeSE,
	}
	// Each pass either shrinks the graph or leaves it as it is, so running
	// them to a fixed point ends; the bound is a guard.
	for changed, rounds := true, 0; changed && rounds <= len(o.Nodes)+1; rounds++ {
		changed = false
		for _, pass := range passes {
			for pass(o) {
				changed = true
			}
		}
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("graph: after optimizing: %w", err)
	}
	return o, nil
}

// replaceUses points every reader of value from (and the graph output) at to.
func (g *Graph) replaceUses(from, to int) {
	for _, n := range g.Nodes {
		for i, in := range n.Inputs {
			if in == from {
				n.Inputs[i] = to
			}
		}
	}
	if g.Output == from {
		g.Output = to
	}
}

// removeNode deletes node i, whose output must be unused by then.
func (g *Graph) removeNode(i int) {
	g.Nodes = append(g.Nodes[:i], g.Nodes[i+1:]...)
}

// soleConsumer returns the node reading value v if there is exactly one
// and v is not the graph output; otherwise -1.
func (g *Graph) soleConsumer(v int) int {
	if v == g.Output {
		return -1
	}
	cs := g.Consumers(v)
	if len(cs) != 1 {
		return -1
	}
	return cs[0]
}

// bypass removes node i, whose single input takes over its output's readers.
func (g *Graph) bypass(i int) {
	n := g.Nodes[i]
	g.removeNode(i)
	g.replaceUses(n.Output, n.Inputs[0])
}

// RemoveIdentities drops Identity nodes and Scale{1}. It reports whether it changed g.
func RemoveIdentities(g *Graph) bool {
	for i, n := range g.Nodes {
		switch op := n.Op.(type) {
		case *Identity:
			g.bypass(i)
			return true
		case *Scale:
			if op.Factor == 1 {
				g.bypass(i)
				return true
			}
		}
	}
	return false
}

// linearProducer returns the conv or FC producing value v alone (no fused
// activation yet and v read by a single node), or nil.
func (g *Graph) linearProducer(n *Node) (int, *Node) {
	p := g.Producer(n.Inputs[0])
	if p < 0 || g.soleConsumer(n.Inputs[0]) < 0 {
		return -1, nil
	}
	switch op := g.Nodes[p].Op.(type) {
	case *Conv2D:
		if op.Act.Kind == ActNone {
			return p, g.Nodes[p]
		}
	case *FC:
		if op.Act.Kind == ActNone {
			return p, g.Nodes[p]
		}
	}
	return -1, nil
}

// rescale folds y' = y*scale[c] + shift[c] into a conv or FC, replacing its
// tensors with new ones.
func rescale(op Op, scale, shift []float64) {
	var w, b **Tensor
	var out int
	switch o := op.(type) {
	case *Conv2D:
		w, b, out = &o.Weight, &o.Bias, o.OutC
	case *FC:
		w, b, out = &o.Weight, &o.Bias, o.Out
	}
	ow := (*w).Data
	nw := NewTensor((*w).Shape...)
	per := len(nw.Data) / out
	nb := NewTensor(out)
	for c := 0; c < out; c++ {
		s := scale[c]
		for k := c * per; k < (c+1)*per; k++ {
			nw.Data[k] = float32(float64(ow[k]) * s)
		}
		old := 0.0
		if *b != nil {
			old = float64((*b).Data[c])
		}
		nb.Data[c] = float32(old*s + shift[c])
	}
	*w, *b = nw, nb
}

// FoldBatchNorm folds a BatchNorm into the conv or FC that alone feeds it.
func FoldBatchNorm(g *Graph) bool {
	for i, n := range g.Nodes {
		bn, ok := n.Op.(*BatchNorm)
		if !ok {
			continue
		}
		_, p := g.linearProducer(n)
		if p == nil {
			continue
		}
		c := bn.Scale.Len()
		scale, shift := make([]float64, c), make([]float64, c)
		for k := 0; k < c; k++ {
			inv := float64(bn.Scale.Data[k]) / math.Sqrt(float64(bn.Var.Data[k])+float64(bn.Eps))
			scale[k] = inv
			shift[k] = float64(bn.Shift.Data[k]) - float64(bn.Mean.Data[k])*inv
		}
		rescale(p.Op, scale, shift)
		g.bypass(i)
		return true
	}
	return false
}

// FoldBiasAdd folds a BiasAdd into the conv or FC that alone feeds it.
func FoldBiasAdd(g *Graph) bool {
	for i, n := range g.Nodes {
		ba, ok := n.Op.(*BiasAdd)
		if !ok {
			continue
		}
		_, p := g.linearProducer(n)
		if p == nil {
			continue
		}
		c := ba.Bias.Len()
		scale, shift := make([]float64, c), make([]float64, c)
		for k := range c {
			scale[k], shift[k] = 1, float64(ba.Bias.Data[k])
		}
		rescale(p.Op, scale, shift)
		g.bypass(i)
		return true
	}
	return false
}

// FoldScale folds a constant Scale into the next FC (through reshapes), as
// PP-LCNet's inference-mode dropout before the classifier, or else into the
// linear conv or FC that alone feeds it.
func FoldScale(g *Graph) bool {
	for i, n := range g.Nodes {
		sc, ok := n.Op.(*Scale)
		if !ok {
			continue
		}
		// Forward: Scale -> Reshape* -> FC, each read by one node.
		v := n.Output
		for {
			c := g.soleConsumer(v)
			if c < 0 {
				break
			}
			if _, ok := g.Nodes[c].Op.(*Reshape); ok {
				v = g.Nodes[c].Output
				continue
			}
			if fc, ok := g.Nodes[c].Op.(*FC); ok {
				if sc.Factor != 1 {
					nw := NewTensor(fc.Weight.Shape...)
					for k, w := range fc.Weight.Data {
						nw.Data[k] = w * sc.Factor
					}
					fc.Weight = nw
				}
				g.bypass(i)
				return true
			}
			break
		}
		// Backward: a linear producer.
		if _, p := g.linearProducer(n); p != nil {
			out := g.Values[p.Output].Shape[0]
			scale, shift := make([]float64, out), make([]float64, out)
			for k := range scale {
				scale[k] = float64(sc.Factor)
			}
			rescale(p.Op, scale, shift)
			g.bypass(i)
			return true
		}
	}
	return false
}

// FuseActivations moves an activation into the conv or FC that alone feeds it.
func FuseActivations(g *Graph) bool {
	for i, n := range g.Nodes {
		a, ok := n.Op.(*Act)
		if !ok {
			continue
		}
		_, p := g.linearProducer(n)
		if p == nil {
			continue
		}
		switch op := p.Op.(type) {
		case *Conv2D:
			op.Act = a.Act
		case *FC:
			op.Act = a.Act
		}
		g.bypass(i)
		return true
	}
	return false
}

// RecognizeSE rewrites x -> GlobalAvgPool -> [Reshape] -> conv1x1/FC(+act)
// -> [Reshape] -> conv1x1/FC(+gate) -> [Reshape] -> Mul(x, gate) into one
// SE node. Run it after FuseActivations.
func RecognizeSE(g *Graph) bool {
	for _, m := range g.Nodes {
		if _, ok := m.Op.(*Mul); !ok {
			continue
		}
		x := m.Inputs[0]
		xs := g.Values[x].Shape
		if len(xs) != 3 {
			continue
		}
		// Walk back from the gate to the pool, collecting the chain.
		chain := []int{}
		v := m.Inputs[1]
		var lin []Op
		ok := true
		for {
			p := g.Producer(v)
			if p < 0 || g.soleConsumer(v) < 0 {
				ok = false
				break
			}
			chain = append(chain, p)
			pn := g.Nodes[p]
			if _, isPool := pn.Op.(*GlobalAvgPool); isPool {
				ok = pn.Inputs[0] == x
				break
			}
			switch pn.Op.(type) {
			case *Reshape:
			case *Conv2D, *FC:
				lin = append(lin, pn.Op)
			default:
				ok = false
			}
			if !ok || len(chain) > 6 {
				ok = false
				break
			}
			v = pn.Inputs[0]
		}
		if !ok || len(lin) != 2 {
			continue
		}
		se := &SE{C: xs[0]}
		// lin[0] is the expand (second) layer, lin[1] the reduce layer.
		var okr, oke bool
		se.W1, se.B1, se.Act, se.Reduce, okr = seLayer(lin[1], xs[0], -1)
		se.W2, se.B2, se.Gate, _, oke = seLayer(lin[0], se.Reduce, xs[0])
		if !okr || !oke || se.Reduce <= 0 {
			continue
		}
		// Replace: the Mul becomes the SE node on x; the chain goes.
		m.Op = se
		m.Inputs = []int{x}
		drop := map[int]bool{}
		for _, c := range chain {
			drop[c] = true
		}
		nodes := g.Nodes[:0]
		for k, n := range g.Nodes {
			if !drop[k] {
				nodes = append(nodes, n)
			}
		}
		g.Nodes = nodes
		return true
	}
	return false
}

// seLayer reads a 1×1 conv or FC of an SE block as a dense [out,in] matrix.
// want, when ≥ 0, is the required output count.
func seLayer(op Op, in, want int) (w, b *Tensor, act Activation, out int, ok bool) {
	switch o := op.(type) {
	case *Conv2D:
		if !o.Pointwise() || o.InC != in {
			return
		}
		w = &Tensor{Shape: []int{o.OutC, o.InC}, Data: o.Weight.Data}
		b, act, out = o.Bias, o.Act, o.OutC
	case *FC:
		if o.In != in {
			return
		}
		w, b, act, out = o.Weight, o.Bias, o.Act, o.Out
	default:
		return
	}
	if want >= 0 && out != want {
		return
	}
	return w, b, act, out, true
}
