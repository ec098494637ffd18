// Package safetensors reads and writes PP-LCNet weights in timm's
// safetensors layout (lcnet_050, lcnet_075, lcnet_100 and any other scale):
// conv_stem, bn1, blocks.{s}.{b}.{conv_dw,bn1,se.conv_reduce,se.conv_expand,
// conv_pw,bn2}, conv_head (with bias) and classifier.
//
// Read infers the scale, kernels, SE placement, head width and class count
// from the tensor shapes and builds the network with package pplcnet in
// timm's semantics: the head conv has a bias and there is no 0.8 dropout
// scale. The output is logits unless Options.Softmax is set. The file
// parser is strict, for untrusted input.
package safetensors

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/internal/filebuf"
)

// Options controls Read.
type Options struct {
	// InputH and InputW are the network input size; 0 means 224.
	InputH, InputW int
	// Softmax appends a softmax so the output is probabilities (timm's
	// models output logits).
	Softmax bool
	// MaxBytes caps the file size Load reads; 0 means 1 GiB.
	MaxBytes int64
	// Strides, when non-zero, replace the stem and stage strides (see
	// pplcnet.Config.Strides), e.g. for text-line models with (2,1)
	// strides; the file does not record them. Zero means timm's (2,2).
	Strides [5][2]int
}

// timmStages is timm's lcnet block layout: blocks.{s}.{b} for s = 0..5.
var timmStages = []int{1, 2, 2, 2, 4, 2}

// paddleStages is PaddleClas's: blocks2..blocks6.
var paddleStages = []int{1, 2, 2, 6, 2}

// blockNames returns the 13 blocks as (timm, paddle) name prefixes.
func blockNames() (timm, paddle []string) {
	for s, n := range timmStages {
		for b := range n {
			timm = append(timm, fmt.Sprintf("blocks.%d.%d", s, b))
		}
	}
	for s, n := range paddleStages {
		for b := range n {
			paddle = append(paddle, fmt.Sprintf("blocks%d.%d", s+2, b))
		}
	}
	return timm, paddle
}

// nameMap maps timm names to the state-dict names of a pplcnet graph.
func nameMap(se [pplcnet.NumBlocks]bool) map[string]string {
	m := map[string]string{"conv_stem.weight": "conv1.conv.weight",
		"conv_head.weight": "last_conv.weight", "conv_head.bias": "last_conv.bias",
		"classifier.weight": "fc.weight", "classifier.bias": "fc.bias"}
	bn := func(t, p string) {
		for _, s := range [][2]string{{"weight", "weight"}, {"bias", "bias"}, {"running_mean", "_mean"}, {"running_var", "_variance"}} {
			m[t+"."+s[0]] = p + "." + s[1]
		}
	}
	bn("bn1", "conv1.bn")
	tn, pn := blockNames()
	for i := range tn {
		t, p := tn[i], pn[i]
		m[t+".conv_dw.weight"] = p + ".dw_conv.conv.weight"
		bn(t+".bn1", p+".dw_conv.bn")
		m[t+".conv_pw.weight"] = p + ".pw_conv.conv.weight"
		bn(t+".bn2", p+".pw_conv.bn")
		if se[i] {
			m[t+".se.conv_reduce.weight"] = p + ".se.conv1.weight"
			m[t+".se.conv_reduce.bias"] = p + ".se.conv1.bias"
			m[t+".se.conv_expand.weight"] = p + ".se.conv2.weight"
			m[t+".se.conv_expand.bias"] = p + ".se.conv2.bias"
		}
	}
	return m
}

// Load reads a timm safetensors file.
func Load(path string, opt Options) (*graph.Graph, error) {
	limit := opt.MaxBytes
	if limit <= 0 {
		limit = 1 << 30
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("safetensors: %s: %w: %d bytes, limit %d", path, ErrUnsupported, st.Size(), limit)
	}
	data, err := filebuf.Read(f, st, limit)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	g, err := Read(data, opt)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return g, nil
}

// Sniff reports whether head, the first bytes of a file, look like a
// safetensors file: a plausible little-endian header length and '{'.
func Sniff(head []byte) bool {
	if len(head) < 9 || head[8] != '{' {
		return false
	}
	n := uint64(0)
	for k := 7; k >= 0; k-- {
		n = n<<8 | uint64(head[k])
	}
	return n >= 2 && n <= maxHeader
}

