package dnn

import "time"

// StepTime is the time one step of the compiled network took, summed over
// the profiled runs (see SetProfiling).
type StepTime struct {
	// Layer is the index of the layer in the Net the step belongs to
	// (a reorder before a layer belongs to that layer); -1 for the input
	// and output copies.
	Layer int
	// What runs: a oneDNN primitive's "tag=implementation", or the name of
	// one of the engine's own kernels ("lcn_dwpw:avx512", "lcn_stem:avx512").
	What string
	// Total is the time summed over Runs runs.
	Total time.Duration
	Runs  int
}
