package graph

import (
	"errors"
	"fmt"
)

// Op is what a node computes. Shapes are per sample: the batch dimension is
// implicit and the same for every value of a graph, so a [C,H,W] value holds
// N×C×H×W floats at run time, in NCHW order.
type Op interface {
	// Type is the op's name, e.g. "conv2d".
	Type() string
	// InferShape returns the output shape for the given input shapes.
	InferShape(in [][]int) ([]int, error)
	// Params lists the op's constants with their state-dict suffixes
	// ("weight", "bias", "_mean", ...). Nil tensors are left out.
	Params() []Param
}

// Param is a named constant of an op. The full state-dict name is the
// node's name, a dot, and Suffix.
type Param struct {
	Suffix string
	T      *Tensor
}

// ErrShape is wrapped by every shape-inference error.
var ErrShape = errors.New("shape mismatch")

func shapeErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrShape}, args...)...)
}

func wantInputs(in [][]int, n int) error {
	if len(in) != n {
		return shapeErr("want %d inputs, got %d", n, len(in))
	}
	return nil
}

func wantCHW(s []int) error {
	if len(s) != 3 {
		return shapeErr("want a [C,H,W] input, got %v", s)
	}
	return nil
}

func params(kv ...any) []Param {
	var ps []Param
	for i := 0; i < len(kv); i += 2 {
		if t := kv[i+1].(*Tensor); t != nil {
			ps = append(ps, Param{kv[i].(string), t})
		}
	}
	return ps
}

// Conv2D is a 2-D convolution with groups (Groups == InC == OutC is a
// depthwise convolution), optional bias and a fused activation.
// Weight is [OutC, InC/Groups, KH, KW].
type Conv2D struct {
	InC, OutC, KH, KW int
	StrideH, StrideW  int
	PadT, PadL        int // top and left padding
	PadB, PadR        int // bottom and right padding
	DilH, DilW        int // dilation; 0 means 1
	Groups            int
	Weight, Bias      *Tensor
	Act               Activation
}

// Type implements Op.
func (*Conv2D) Type() string { return "conv2d" }

// Params implements Op.
func (c *Conv2D) Params() []Param { return params("weight", c.Weight, "bias", c.Bias) }

// Depthwise reports whether every group has one input and one output channel.
func (c *Conv2D) Depthwise() bool { return c.Groups > 1 && c.Groups == c.InC && c.Groups == c.OutC }

// Pointwise reports whether this is an ungrouped 1×1 convolution without padding and stride.
func (c *Conv2D) Pointwise() bool {
	return c.Groups == 1 && c.KH == 1 && c.KW == 1 && c.StrideH == 1 && c.StrideW == 1 &&
		c.PadT == 0 && c.PadL == 0 && c.PadB == 0 && c.PadR == 0
}

// Dilation returns the dilations with 0 read as 1.
func (c *Conv2D) Dilation() (int, int) {
	dh, dw := c.DilH, c.DilW
	if dh == 0 {
		dh = 1
	}
	if dw == 0 {
		dw = 1
	}
	return dh, dw
}

// InferShape implements Op.
func (c *Conv2D) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	s := in[0]
	if err := wantCHW(s); err != nil {
		return nil, err
	}
	dh, dw := c.Dilation()
	switch {
	case c.InC <= 0 || c.OutC <= 0 || c.KH <= 0 || c.KW <= 0 || c.StrideH <= 0 || c.StrideW <= 0 || c.Groups <= 0 || dh <= 0 || dw <= 0:
		return nil, shapeErr("conv has a non-positive size (in %d, out %d, kernel %dx%d, stride %dx%d, groups %d)", c.InC, c.OutC, c.KH, c.KW, c.StrideH, c.StrideW, c.Groups)
	case c.PadT < 0 || c.PadL < 0 || c.PadB < 0 || c.PadR < 0:
		return nil, shapeErr("conv has negative padding")
	case s[0] != c.InC:
		return nil, shapeErr("conv wants %d input channels, got %d", c.InC, s[0])
	case c.InC%c.Groups != 0 || c.OutC%c.Groups != 0:
		return nil, shapeErr("conv channels %d->%d not divisible by groups %d", c.InC, c.OutC, c.Groups)
	case c.Weight == nil || !SameShape(c.Weight.Shape, []int{c.OutC, c.InC / c.Groups, c.KH, c.KW}):
		return nil, shapeErr("conv weight shape %v, want %v", shapeOf(c.Weight), []int{c.OutC, c.InC / c.Groups, c.KH, c.KW})
	case len(c.Weight.Data) != Numel(c.Weight.Shape):
		return nil, shapeErr("conv weight has %d values for shape %v", len(c.Weight.Data), c.Weight.Shape)
	case c.Bias != nil && (len(c.Bias.Data) != c.OutC):
		return nil, shapeErr("conv bias has %d values, want %d", len(c.Bias.Data), c.OutC)
	}
	// The (dilated) kernel must fit in the padded input; test before
	// dividing, since Go's division truncates towards zero.
	eh := s[1] + c.PadT + c.PadB - dh*(c.KH-1) - 1
	ew := s[2] + c.PadL + c.PadR - dw*(c.KW-1) - 1
	if eh < 0 || ew < 0 {
		return nil, shapeErr("conv kernel %dx%d (dilation %dx%d) is larger than the padded input %v", c.KH, c.KW, dh, dw, s)
	}
	oh, ow := eh/c.StrideH+1, ew/c.StrideW+1
	return []int{c.OutC, oh, ow}, nil
}

