package safetensors

import (
	"fmt"
	"io"
	"math"

	"github.com/lcnet-go/lcnet/graph"
)

// unit is one conv of the network with what follows it.
type unit struct {
	conv *graph.Conv2D
	bn   *graph.BatchNorm
	act  graph.Activation
	se   *graph.SE
}

// Write writes the weights of a PP-LCNet graph in timm's safetensors
// layout. The graph may come from any source and be optimized or not: it is
// matched by structure (stem conv, 13 depthwise-separable blocks with
// optional SE, head conv, FC), not by names. Folded batch norms are written
// as identity batch norms carrying the conv bias; PaddleClas's inference
// dropout (a Scale before the FC) is folded into classifier.weight, and a
// head conv without bias gets a zero conv_head.bias, as formats.md's
// Paddle-to-timm recipe says. A trailing softmax is dropped (timm outputs
// logits). Activations other than hardswish (and ReLU/hardsigmoid(1/6, 0.5)
// in SE) cannot be expressed and are rejected.
func Write(g *graph.Graph, w io.Writer) error {
	sd, err := timmStateDict(g)
	if err != nil {
		return err
	}
	if err := writeTensors(w, sd, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

func notLCNet(format string, args ...any) error {
	return fmt.Errorf("safetensors: %w: graph is not a PP-LCNet in timm's layout: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// normalize returns a copy with identities gone, activations fused into
// convs where no batch norm sits between, and SE subgraphs recognised.
func normalize(g *graph.Graph) (*graph.Graph, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	c := g.Clone()
	for _, pass := range []func(*graph.Graph) bool{graph.RemoveIdentities, graph.FuseActivations, graph.RecognizeSE} {
		for pass(c) {
		}
	}
	return c, nil
}

func timmStateDict(g *graph.Graph) (map[string]*graph.Tensor, error) {
	c, err := normalize(g)
	if err != nil {
		return nil, err
	}
	var units []*unit
	var fc *graph.FC
	dropout := float32(1)
	cur := func() *unit {
		if len(units) == 0 {
			return nil
		}
		return units[len(units)-1]
	}
	for _, n := range c.Nodes {
		u := cur()
		if fc != nil {
			if _, ok := n.Op.(*graph.Softmax); ok {
				continue
			}
			return nil, notLCNet("%s after the classifier", n.Op.Type())
		}
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			units = append(units, &unit{conv: op, act: op.Act})
		case *graph.BatchNorm:
			if u == nil || u.bn != nil || u.act.Kind != graph.ActNone {
				return nil, notLCNet("batch norm %q does not follow a conv", n.Name)
			}
			u.bn = op
		case *graph.BiasAdd:
			if u == nil || u.bn != nil || u.act.Kind != graph.ActNone {
				return nil, notLCNet("bias add %q does not follow a conv", n.Name)
			}
			nc := *u.conv
			nc.Bias = graph.NewTensor(nc.OutC)
			for k := range nc.Bias.Data {
				nc.Bias.Data[k] = op.Bias.Data[k]
				if u.conv.Bias != nil {
					nc.Bias.Data[k] += u.conv.Bias.Data[k]
				}
			}
			u.conv = &nc
		case *graph.Act:
			if u == nil || u.act.Kind != graph.ActNone {
				return nil, notLCNet("activation %q does not follow a conv", n.Name)
			}
			u.act = op.Act
		case *graph.SE:
			if u == nil || u.se != nil || !u.conv.Depthwise() {
				return nil, notLCNet("squeeze-excite %q does not follow a depthwise conv", n.Name)
			}
			if op.Act.Kind != graph.ActReLU || op.Gate.Kind != graph.ActHardSigmoid ||
				math.Abs(float64(op.Gate.Slope)-1.0/6) > 1e-6 || math.Abs(float64(op.Gate.Offset)-0.5) > 1e-6 {
				return nil, notLCNet("squeeze-excite %q uses %v/%v, timm uses relu/hardsigmoid(1/6, 0.5)", n.Name, op.Act, op.Gate)
			}
			u.se = op
		case *graph.Scale:
			dropout *= op.Factor
		case *graph.GlobalAvgPool, *graph.Reshape:
		case *graph.FC:
			if op.Act.Kind != graph.ActNone {
				return nil, notLCNet("classifier has activation %v", op.Act)
			}
			fc = op
		default:
			return nil, notLCNet("unexpected %s node %q", n.Op.Type(), n.Name)
		}
	}
	tn, _ := blockNames()
	if fc == nil || len(units) != 2+2*len(tn) {
		return nil, notLCNet("%d convs (want %d) and classifier %v", len(units), 2+2*len(tn), fc != nil)
	}
	sd := map[string]*graph.Tensor{}
	put := func(prefix, bnName string, u *unit, wantDW bool) error {
		if u.conv.Depthwise() != wantDW || u.act.Kind != graph.ActHardSwish {
			return notLCNet("%s: depthwise %v, activation %v", prefix, u.conv.Depthwise(), u.act)
		}
		sd[prefix+".weight"] = u.conv.Weight
		writeBN(sd, bnName, u)
		return nil
	}
	if err := put("conv_stem", "bn1", units[0], false); err != nil {
		return nil, err
	}
	for i, t := range tn {
		dw, pw := units[1+2*i], units[2+2*i]
		if err := put(t+".conv_dw", t+".bn1", dw, true); err != nil {
			return nil, err
		}
		if err := put(t+".conv_pw", t+".bn2", pw, false); err != nil {
			return nil, err
		}
		if pw.se != nil {
			return nil, notLCNet("%s: squeeze-excite after the pointwise conv", t)
		}
		if s := dw.se; s != nil {
			sd[t+".se.conv_reduce.weight"] = &graph.Tensor{Shape: []int{s.Reduce, s.C, 1, 1}, Data: s.W1.Data}
			sd[t+".se.conv_reduce.bias"] = orZeros(s.B1, s.Reduce)
			sd[t+".se.conv_expand.weight"] = &graph.Tensor{Shape: []int{s.C, s.Reduce, 1, 1}, Data: s.W2.Data}
			sd[t+".se.conv_expand.bias"] = orZeros(s.B2, s.C)
		}
	}
	head := units[len(units)-1]
	if head.bn != nil || !head.conv.Pointwise() || head.act.Kind != graph.ActHardSwish || head.se != nil {
		return nil, notLCNet("head conv with batch norm %v, activation %v", head.bn != nil, head.act)
	}
	sd["conv_head.weight"] = head.conv.Weight
	sd["conv_head.bias"] = orZeros(head.conv.Bias, head.conv.OutC)
	cw := fc.Weight
	if dropout != 1 {
		cw = cw.Clone()
		for k := range cw.Data {
			cw.Data[k] *= dropout
		}
	}
	sd["classifier.weight"] = cw
	sd["classifier.bias"] = orZeros(fc.Bias, fc.Out)
	return sd, nil
}

func orZeros(t *graph.Tensor, n int) *graph.Tensor {
	if t != nil {
		return &graph.Tensor{Shape: []int{n}, Data: t.Data}
	}
	return graph.NewTensor(n)
}

// writeBN stores a unit's batch norm; a conv bias (or a folded batch norm)
// goes into the batch norm: BN(x + b) has mean - b.
func writeBN(sd map[string]*graph.Tensor, name string, u *unit) {
	c := u.conv.OutC
	bn := u.bn
	if bn == nil {
		// Identity: weight 1, var 1 - eps so that sqrt(var + eps) = 1.
		bn = &graph.BatchNorm{Scale: graph.NewTensor(c), Shift: graph.NewTensor(c), Mean: graph.NewTensor(c), Var: graph.NewTensor(c), Eps: 1e-5}
		for k := range c {
			bn.Scale.Data[k], bn.Var.Data[k] = 1, 1-1e-5
		}
	} else if bn.Eps != 1e-5 {
		// timm's eps is 1e-5: move the difference into the variance.
		v := bn.Var.Clone()
		for k := range v.Data {
			v.Data[k] += bn.Eps - 1e-5
		}
		nb := *bn
		nb.Var = v
		bn = &nb
	}
	mean := bn.Mean
	if u.conv.Bias != nil {
		mean = bn.Mean.Clone()
		for k := range mean.Data {
			mean.Data[k] -= u.conv.Bias.Data[k]
		}
	}
	sd[name+".weight"] = &graph.Tensor{Shape: []int{c}, Data: bn.Scale.Data}
	sd[name+".bias"] = &graph.Tensor{Shape: []int{c}, Data: bn.Shift.Data}
	sd[name+".running_mean"] = &graph.Tensor{Shape: []int{c}, Data: mean.Data}
	sd[name+".running_var"] = &graph.Tensor{Shape: []int{c}, Data: bn.Var.Data}
}
