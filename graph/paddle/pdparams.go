package paddle

import "github.com/lcnet-go/lcnet/graph"

func importPdparams(b []byte, opt Options) (*graph.Graph, error) {
	return nil, unsupported("not yet")
}
