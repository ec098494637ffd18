package lcnet

import (
	"context"

	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
)

// goBackend runs nodes on the pure-Go kernels of package fallback. It runs
// every op, so the planner falls back to it for anything the preferred
// backend declines.
type goBackend struct{}

func (goBackend) name() string { return string(Go) }

func (goBackend) supports(*graph.Graph, *graph.Node) error { return nil }

func (goBackend) compile(seg *graph.Graph) (program, error) {
	p, err := fallback.Compile(seg)
	if err != nil {
		return nil, err
	}
	return goProgram{p}, nil
}

type goProgram struct{ p *fallback.Program }

func (g goProgram) newInstance() (instance, error) { return goInstance{g.p.NewInstance()}, nil }

func (goProgram) close() error { return nil }

type goInstance struct{ i *fallback.Instance }

func (g goInstance) run(ctx context.Context, in []float32, batch int, out []float32) error {
	return g.i.RunContext(ctx, in, batch, out)
}

func (goInstance) close() error { return nil }
