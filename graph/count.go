package graph

// Counts are a graph's size and cost for one sample.
type Counts struct {
	// Params counts the trainable constants as Paddle and the paper do:
	// conv and FC weights and biases, batch-norm scale and shift (not its
	// running mean and variance).
	Params int64
	// MACs counts the multiply-accumulates of convolutions and fully
	// connected layers.
	MACs int64
	// FLOPs follows Paddle's paddle.flops rule, the one behind the paper's
	// FLOPs column: convs count output×(kernel MACs + 1 if biased), FC
	// in×out, batch norm 2 per element, adaptive average pooling
	// (window+1) per output, activations and element-wise ops 0.
	FLOPs int64
}

// Count computes Counts on g as it stands (count before Optimize for the
// paper's numbers: folding removes batch-norm parameters and FLOPs).
func Count(g *Graph) Counts {
	var c Counts
	for _, n := range g.Nodes {
		for _, p := range n.Op.Params() {
			if p.Suffix != "_mean" && p.Suffix != "_variance" {
				c.Params += int64(p.T.Len())
			}
		}
		out := int64(Numel(g.Values[n.Output].Shape))
		switch op := n.Op.(type) {
		case *Conv2D:
			k := int64(op.KH * op.KW * op.InC / op.Groups)
			c.MACs += out * k
			if op.Bias != nil {
				k++
			}
			c.FLOPs += out * k
		case *FC:
			c.MACs += int64(op.In * op.Out)
			c.FLOPs += int64(op.In * op.Out)
		case *BatchNorm:
			c.FLOPs += 2 * out
		case *GlobalAvgPool:
			in := g.Values[n.Inputs[0]].Shape
			c.FLOPs += out * int64(in[1]*in[2]+1)
		case *SE:
			in := g.Values[n.Inputs[0]].Shape
			r := int64(op.Reduce)
			c.MACs += 2 * int64(op.C) * r
			c.FLOPs += int64(op.C)*int64(in[1]*in[2]+1) + 2*int64(op.C)*r + r + int64(op.C)
		}
	}
	return c
}
