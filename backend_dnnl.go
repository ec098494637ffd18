package lcnet

import (
	"context"
	"errors"
	"fmt"

	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/graph"
)

// dnnlBackend runs chains of convolutions, squeeze-excite blocks, pooling,
// FC and softmax on oneDNN, one cgo call per inference per segment.
type dnnlBackend struct{ threads int }

func newDNNLBackend(threads int) (backend, error) {
	if !dnn.Available() {
		return nil, dnn.ErrUnavailable
	}
	return dnnlBackend{threads: threads}, nil
}

func (dnnlBackend) name() string { return string(DNNL) }

// supports accepts the ops oneDNN runs as layers of a chain. Reshape is
// accepted only where it moves no data (a [C,1,1] <-> [C] view), since
// oneDNN keeps activations channels-last.
func (dnnlBackend) supports(g *graph.Graph, n *graph.Node) error {
	switch op := n.Op.(type) {
	case *graph.Conv2D, *graph.SE, *graph.GlobalAvgPool, *graph.FC, *graph.Softmax, *graph.Scale:
		return nil
	case *graph.Act:
		return nil
	case *graph.Reshape:
		in := g.Values[n.Inputs[0]].Shape
		if flatView(in) && flatView(op.Shape) {
			return nil
		}
		return fmt.Errorf("reshape %v -> %v moves data in channels-last layout", in, op.Shape)
	}
	return fmt.Errorf("op %s has no oneDNN mapping", n.Op.Type())
}

// flatView reports whether a shape is a plain vector of channels: [C],
// [C,1,1] or [-1].
func flatView(s []int) bool {
	for i, d := range s {
		if i > 0 && d != 1 {
			return false
		}
	}
	return len(s) >= 1
}

func toDNNAct(a graph.Activation) dnn.Act {
	switch a.Kind {
	case graph.ActReLU:
		return dnn.Act{Kind: dnn.ActReLU}
	case graph.ActHardSwish:
		return dnn.Act{Kind: dnn.ActHardSwish}
	case graph.ActHardSigmoid:
		return dnn.Act{Kind: dnn.ActHardSigmoid, Alpha: a.Slope, Beta: a.Offset}
	case graph.ActSigmoid:
		return dnn.Act{Kind: dnn.ActSigmoid}
	}
	return dnn.Act{Kind: dnn.ActNone}
}

func data(t *graph.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Data
}

// compile maps a segment, which must be a chain, to a dnn.Net.
func (b dnnlBackend) compile(seg *graph.Graph) (program, error) {
	in := seg.InputShape()
	net := &dnn.Net{}
	switch len(in) {
	case 3:
		net.InC, net.InH, net.InW = in[0], in[1], in[2]
	case 1:
		net.InC, net.InH, net.InW = in[0], 1, 1
	default:
		return nil, fmt.Errorf("input shape %v is not [C,H,W]", in)
	}
	prev := seg.Input
	for _, n := range seg.Nodes {
		if len(n.Inputs) != 1 || n.Inputs[0] != prev {
			return nil, fmt.Errorf("node %q: segment is not a chain", n.Name)
		}
		prev = n.Output
		l := dnn.Layer{Name: n.Name}
		switch op := n.Op.(type) {
		case *graph.Conv2D:
			dh, dw := op.Dilation()
			if dh != 1 || dw != 1 {
				return nil, fmt.Errorf("node %q: dilated convolution", n.Name)
			}
			l.Kind = dnn.LayerConv
			l.InC, l.OutC, l.KH, l.KW = op.InC, op.OutC, op.KH, op.KW
			l.StrideH, l.StrideW = op.StrideH, op.StrideW
			l.PadTop, l.PadLeft, l.PadBottom, l.PadRight = op.PadT, op.PadL, op.PadB, op.PadR
			l.Groups = op.Groups
			l.Weight, l.Bias, l.Act = op.Weight.Data, data(op.Bias), toDNNAct(op.Act)
		case *graph.SE:
			l.Kind = dnn.LayerSE
			l.InC, l.SEReduce = op.C, op.Reduce
			l.W1, l.B1, l.W2, l.B2 = op.W1.Data, data(op.B1), op.W2.Data, data(op.B2)
			if op.Act.Kind != graph.ActReLU {
				return nil, fmt.Errorf("node %q: squeeze-excite inner activation %v", n.Name, op.Act)
			}
			l.Gate = toDNNAct(op.Gate)
		case *graph.GlobalAvgPool:
			l.Kind = dnn.LayerGlobalAvgPool
		case *graph.FC:
			l.Kind = dnn.LayerFC
			l.InC, l.OutC = op.In, op.Out
			l.Weight, l.Bias, l.Act = op.Weight.Data, data(op.Bias), toDNNAct(op.Act)
		case *graph.Softmax:
			l.Kind = dnn.LayerSoftmax
		case *graph.Scale:
			l.Kind, l.Factor = dnn.LayerScale, op.Factor
		case *graph.Act:
			l.Kind, l.Act = dnn.LayerActivation, toDNNAct(op.Act)
		case *graph.Reshape:
			continue // a view: supports() admitted only [C,1,1] <-> [C]
		default:
			return nil, fmt.Errorf("node %q: op %s has no oneDNN mapping", n.Name, n.Op.Type())
		}
		net.Layers = append(net.Layers, l)
	}
	p, err := dnn.Compile(net, dnn.Options{Threads: b.threads})
	if err != nil {
		var ne *dnn.NetError
		var de *dnn.DNNLError
		switch {
		case errors.As(err, &ne) && ne.Name != "":
			return nil, &nodeError{node: ne.Name, err: err}
		case errors.As(err, &de) && de.Name != "":
			return nil, &nodeError{node: de.Name, err: err}
		}
		return nil, err
	}
	impls := map[string]string{}
	names := make([]string, len(net.Layers))
	for i, s := range p.LayerImpls() {
		if i < len(net.Layers) {
			impls[net.Layers[i].Name] = s
		}
	}
	for i, l := range net.Layers {
		names[i] = l.Name
	}
	return dnnProgram{p, impls, names, b.threads}, nil
}

type dnnProgram struct {
	p     *dnn.Plan
	impls map[string]string // node name -> oneDNN implementation
	names []string          // node name of each layer of the dnn.Net
	thr   int
}

func (d dnnProgram) implOf(node string) string { return d.impls[node] }

func (d dnnProgram) newInstance() (instance, error) { return d.newInstanceOn(nil) }

func (d dnnProgram) newInstanceOn(w *dnn.Worker) (instance, error) {
	i, err := d.p.NewInstanceOn(w)
	if err != nil {
		return nil, err
	}
	return dnnInstance{i, d.names}, nil
}

func (d dnnProgram) threads() int { return d.thr }

func (d dnnProgram) close() error { return d.p.Close() }

type dnnInstance struct {
	i     *dnn.Instance
	names []string
}

func (d dnnInstance) setProfiling(on bool) error                { return d.i.SetProfiling(on) }
func (d dnnInstance) profile(batch int) ([]dnn.StepTime, error) { return d.i.Profile(batch) }
func (d dnnInstance) layerNames() []string                      { return d.names }

func (d dnnInstance) run(_ context.Context, in []float32, batch int, out []float32) error {
	return d.i.Run(in, batch, out)
}

func (d dnnInstance) close() error { return d.i.Close() }
