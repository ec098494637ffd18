package dnn

import (
	"fmt"
	"os"
	"strings"
)

// Int8Net is a chain of convolutions to run in int8 (CompileInt8): s8
// weights quantized per output channel at compile time from the fp32
// Weight, s8 activations with per-tensor scales from calibration.
//
// A scale is quantized units per real unit: 127 / the calibrated range
// (max |x|). InScale quantizes the fp32 input; OutScales[i] requantizes
// layer i's output (after its activation). Layers are LayerConv or LayerFC
// (on a C×1×1 input) with Act none, ReLU or hardswish, run in int8, or
// LayerSE / LayerGlobalAvgPool, which run on the s8 NHWC tensor and keep
// its scale (the SE's two small convolutions in fp32; their OutScales entry
// is ignored). Input and output are fp32 NCHW.
//
// FP32, when not nil, has one entry per layer: a LayerConv or LayerFC with
// FP32[i] set runs in fp32 inside the chain (any activation), without
// leaving it: the int8 layer before it writes fp32 and the next int8 layer
// quantizes its output with OutScales[i], all in the chain's NHWC layout.
// A LayerSoftmax (over the channels) may end the chain; it runs in fp32.
type Int8Net struct {
	InC, InH, InW int
	InScale       float32
	Layers        []Layer
	OutScales     []float32
	FP32          []bool
	// NoTuning takes oneDNN's first implementation of each convolution
	// instead of timing the candidates when compiling (faster compiles,
	// e.g. for accuracy searches; kernels maybe slower).
	NoTuning bool
}

func (n *Int8Net) fp32(i int) bool { return n.FP32 != nil && n.FP32[i] }

// EnvNoVNNI, when set to a non-empty value other than "0", makes
// Int8Supported report false, as on a CPU without VNNI (tests, comparisons).
const EnvNoVNNI = "LCNET_NO_VNNI"

// Int8Supported reports whether int8 inference is worth running: the
// package has oneDNN and its JIT targets a CPU with VNNI (avx512_core_vnni,
// avx512_core_bf16, avx512_core_amx or avx2_vnni). When it is false, why
// says so in one line.
func Int8Supported() (ok bool, why string) {
	if !Available() {
		return false, "built without oneDNN"
	}
	if v := os.Getenv(EnvNoVNNI); v != "" && v != "0" {
		return false, EnvNoVNNI + " is set"
	}
	isa := ISA()
	for _, s := range []string{"avx512_core_vnni", "avx512_core_bf16", "avx512_core_amx", "avx2_vnni"} {
		if strings.HasPrefix(isa, s) {
			return true, ""
		}
	}
	return false, "CPU without VNNI (oneDNN ISA " + isa + ")"
}

func validateInt8(net *Int8Net, opt Options) (*validated, error) {
	if net == nil {
		return nil, &NetError{Layer: -1, Msg: "nil Int8Net"}
	}
	if !(net.InScale > 0) || !finite(net.InScale) {
		return nil, &NetError{Layer: -1, Msg: fmt.Sprintf("InScale = %v, want > 0", net.InScale)}
	}
	if len(net.OutScales) != len(net.Layers) {
		return nil, &NetError{Layer: -1, Msg: fmt.Sprintf("%d OutScales for %d layers", len(net.OutScales), len(net.Layers))}
	}
	if net.FP32 != nil && len(net.FP32) != len(net.Layers) {
		return nil, &NetError{Layer: -1, Msg: fmt.Sprintf("%d FP32 flags for %d layers", len(net.FP32), len(net.Layers))}
	}
	for i, l := range net.Layers {
		switch l.Kind {
		case LayerConv, LayerFC:
		case LayerSE, LayerGlobalAvgPool, LayerSoftmax:
			if net.fp32(i) {
				return nil, &NetError{Layer: i, Name: l.Name, Msg: "int8: FP32 is for conv and fc layers"}
			}
			continue
		default:
			return nil, &NetError{Layer: i, Name: l.Name, Msg: "int8: no int8 kernel for " + l.Kind.String()}
		}
		switch l.Act.Kind {
		case ActNone, ActReLU, ActHardSwish:
		default:
			if !net.fp32(i) {
				return nil, &NetError{Layer: i, Name: l.Name, Msg: "int8: activation " + l.Act.Kind.String()}
			}
		}
		if s := net.OutScales[i]; !(s > 0) || !finite(s) {
			return nil, &NetError{Layer: i, Name: l.Name, Msg: fmt.Sprintf("int8: output scale %v", s)}
		}
	}
	return validate(&Net{InC: net.InC, InH: net.InH, InW: net.InW, Layers: net.Layers}, opt)
}
