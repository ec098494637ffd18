//go:build !amd64 || noasm

package fallback

import "github.com/lcnet-go/lcnet/graph"

// simdAvailable reports whether this build and CPU have the AVX-512
// kernels: never without amd64 or with the noasm tag.
const simdAvailable = false

// simdWidth is the GEMM panel width of the SIMD kernels (unused here).
const simdWidth = 16

func gemmSIMD(int, []float32, *packedB, []float32, graph.Activation) {
	panic("fallback: no SIMD kernels in this build")
}

func (*depthwise) runSIMD([]float32, []float32, int, []float32) {
	panic("fallback: no SIMD kernels in this build")
}

const gemmFlagAccumulate = 1

func gemmSIMDStrided(int, int, []float32, int, *packedB, int, []float32, int, int, graph.Activation) {
	panic("fallback: no SIMD kernels in this build")
}