func shapeOf(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}

// BatchNorm is inference-mode batch normalisation over the channel axis:
// y = (x - Mean) / sqrt(Var + Eps) * Scale + Shift.
type BatchNorm struct {
	Scale, Shift, Mean, Var *Tensor
	Eps                     float32
}

// Type implements Op.
func (*BatchNorm) Type() string { return "batch_norm" }

// Params implements Op; the suffixes follow Paddle's state dict.
func (b *BatchNorm) Params() []Param {
	return params("weight", b.Scale, "bias", b.Shift, "_mean", b.Mean, "_variance", b.Var)
}

// InferShape implements Op.
func (b *BatchNorm) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) < 1 {
		return nil, shapeErr("batch norm on a scalar")
	}
	c := in[0][0]
	for _, t := range []*Tensor{b.Scale, b.Shift, b.Mean, b.Var} {
		if t.Len() != c {
			return nil, shapeErr("batch norm statistics have %d values for %d channels", t.Len(), c)
		}
	}
	for _, v := range b.Var.Data {
		if !(v+b.Eps > 0) { // also catches NaN
			return nil, shapeErr("batch norm variance %g + eps %g is not positive", v, b.Eps)
		}
	}
	return in[0], nil
}

// Act applies an activation element-wise.
type Act struct{ Act Activation }

// Type implements Op.
func (a *Act) Type() string { return a.Act.String() }

// Params implements Op.
func (*Act) Params() []Param { return nil }

// InferShape implements Op.
func (*Act) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return in[0], nil
}

// GlobalAvgPool averages each channel over its spatial extent: [C,H,W] -> [C,1,1].
type GlobalAvgPool struct{}

// Type implements Op.
func (*GlobalAvgPool) Type() string { return "global_avg_pool" }

// Params implements Op.
func (*GlobalAvgPool) Params() []Param { return nil }

// InferShape implements Op.
func (*GlobalAvgPool) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if err := wantCHW(in[0]); err != nil {
		return nil, err
	}
	return []int{in[0][0], 1, 1}, nil
}

// Mul multiplies its first input by its second, which is either the same
// shape or one value per channel ([C], [C,1,1]) broadcast over the rest.
type Mul struct{}

// Type implements Op.
func (*Mul) Type() string { return "mul" }

// Params implements Op.
func (*Mul) Params() []Param { return nil }

// InferShape implements Op.
func (*Mul) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if SameShape(a, b) {
		return a, nil
	}
	if len(a) >= 1 && Numel(b) == a[0] && (len(b) == 1 || (len(b) == 3 && b[1] == 1 && b[2] == 1)) {
		return a, nil
	}
	return nil, shapeErr("mul cannot broadcast %v onto %v", b, a)
}

// BiasAdd adds a constant per channel (axis 0 of the per-sample shape).
type BiasAdd struct{ Bias *Tensor }

// Type implements Op.
func (*BiasAdd) Type() string { return "bias_add" }

// Params implements Op.
func (b *BiasAdd) Params() []Param { return params("bias", b.Bias) }

// InferShape implements Op.
func (b *BiasAdd) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) < 1 || b.Bias.Len() != in[0][0] {
		return nil, shapeErr("bias of %d values for input %v", b.Bias.Len(), in[0])
	}
	return in[0], nil
}

// Scale multiplies by a constant: Paddle's dropout in downscale_in_infer
// mode is Scale{1-p} at inference.
type Scale struct{ Factor float32 }

// Type implements Op.
func (*Scale) Type() string { return "scale" }

// Params implements Op.
func (*Scale) Params() []Param { return nil }

// InferShape implements Op.
func (*Scale) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return in[0], nil
}

// Identity passes its input through (dropout in upscale_in_train mode, a
// no-op cast). Optimize removes it.
type Identity struct{}

