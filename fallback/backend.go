package fallback

// isa is a kernel set: the pure-Go kernels, or assembly for a vector
// instruction set.
type isa uint8

const (
	isaGo     isa = iota // pure Go, every platform
	isaAVX2              // amd64 AVX2 + FMA: 8-float YMM registers
	isaAVX512            // amd64 AVX-512F: 16-float ZMM registers, opmasks
)

func (i isa) String() string {
	switch i {
	case isaAVX2:
		return "avx2"
	case isaAVX512:
		return "avx512"
	}
	return "go"
}

// supported lists the kernel sets this build can run on this CPU, pure Go
// first; bestISA is the last.
var supported = detectISAs()

// bestISA is the fastest kernel set available.
var bestISA = supported[len(supported)-1]

// useISA selects, at Compile, the kernel set a Program uses: the best
// available. Tests change it to run the same tables on every set. Build
// with -tags noasm to leave the assembly out altogether.
var useISA = bestISA

// panelWidth is the GEMM panel width of each kernel set: the scalar
// micro-tile width, or one vector register.
func (i isa) panelWidth() int {
	switch i {
	case isaAVX2:
		return 8
	case isaAVX512:
		return 16
	}
	return nr
}
