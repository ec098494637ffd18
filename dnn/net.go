package dnn

import (
	"errors"
	"fmt"
	"math"
)

// ActKind selects an activation function.
type ActKind int

// Activation kinds.
const (
	ActNone        ActKind = iota // identity
	ActReLU                       // max(x, 0)
	ActHardSwish                  // x * clip(x/6 + 0.5, 0, 1)
	ActHardSigmoid                // clip(Alpha*x + Beta, 0, 1)
	ActSigmoid                    // 1 / (1 + exp(-x))
)

// String returns the activation's name, e.g. "hardswish".
func (k ActKind) String() string {
	switch k {
	case ActNone:
		return "none"
	case ActReLU:
		return "relu"
	case ActHardSwish:
		return "hardswish"
	case ActHardSigmoid:
		return "hardsigmoid"
	case ActSigmoid:
		return "sigmoid"
	}
	return fmt.Sprintf("ActKind(%d)", int(k))
}

// Act is an activation. Alpha and Beta are used by ActHardSigmoid only
// (slope and offset, read from the model: PP-LCNet uses 1/6 and 0.5, legacy
// Paddle 0.2 and 0.5).
type Act struct {
	Kind        ActKind
	Alpha, Beta float32
}

// LayerKind selects what a Layer computes.
type LayerKind int

// Layer kinds. The zero value is invalid.
const (
	// LayerConv is a grouped 2-D convolution + optional bias + Act.
	LayerConv LayerKind = iota + 1
	// LayerSE is squeeze-excite on a C×H×W tensor: global average pool,
	// 1x1 conv C->SEReduce (W1, B1), ReLU, 1x1 conv SEReduce->C (W2, B2),
	// Gate, then the input multiplied channel-wise by the result.
	LayerSE
	// LayerGlobalAvgPool averages each channel: C×H×W -> C×1×1.
	LayerGlobalAvgPool
	// LayerFC is fully connected: the C×H×W input flattened in CHW order
	// (InC values) -> OutC×1×1, + optional bias + Act.
	LayerFC
	// LayerSoftmax is a softmax over the channels, at each position.
	LayerSoftmax
	// LayerScale multiplies by Factor (e.g. dropout at inference).
	LayerScale
	// LayerActivation applies Act on its own.
	LayerActivation
)

// String returns the layer kind's name, e.g. "conv".
func (k LayerKind) String() string {
	switch k {
	case LayerConv:
		return "conv"
	case LayerSE:
		return "se"
	case LayerGlobalAvgPool:
		return "gap"
	case LayerFC:
		return "fc"
	case LayerSoftmax:
		return "softmax"
	case LayerScale:
		return "scale"
	case LayerActivation:
		return "activation"
	}
	return fmt.Sprintf("LayerKind(%d)", int(k))
}

// Layer is one layer of a chain. Only the fields of its Kind are read.
// Shapes are per sample, NCHW logical order.
//
// InC may be 0: it is then the channel count of the layer's input (for
// LayerFC, C*H*W). StrideH, StrideW and Groups may be 0, meaning 1.
// A LayerActivation or LayerScale right after a LayerConv or LayerFC is
// fused into it as a post-op.
type Layer struct {
	Kind LayerKind
	Name string // used in error messages and LayerImpls

	// LayerConv: input InC×H×W, output OutC×OH×OW with
	// OH = (H+PadTop+PadBottom-KH)/StrideH + 1 (likewise OW).
	// Weight is OIHW: [OutC][InC/Groups][KH][KW]; Bias is [OutC] or nil.
	// LayerFC: Weight is [OutC][InC] (PyTorch layout), Bias [OutC] or nil.
	InC, OutC, KH, KW, StrideH, StrideW          int
	PadTop, PadLeft, PadBottom, PadRight, Groups int
	Weight, Bias                                 []float32
	Act                                          Act // LayerConv, LayerFC, LayerActivation

	// LayerSE: W1 is [SEReduce][C], B1 [SEReduce] or nil, W2 [C][SEReduce],
	// B2 [C] or nil; Gate is usually ActHardSigmoid.
	SEReduce       int
	W1, B1, W2, B2 []float32
	Gate           Act

	// LayerScale: the constant factor.
	Factor float32
}

// Net is a chain of layers: each consumes the previous layer's output; the
// first consumes the input, InC×InH×InW per sample.
type Net struct {
	InC, InH, InW int
	Layers        []Layer
}

// Options configure Compile.
type Options struct {
	// Threads is the number of OpenMP threads each inference uses
	// (intra-op). 0 means 1, the safe default: for throughput run one
	// single-threaded Instance per core.
	Threads int
}

