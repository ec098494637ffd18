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
type Int8Net struct {
	InC, InH, InW int
	InScale       float32
	Layers        []Layer
	OutScales     []float32
}

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
	for i, l := range net.Layers {
		switch l.Kind {
		case LayerConv, LayerFC:
		case LayerSE, LayerGlobalAvgPool:
			continue
		default:
			return nil, &NetError{Layer: i, Name: l.Name, Msg: "int8: no int8 kernel for " + l.Kind.String()}
		}
		switch l.Act.Kind {
		case ActNone, ActReLU, ActHardSwish:
		default:
			return nil, &NetError{Layer: i, Name: l.Name, Msg: "int8: activation " + l.Act.Kind.String()}
		}
		if s := net.OutScales[i]; !(s > 0) || !finite(s) {
			return nil, &NetError{Layer: i, Name: l.Name, Msg: fmt.Sprintf("int8: output scale %v", s)}
		}
	}
	return validate(&Net{InC: net.InC, InH: net.InH, InW: net.InW, Layers: net.Layers}, opt)
}
