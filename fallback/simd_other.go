//go:build !amd64 || noasm

package fallback

import "github.com/lcnet-go/lcnet/graph"

// Without amd64 or with the noasm tag only the pure-Go kernels exist.

func detectISAs() []isa { return []isa{isaGo} }

const gemmFlagAccumulate = 1

func gemmSIMD(int, []float32, *packedB, []float32, graph.Activation) {
	panic("fallback: no SIMD kernels in this build")
}

func gemmSIMDStrided(int, int, []float32, int, *packedB, int, []float32, int, int, graph.Activation) {
	panic("fallback: no SIMD kernels in this build")
}

func (*depthwise) runSIMD([]float32, []float32, int, []float32) {
	panic("fallback: no SIMD kernels in this build")
}