// Errors. Errors returned by this package wrap one of these (errors.Is).
var (
	// ErrUnavailable: the package was built without oneDNN.
	ErrUnavailable = errors.New("dnn: built without oneDNN (purego or CGO_ENABLED=0)")
	// ErrInvalidNet: a Net or Options failed validation (see *NetError).
	ErrInvalidNet = errors.New("dnn: invalid network")
	// ErrInvalidInput: bad arguments to Run (lengths, batch).
	ErrInvalidInput = errors.New("dnn: invalid input")
	// ErrClosed: use of a closed Plan or Instance.
	ErrClosed = errors.New("dnn: closed")
	// ErrDNNL: oneDNN reported a failure (see *DNNLError).
	ErrDNNL = errors.New("dnn: onednn failure")
	// ErrVersion: the oneDNN library loaded is not the one built against.
	ErrVersion = errors.New("dnn: onednn version mismatch")
)

// NetError reports an invalid layer (Layer >= 0) or net (Layer == -1).
type NetError struct {
	Layer int
	Name  string
	Msg   string
}

// Error formats the error as "dnn: invalid network: layer i \"name\": msg".
func (e *NetError) Error() string {
	if e.Layer < 0 {
		return "dnn: invalid network: " + e.Msg
	}
	return fmt.Sprintf("dnn: invalid network: layer %d %q: %s", e.Layer, e.Name, e.Msg)
}

// Unwrap returns ErrInvalidNet.
func (e *NetError) Unwrap() error { return ErrInvalidNet }

// DNNLError reports a oneDNN failure while building or running a layer.
type DNNLError struct {
	Layer  int    // layer index, -1 when not tied to a layer
	Name   string // layer name
	Op     string // what failed, e.g. "convolution primitive_desc_create"
	Status string // oneDNN status name, e.g. "unimplemented"
}

// Error formats the error as "dnn: onednn: layer i \"name\": op: status".
func (e *DNNLError) Error() string {
	if e.Layer < 0 {
		return fmt.Sprintf("dnn: onednn: %s: %s", e.Op, e.Status)
	}
	return fmt.Sprintf("dnn: onednn: layer %d %q: %s: %s", e.Layer, e.Name, e.Op, e.Status)
}

// Unwrap returns ErrDNNL.
func (e *DNNLError) Unwrap() error { return ErrDNNL }

// shape is a per-sample C×H×W shape.
type shape struct{ c, h, w int }

// validated is a Net after validation: defaults filled in, shapes known.
type validated struct {
	layers []Layer // copies with InC, strides and groups filled in
	in     shape
	out    shape
	thr    int
}

const maxDim = 1 << 24

