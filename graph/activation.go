package graph

import (
	"fmt"
	"math"
)

// ActKind names an element-wise activation.
type ActKind uint8

// The activations PP-LCNet and its exports use.
const (
	ActNone        ActKind = iota // identity
	ActReLU                       // max(x, 0)
	ActHardSwish                  // x * clip(x/6 + 0.5, 0, 1)
	ActHardSigmoid                // clip(Slope*x + Offset, 0, 1)
	ActSigmoid                    // 1 / (1 + exp(-x))
)

// Activation is an element-wise function. Slope and Offset are used by
// ActHardSigmoid only: they are read from the model, never assumed
// (PP-LCNet uses 1/6 and 0.5, legacy Paddle defaults to 0.2 and 0.5).
type Activation struct {
	Kind          ActKind
	Slope, Offset float32
}

// Convenience values.
var (
	NoAct     = Activation{}
	ReLU      = Activation{Kind: ActReLU}
	HardSwish = Activation{Kind: ActHardSwish}
	Sigmoid   = Activation{Kind: ActSigmoid}
)

// HardSigmoid returns clip(slope*x + offset, 0, 1).
func HardSigmoid(slope, offset float32) Activation {
	return Activation{Kind: ActHardSigmoid, Slope: slope, Offset: offset}
}

// Apply evaluates the activation on one value. It is the reference
// semantics every backend must agree with.
func (a Activation) Apply(x float32) float32 {
	switch a.Kind {
	case ActReLU:
		if x < 0 {
			return 0
		}
		return x
	case ActHardSwish:
		return x * clip01(x*(1.0/6)+0.5)
	case ActHardSigmoid:
		return clip01(a.Slope*x + a.Offset)
	case ActSigmoid:
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	return x
}

func clip01(x float32) float32 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// String gives a short name such as "hardswish" or "hardsigmoid(0.1667,0.5)".
func (a Activation) String() string {
	switch a.Kind {
	case ActNone:
		return "none"
	case ActReLU:
		return "relu"
	case ActHardSwish:
		return "hardswish"
	case ActHardSigmoid:
		return fmt.Sprintf("hardsigmoid(%.4g,%.4g)", a.Slope, a.Offset)
	case ActSigmoid:
		return "sigmoid"
	}
	return fmt.Sprintf("act(%d)", a.Kind)
}