// Read builds the network described by a timm lcnet safetensors file.
func Read(data []byte, opt Options) (*graph.Graph, error) {
	raw, _, err := Parse(data)
	if err != nil {
		return nil, err
	}
	sd := map[string]*graph.Tensor{}
	for name, t := range raw {
		if strings.HasSuffix(name, "num_batches_tracked") {
			continue
		}
		f, err := t.Float32()
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		sd[name] = &graph.Tensor{Shape: t.Shape, Data: f}
	}
	return fromTimm(sd, opt)
}

func shapeOf(sd map[string]*graph.Tensor, name string, rank int) ([]int, error) {
	t, ok := sd[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: %w: missing tensor %q (not a timm lcnet file?)", ErrUnsupported, name)
	}
	if len(t.Shape) != rank {
		return nil, fmt.Errorf("safetensors: %w: tensor %q has shape %v", ErrUnsupported, name, t.Shape)
	}
	return t.Shape, nil
}

// candidateScales are tried in order to match the file's channel counts.
var candidateScales = []float64{0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0}

// channels lists make_divisible(c*scale) for the stem and every block output.
func channels(scale float64) []int {
	outs := []int{16, 32, 64, 64, 128, 128, 256, 256, 256, 256, 256, 256, 512, 512}
	for k, c := range outs {
		outs[k] = pplcnet.MakeDivisible(float64(c) * scale)
	}
	return outs
}

func fromTimm(sd map[string]*graph.Tensor, opt Options) (*graph.Graph, error) {
	tn, _ := blockNames()
	stem, err := shapeOf(sd, "conv_stem.weight", 4)
	if err != nil {
		return nil, err
	}
	have := []int{stem[0]}
	c := pplcnet.Default(1)
	for i, t := range tn {
		dw, err := shapeOf(sd, t+".conv_dw.weight", 4)
		if err != nil {
			return nil, err
		}
		pw, err := shapeOf(sd, t+".conv_pw.weight", 4)
		if err != nil {
			return nil, err
		}
		if dw[2] != dw[3] {
			return nil, fmt.Errorf("safetensors: %w: %s.conv_dw has a %dx%d kernel", ErrUnsupported, t, dw[2], dw[3])
		}
		c.Kernels[i] = dw[2]
		_, c.SE[i] = sd[t+".se.conv_reduce.weight"]
		have = append(have, pw[0])
	}
	scale := 0.0
	for _, s := range candidateScales {
		if fmt.Sprint(channels(s)) == fmt.Sprint(have) {
			scale = s
			break
		}
	}
	if scale == 0 {
		// Any other multiplier: the last block has make_divisible(512*s).
		s := float64(have[len(have)-1]) / 512
		if fmt.Sprint(channels(s)) != fmt.Sprint(have) {
			return nil, fmt.Errorf("safetensors: %w: channel counts %v match no PP-LCNet scale", ErrUnsupported, have)
		}
		scale = s
	}
	c.Scale = scale
	head, err := shapeOf(sd, "conv_head.weight", 4)
	if err != nil {
		return nil, err
	}
	cls, err := shapeOf(sd, "classifier.weight", 2)
	if err != nil {
		return nil, err
	}
	c.ClassExpand, c.Classes = head[0], cls[0]
	c.DropoutProb, c.Softmax = 0, opt.Softmax
	if opt.Strides != ([5][2]int{}) {
		c.Strides = opt.Strides
	}
	c.InputH, c.InputW = 224, 224
	if opt.InputH > 0 {
		c.InputH = opt.InputH
	}
	if opt.InputW > 0 {
		c.InputW = opt.InputW
	}
	g, err := pplcnet.Build(c, 0)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	g.Name = fmt.Sprintf("lcnet_%03d", int(math.Round(scale*100)))
	// timm's head conv has a bias; the PaddleClas builder's does not.
	for _, n := range g.Nodes {
		if n.Name == "last_conv" {
			conv := n.Op.(*graph.Conv2D)
			conv.Bias = graph.NewTensor(conv.OutC)
		}
	}
	names := nameMap(c.SE)
	psd := make(map[string]*graph.Tensor, len(sd))
	for name, t := range sd {
		p, ok := names[name]
		if !ok {
			return nil, fmt.Errorf("safetensors: %w: unexpected tensor %q", ErrUnsupported, name)
		}
		psd[p] = t
	}
	if err := g.LoadStateDict(psd, false); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	return g, nil
}
