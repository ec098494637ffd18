// Package pplcnet builds the PP-LCNet family (arXiv 2109.15099) as a
// graph.Graph with PaddleClas semantics: any scale, class count, input size
// and stride list (including the text-line (2,1) variant), with or without
// the 1280-channel head conv, and the paper's ablation knobs. Nodes are named
// after PaddleClas's layers, so graph.StateDict names equal the keys of a
// PaddleClas .pdparams file.
package pplcnet

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
)

// Block is one depthwise-separable block of the network definition.
type Block struct {
	Kernel  int // depthwise kernel size (3 or 5 in the paper)
	In, Out int // unscaled channels
	Stride  [2]int
	SE      bool
}

// Stage names as in PaddleClas: blocks2 ... blocks6.
var stageNames = []string{"blocks2", "blocks3", "blocks4", "blocks5", "blocks6"}

// Stages returns PaddleClas's NET_CONFIG (unscaled), as stages of blocks:
// blocks2 ... blocks6.
func Stages() [][]Block { return netConfig() }

// StageNames are PaddleClas's names of the stages, blocks2 ... blocks6.
func StageNames() []string { return append([]string(nil), stageNames...) }

// netConfig is PaddleClas's NET_CONFIG, as stages of blocks.
func netConfig() [][]Block {
	s1, s2 := [2]int{1, 1}, [2]int{2, 2}
	return [][]Block{
		{{3, 16, 32, s1, false}},
		{{3, 32, 64, s2, false}, {3, 64, 64, s1, false}},
		{{3, 64, 128, s2, false}, {3, 128, 128, s1, false}},
		{{3, 128, 256, s2, false}, {5, 256, 256, s1, false}, {5, 256, 256, s1, false},
			{5, 256, 256, s1, false}, {5, 256, 256, s1, false}, {5, 256, 256, s1, false}},
		{{5, 256, 512, s2, true}, {5, 512, 512, s1, true}},
	}
}

// NumBlocks is the number of depthwise-separable blocks (13).
const NumBlocks = 13

// Config describes one member of the family. Start from Default and change
// what differs; the zero Config is not valid.
type Config struct {
	Scale   float64 // channel multiplier (> 0)
	Classes int     // classifier outputs (> 0)
	InputH  int     // input height
	InputW  int     // input width
	// Strides are the stem's stride and the first-block strides of
	// blocks3..blocks6 (PaddleClas stride_list); each is (h, w).
	Strides     [5][2]int
	UseLastConv bool    // the 1×1 head conv to ClassExpand channels
	ClassExpand int     // head conv width (1280)
	DropoutProb float64 // inference-time scale 1-p (downscale_in_infer)
	Softmax     bool    // end in softmax, as exported inference models do
	// Per-block ablation knobs, indexed 0..12 in network order.
	SE      [NumBlocks]bool // squeeze-excite after the depthwise conv
	Kernels [NumBlocks]int  // depthwise kernel sizes
	// Act is the activation after every conv (hardswish; relu for the
	// "without H-Swish" ablation). The SE gate stays a hardsigmoid.
	Act graph.ActKind
	// HardSigmoid slope and offset of the SE gate (1/6, 0.5).
	GateSlope, GateOffset float32
	BNEps                 float32
}

// Default returns PaddleClas's PPLCNet_x<scale> for ImageNet at 224×224.
func Default(scale float64) Config {
	c := Config{
		Scale: scale, Classes: 1000, InputH: 224, InputW: 224,
		UseLastConv: true, ClassExpand: 1280, DropoutProb: 0.2, Softmax: true,
		Act: graph.ActHardSwish, GateSlope: 1.0 / 6, GateOffset: 0.5, BNEps: 1e-5,
	}
	for i := range c.Strides {
		c.Strides[i] = [2]int{2, 2}
	}
	i := 0
	for _, st := range netConfig() {
		for _, b := range st {
			c.SE[i], c.Kernels[i] = b.SE, b.Kernel
			i++
		}
	}
	return c
}

// TextLine returns the PULC text-line orientation variant of PaddleOCR:
// 80×160 input, (2,1) depthwise strides in blocks3..blocks6, two classes.
func TextLine(scale float64) Config {
	c := Default(scale)
	c.Classes, c.InputH, c.InputW = 2, 80, 160
	for i := 1; i < 5; i++ {
		c.Strides[i] = [2]int{2, 1}
	}
	return c
}

// Scales are the eight scales of the paper's main table.
var Scales = []float64{0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5}

// Names maps the built-in model names (pplcnet_x0_25 ... pplcnet_x2_5) to
// their scales.
func Names() map[string]float64 {
	m := make(map[string]float64, len(Scales))
	for _, s := range Scales {
		m[NameOf(s)] = s
	}
	return m
}

