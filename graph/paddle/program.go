package paddle

import "github.com/lcnet-go/lcnet/graph"

func importProgram(prog, blob []byte, opt Options) (*graph.Graph, error) {
	return nil, unsupported("not yet")
}

func importPdparams(b []byte, opt Options) (*graph.Graph, error) {
	return nil, unsupported("not yet")
}