func validAct(a Act) error {
	switch a.Kind {
	case ActNone, ActReLU, ActHardSwish, ActSigmoid:
		return nil
	case ActHardSigmoid:
		if a.Alpha == 0 || !finite(a.Alpha) || !finite(a.Beta) {
			return fmt.Errorf("hardsigmoid needs a finite non-zero Alpha (slope), got %v, %v", a.Alpha, a.Beta)
		}
		return nil
	}
	return fmt.Errorf("unknown activation kind %d", int(a.Kind))
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

func wantLen(what string, got []float32, n int, optional bool) error {
	if optional && len(got) == 0 {
		return nil
	}
	if len(got) != n {
		return fmt.Errorf("len(%s) = %d, want %d", what, len(got), n)
	}
	return nil
}

func or1(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// validate checks net and opt and infers every layer's shape.
func validate(net *Net, opt Options) (*validated, error) {
	if net == nil {
		return nil, &NetError{Layer: -1, Msg: "nil Net"}
	}
	if opt.Threads < 0 || opt.Threads > 1024 {
		return nil, &NetError{Layer: -1, Msg: fmt.Sprintf("Options.Threads = %d, want 0..1024", opt.Threads)}
	}
	if net.InC <= 0 || net.InH <= 0 || net.InW <= 0 || net.InC > maxDim || net.InH > maxDim || net.InW > maxDim {
		return nil, &NetError{Layer: -1, Msg: fmt.Sprintf("input shape %dx%dx%d", net.InC, net.InH, net.InW)}
	}
	if len(net.Layers) == 0 {
		return nil, &NetError{Layer: -1, Msg: "no layers"}
	}
	v := &validated{in: shape{net.InC, net.InH, net.InW}, thr: or1(opt.Threads)}
	cur := v.in
	for i, l := range net.Layers {
		bad := func(format string, a ...any) error {
			return &NetError{Layer: i, Name: l.Name, Msg: l.Kind.String() + ": " + fmt.Sprintf(format, a...)}
		}
		var err error
		next := cur
		switch l.Kind {
		case LayerConv:
			if l.InC == 0 {
				l.InC = cur.c
			}
			l.StrideH, l.StrideW, l.Groups = or1(l.StrideH), or1(l.StrideW), or1(l.Groups)
			switch {
			case l.InC != cur.c:
				return nil, bad("InC = %d, but the input has %d channels", l.InC, cur.c)
			case l.OutC <= 0 || l.OutC > maxDim || l.KH <= 0 || l.KW <= 0 || l.KH > maxDim || l.KW > maxDim:
				return nil, bad("OutC, KH, KW must be positive (got %d, %d, %d)", l.OutC, l.KH, l.KW)
			case l.StrideH < 0 || l.StrideW < 0 || l.Groups < 0:
				return nil, bad("negative stride or groups")
			case l.PadTop < 0 || l.PadLeft < 0 || l.PadBottom < 0 || l.PadRight < 0:
				return nil, bad("negative padding")
			case l.PadTop > maxDim || l.PadLeft > maxDim || l.PadBottom > maxDim || l.PadRight > maxDim:
				return nil, bad("padding too large")
			case l.InC%l.Groups != 0 || l.OutC%l.Groups != 0:
				return nil, bad("channels %d -> %d not divisible by Groups = %d", l.InC, l.OutC, l.Groups)
			}
			eh, ew := cur.h+l.PadTop+l.PadBottom-l.KH, cur.w+l.PadLeft+l.PadRight-l.KW
			if eh < 0 || ew < 0 {
				return nil, bad("kernel %dx%d larger than the padded input %dx%d", l.KH, l.KW, cur.h+l.PadTop+l.PadBottom, cur.w+l.PadLeft+l.PadRight)
			}
			next = shape{l.OutC, eh/l.StrideH + 1, ew/l.StrideW + 1}
			if err = validAct(l.Act); err == nil {
				if err = wantLen("Weight", l.Weight, l.OutC*(l.InC/l.Groups)*l.KH*l.KW, false); err == nil {
					err = wantLen("Bias", l.Bias, l.OutC, true)
				}
			}
		case LayerFC:
			in := cur.c * cur.h * cur.w
			if l.InC == 0 {
				l.InC = in
			}
			switch {
			case l.InC != in:
				return nil, bad("InC = %d, but the input has %d values (%dx%dx%d)", l.InC, in, cur.c, cur.h, cur.w)
			case l.OutC <= 0 || l.OutC > maxDim:
				return nil, bad("OutC = %d, want > 0", l.OutC)
			}
			next = shape{l.OutC, 1, 1}
			if err = validAct(l.Act); err == nil {
				if err = wantLen("Weight", l.Weight, l.OutC*l.InC, false); err == nil {
					err = wantLen("Bias", l.Bias, l.OutC, true)
				}
			}
		case LayerSE:
			if l.InC == 0 {
				l.InC = cur.c
			}
			switch {
			case l.InC != cur.c:
				return nil, bad("InC = %d, but the input has %d channels", l.InC, cur.c)
			case l.SEReduce <= 0 || l.SEReduce > maxDim:
				return nil, bad("SEReduce = %d, want > 0", l.SEReduce)
			}
			c, r := l.InC, l.SEReduce
			if err = validAct(l.Gate); err == nil {
				if err = wantLen("W1", l.W1, r*c, false); err == nil {
					if err = wantLen("B1", l.B1, r, true); err == nil {
						if err = wantLen("W2", l.W2, c*r, false); err == nil {
							err = wantLen("B2", l.B2, c, true)
						}
					}
				}
			}
		case LayerGlobalAvgPool:
			next = shape{cur.c, 1, 1}
		case LayerSoftmax:
		case LayerScale:
			if !finite(l.Factor) {
				err = fmt.Errorf("Factor = %v", l.Factor)
			}
		case LayerActivation:
			err = validAct(l.Act)
		default:
			return nil, bad("unknown layer kind")
		}
		if err != nil {
			return nil, bad("%v", err)
		}
		if int64(next.c)*int64(next.h)*int64(next.w) > 1<<31 {
			return nil, bad("output %dx%dx%d too large", next.c, next.h, next.w)
		}
		v.layers = append(v.layers, l)
		cur = next
	}
	v.out = cur
	return v, nil
}