// NameOf returns the built-in name of a scale, e.g. "pplcnet_x0_25".
func NameOf(scale float64) string {
	s := strings.ReplaceAll(fmt.Sprintf("%g", scale), ".", "_")
	if !strings.Contains(s, "_") {
		s += "_0"
	}
	return "pplcnet_x" + s
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid PP-LCNet config")

// MakeDivisible is PaddleClas's make_divisible(v, 8): round to a multiple
// of 8, at least 8, and never below 90% of v.
func MakeDivisible(v float64) int {
	const d = 8
	nv := int(v+d/2) / d * d
	if nv < d {
		nv = d
	}
	if float64(nv) < 0.9*v {
		nv += d
	}
	return nv
}

func (c *Config) validate() error {
	switch {
	case !(c.Scale > 0) || c.Scale > 64 || math.IsInf(c.Scale, 0):
		return fmt.Errorf("pplcnet: %w: scale %g must be in (0, 64]", ErrConfig, c.Scale)
	case c.Classes <= 0 || c.Classes > 1<<20:
		return fmt.Errorf("pplcnet: %w: classes %d must be in [1, %d]", ErrConfig, c.Classes, 1<<20)
	case c.InputH <= 0 || c.InputW <= 0 || c.InputH > 8192 || c.InputW > 8192:
		return fmt.Errorf("pplcnet: %w: input size %dx%d must be in [1, 8192]", ErrConfig, c.InputH, c.InputW)
	case c.UseLastConv && (c.ClassExpand <= 0 || c.ClassExpand > 1<<16):
		return fmt.Errorf("pplcnet: %w: class_expand %d", ErrConfig, c.ClassExpand)
	case !(c.DropoutProb >= 0 && c.DropoutProb < 1):
		return fmt.Errorf("pplcnet: %w: dropout %g must be in [0, 1)", ErrConfig, c.DropoutProb)
	case c.Act != graph.ActHardSwish && c.Act != graph.ActReLU:
		return fmt.Errorf("pplcnet: %w: activation must be hardswish or relu", ErrConfig)
	case !(c.BNEps > 0):
		return fmt.Errorf("pplcnet: %w: batch-norm eps %g", ErrConfig, c.BNEps)
	}
	for i, s := range c.Strides {
		if s[0] < 1 || s[1] < 1 || s[0] > 8 || s[1] > 8 {
			return fmt.Errorf("pplcnet: %w: stride %d is %v", ErrConfig, i, s)
		}
	}
	for i, k := range c.Kernels {
		if k < 1 || k%2 == 0 || k > 15 {
			return fmt.Errorf("pplcnet: %w: block %d kernel %d must be odd in [1, 15]", ErrConfig, i+1, k)
		}
	}
	return nil
}

// Build returns the network with every weight set by the deterministic
// generator seeded with seed (He-style conv weights, non-trivial batch-norm
// statistics). Load real weights with (*graph.Graph).LoadStateDict.
func Build(c Config, seed uint64) (*graph.Graph, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	b := &builder{cfg: c, rng: newRNG(seed)}
	g, err := b.build()
	if err != nil {
		return nil, fmt.Errorf("pplcnet: %w", err)
	}
	return g, nil
}

type builder struct {
	cfg Config
	rng *rng
	g   *graph.Graph
	x   int
}

func (b *builder) add(name string, op graph.Op, inputs ...int) error {
	v, err := b.g.Add(name, op, inputs...)
	if err != nil {
		return err
	}
	b.x = v
	return nil
}

// convBN adds PaddleClas's ConvBNLayer: conv (no bias) + BN + activation.
func (b *builder) convBN(name string, in, out, k int, stride [2]int, groups int, act graph.ActKind) error {
	p := (k - 1) / 2
	conv := &graph.Conv2D{InC: in, OutC: out, KH: k, KW: k, StrideH: stride[0], StrideW: stride[1],
		PadT: p, PadL: p, PadB: p, PadR: p, Groups: groups, Weight: b.heWeight(out, in/groups, k, k)}
	if err := b.add(name+".conv", conv, b.x); err != nil {
		return err
	}
	if err := b.add(name+".bn", b.batchNorm(out), b.x); err != nil {
		return err
	}
	if act == graph.ActNone {
		return nil
	}
	return b.add(name+".act", &graph.Act{Act: graph.Activation{Kind: act}}, b.x)
}

func (b *builder) build() (*graph.Graph, error) {
	c := b.cfg
	b.g = graph.New(NameOf(c.Scale), "x", 3, c.InputH, c.InputW)
	b.x = b.g.Input
	stem := MakeDivisible(16 * c.Scale)
	if err := b.convBN("conv1", 3, stem, 3, c.Strides[0], 1, c.Act); err != nil {
		return nil, err
	}
	i, ch := 0, stem
	for si, st := range netConfig() {
		for bi, blk := range st {
			name := fmt.Sprintf("%s.%d", stageNames[si], bi)
			stride := blk.Stride
			if bi == 0 && si > 0 {
				stride = c.Strides[si]
			}
			in, out := MakeDivisible(float64(blk.In)*c.Scale), MakeDivisible(float64(blk.Out)*c.Scale)
			if in != ch {
				return nil, fmt.Errorf("block %s wants %d input channels, has %d", name, in, ch)
			}
			if err := b.convBN(name+".dw_conv", in, in, c.Kernels[i], stride, in, c.Act); err != nil {
				return nil, err
			}
			if c.SE[i] {
				if err := b.se(name+".se", in); err != nil {
					return nil, err
				}
			}
			if err := b.convBN(name+".pw_conv", in, out, 1, [2]int{1, 1}, 1, c.Act); err != nil {
				return nil, err
			}
			ch = out
			i++
		}
	}
	if err := b.add("avg_pool", &graph.GlobalAvgPool{}, b.x); err != nil {
		return nil, err
	}
	if c.UseLastConv {
		conv := &graph.Conv2D{InC: ch, OutC: c.ClassExpand, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1,
			Weight: b.heWeight(c.ClassExpand, ch, 1, 1)}
		if err := b.add("last_conv", conv, b.x); err != nil {
			return nil, err
		}
		if err := b.add("hardswish", &graph.Act{Act: graph.Activation{Kind: c.Act}}, b.x); err != nil {
			return nil, err
		}
		if c.DropoutProb > 0 {
			if err := b.add("dropout", &graph.Scale{Factor: float32(1 - c.DropoutProb)}, b.x); err != nil {
				return nil, err
			}
		}
		ch = c.ClassExpand
	}
	if err := b.add("flatten", &graph.Reshape{Shape: []int{-1}}, b.x); err != nil {
		return nil, err
	}
	fc := &graph.FC{In: ch, Out: c.Classes, Weight: b.uniform(2/math.Sqrt(float64(ch)), c.Classes, ch), Bias: b.normal(0.1, c.Classes)}
	if err := b.add("fc", fc, b.x); err != nil {
		return nil, err
	}
	if c.Softmax {
		if err := b.add("softmax", &graph.Softmax{}, b.x); err != nil {
			return nil, err
		}
	}
	return b.g, nil
}

// se adds PaddleClas's SEModule: pool, conv1 (bias) + relu, conv2 (bias) +
// hardsigmoid, multiply.
func (b *builder) se(name string, c int) error {
	x := b.x
	r := c / 4
	if r < 1 {
		r = 1
	}
	if err := b.add(name+".avg_pool", &graph.GlobalAvgPool{}, x); err != nil {
		return err
	}
	pw := func(in, out int) *graph.Conv2D {
		return &graph.Conv2D{InC: in, OutC: out, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1,
			Weight: b.heWeight(out, in, 1, 1), Bias: b.normal(0.1, out)}
	}
	steps := []struct {
		name string
		op   graph.Op
	}{
		{name + ".conv1", pw(c, r)},
		{name + ".relu", &graph.Act{Act: graph.ReLU}},
		{name + ".conv2", pw(r, c)},
		{name + ".hardsigmoid", &graph.Act{Act: graph.HardSigmoid(b.cfg.GateSlope, b.cfg.GateOffset)}},
	}
	for _, s := range steps {
		if err := b.add(s.name, s.op, b.x); err != nil {
			return err
		}
	}
	return b.add(name+".multiply", &graph.Mul{}, x, b.x)
}

func (b *builder) heWeight(shape ...int) *graph.Tensor {
	fanIn := graph.Numel(shape[1:])
	return b.normal(math.Sqrt(2/float64(fanIn)), shape...)
}

func (b *builder) batchNorm(c int) *graph.BatchNorm {
	bn := &graph.BatchNorm{Scale: graph.NewTensor(c), Shift: b.normal(0.1, c), Mean: b.normal(0.1, c), Var: graph.NewTensor(c), Eps: b.cfg.BNEps}
	for i := range c {
		bn.Scale.Data[i] = float32(0.5 + b.rng.float())
		bn.Var.Data[i] = float32(0.5 + b.rng.float())
	}
	return bn
}

func (b *builder) normal(std float64, shape ...int) *graph.Tensor {
	t := graph.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(std * b.rng.normal())
	}
	return t
}

func (b *builder) uniform(limit float64, shape ...int) *graph.Tensor {
	t := graph.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(limit * (2*b.rng.float() - 1))
	}
	return t
}

// rng is splitmix64: small, fast, and the same on every platform.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal returns a standard normal value (Box-Muller).
func (r *rng) normal() float64 {
	u := r.float()
	for u == 0 {
		u = r.float()
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}
