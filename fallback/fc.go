package fallback

import "github.com/lcnet-go/lcnet/graph"

// fcKernel is a fully connected layer: a GEMM with one row per sample (a
// GEMV at batch 1, streaming the packed weights once).
type fcKernel struct {
	b   *packedB
	act graph.Activation
}

func newFC(f *graph.FC) *fcKernel {
	var bias []float32
	if f.Bias != nil {
		bias = f.Bias.Data
	}
	return &fcKernel{b: packB(f.Weight.Data, f.Out, f.In, bias, useISA), act: f.Act}
}

func (k *fcKernel) run(y, x, _ []float32, batch int, _ []float32) {
	gemm(batch, x, k.b, y, k.act)
}
func (*fcKernel) scratch() int  { return 0 }
func (*fcKernel) inPlace() bool { return false }