// Type implements Op.
func (*Identity) Type() string { return "identity" }

// Params implements Op.
func (*Identity) Params() []Param { return nil }

// InferShape implements Op.
func (*Identity) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	return in[0], nil
}

// Reshape changes the per-sample shape without moving data; Flatten is a
// Reshape to one dimension. Shape may hold one -1, inferred.
type Reshape struct{ Shape []int }

// Type implements Op.
func (*Reshape) Type() string { return "reshape" }

// Params implements Op.
func (*Reshape) Params() []Param { return nil }

// InferShape implements Op.
func (r *Reshape) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	n := Numel(in[0])
	out := append([]int(nil), r.Shape...)
	known, free := 1, -1
	for i, d := range out {
		switch {
		case d == -1 && free < 0:
			free = i
		case d <= 0:
			return nil, shapeErr("reshape to %v", r.Shape)
		default:
			known *= d
		}
	}
	if free >= 0 {
		if known == 0 || n%known != 0 {
			return nil, shapeErr("reshape %v to %v", in[0], r.Shape)
		}
		out[free] = n / known
		known *= out[free]
	}
	if known != n {
		return nil, shapeErr("reshape %v (%d values) to %v", in[0], n, r.Shape)
	}
	return out, nil
}

// FC is a fully connected layer y = W x + b on a flat input, with a fused
// activation. Weight is [Out, In] (PyTorch's layout; Paddle stores [In, Out]).
type FC struct {
	In, Out      int
	Weight, Bias *Tensor
	Act          Activation
}

// Type implements Op.
func (*FC) Type() string { return "fc" }

// Params implements Op.
func (f *FC) Params() []Param { return params("weight", f.Weight, "bias", f.Bias) }

// InferShape implements Op.
func (f *FC) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	switch {
	case f.In <= 0 || f.Out <= 0:
		return nil, shapeErr("fc sizes %d->%d", f.In, f.Out)
	case Numel(in[0]) != f.In || (len(in[0]) != 1 && !(len(in[0]) == 3 && in[0][1] == 1 && in[0][2] == 1)):
		return nil, shapeErr("fc wants %d inputs, got %v", f.In, in[0])
	case f.Weight == nil || !SameShape(f.Weight.Shape, []int{f.Out, f.In}) || len(f.Weight.Data) != f.In*f.Out:
		return nil, shapeErr("fc weight shape %v, want %v", shapeOf(f.Weight), []int{f.Out, f.In})
	case f.Bias != nil && len(f.Bias.Data) != f.Out:
		return nil, shapeErr("fc bias has %d values, want %d", len(f.Bias.Data), f.Out)
	}
	return []int{f.Out}, nil
}

// Softmax normalises over the last axis.
type Softmax struct{}

// Type implements Op.
func (*Softmax) Type() string { return "softmax" }

// Params implements Op.
func (*Softmax) Params() []Param { return nil }

// InferShape implements Op.
func (*Softmax) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if len(in[0]) != 1 {
		return nil, shapeErr("softmax wants a flat input, got %v", in[0])
	}
	return in[0], nil
}

// SE is a recognised squeeze-and-excite block on a [C,H,W] input:
// s = Gate(W2 · Act(W1 · mean_hw(x) + B1) + B2); y = x * s per channel.
// W1 is [Reduce, C], W2 is [C, Reduce].
type SE struct {
	C, Reduce      int
	W1, B1, W2, B2 *Tensor
	Act, Gate      Activation
}

// Type implements Op.
func (*SE) Type() string { return "squeeze_excite" }

// Params implements Op.
func (s *SE) Params() []Param {
	return params("conv1.weight", s.W1, "conv1.bias", s.B1, "conv2.weight", s.W2, "conv2.bias", s.B2)
}

// InferShape implements Op.
func (s *SE) InferShape(in [][]int) ([]int, error) {
	if err := wantInputs(in, 1); err != nil {
		return nil, err
	}
	if err := wantCHW(in[0]); err != nil {
		return nil, err
	}
	switch {
	case in[0][0] != s.C || s.Reduce <= 0:
		return nil, shapeErr("squeeze-excite for %d channels on %v", s.C, in[0])
	case s.W1.Len() != s.C*s.Reduce || s.W2.Len() != s.C*s.Reduce:
		return nil, shapeErr("squeeze-excite weights do not match %d->%d", s.C, s.Reduce)
	case s.B1.Len() != s.Reduce && s.B1 != nil, s.B2.Len() != s.C && s.B2 != nil:
		return nil, shapeErr("squeeze-excite biases do not match %d->%d", s.C, s.Reduce)
	}
	return in[0], nil
}
