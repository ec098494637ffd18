package paddle

import (
	"fmt"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// structuredKey is the extra entry paddle.save adds to a Layer's state dict.
const structuredKey = "StructuredToParameterName@@"

// Bound of the float32 data readStateDict decodes: maxDecodeFactor times the
// pickle's size plus maxDecodeSlack. Each distinct array is decoded once,
// and its bytes are in the file (float32 is the only dtype read, 4 bytes a
// value), so a real state dict needs at most 1x.
const (
	maxDecodeFactor = 2
	maxDecodeSlack  = 4 << 10
)

// importPdparams reads a PaddleClas PP-LCNet state dict and builds the
// network it describes.
func importPdparams(b []byte, opt Options) (*graph.Graph, error) {
	sd, err := readStateDict(b)
	if err != nil {
		return nil, err
	}
	cfg, err := inferConfig(sd, opt)
	if err != nil {
		return nil, err
	}
	g, err := pplcnet.Build(cfg, 0)
	if err != nil {
		return nil, fmt.Errorf("paddle: %w", err)
	}
	if err := g.LoadStateDict(sd, true); err != nil {
		return nil, fmt.Errorf("paddle: loading the .pdparams weights: %w", err)
	}
	return g, nil
}

// readStateDict unpickles a paddle.save'd state dict into tensors by name.
// Values are numpy arrays or (name, array) tuples (a pickled Tensor); the
// StructuredToParameterName@@ entry is skipped. A common prefix of every
// key ("backbone.", ...) is removed.
func readStateDict(b []byte) (map[string]*graph.Tensor, error) {
	v, err := unpickle(b)
	if err != nil {
		return nil, fmt.Errorf("paddle: .pdparams: %w", err)
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, formatErr(".pdparams holds a %s, not a state dict", pyType(v))
	}
	sd := make(map[string]*graph.Tensor, len(d.keys))
	// Names that share one array (through the memo: tied weights, or a
	// hostile file referencing one array thousands of times) share its
	// decoded tensor; graph.LoadStateDict copies what it loads.
	decoded := map[*pyArray]*graph.Tensor{}
	budget := maxDecodeFactor*int64(len(b)) + maxDecodeSlack
	for _, k := range d.keys {
		if k == structuredKey {
			continue
		}
		val := d.m[k]
		if t, ok := val.(pyTuple); ok && len(t) == 2 {
			if _, named := t[0].(string); named {
				val = t[1]
			}
		}
		a, ok := val.(*pyArray)
		if !ok {
			return nil, unsupported(".pdparams entry %q is a %s, not an array", k, pyType(val))
		}
		if t, seen := decoded[a]; seen {
			sd[k] = t
			continue
		}
		if !a.built {
			return nil, formatErr(".pdparams entry %q is an array without data", k)
		}
		if a.fortran && len(a.shape) > 1 {
			return nil, unsupported(".pdparams entry %q is a Fortran-ordered array", k)
		}
		n := graph.Numel(a.shape)
		// Distinct arrays may still share their bytes (one memoised
		// bytes object built into many arrays): bound the total.
		if budget -= 4 * int64(n); budget < 0 {
			return nil, fmt.Errorf("paddle: %w: .pdparams entry %q: the arrays decode to more than %d times the file's %d bytes (data shared through the pickle memo?)",
				ErrTooLarge, k, maxDecodeFactor, len(b))
		}
		data, err := decodeFloats(a.dtype, a.data, n)
		if err != nil {
			return nil, fmt.Errorf("paddle: .pdparams entry %q: %w", k, err)
		}
		t := &graph.Tensor{Shape: a.shape, Data: data}
		decoded[a] = t
		sd[k] = t
	}
	return stripPrefix(sd)
}

// stripPrefix removes a prefix shared by every key, found from the stem
// conv's name ("conv1.conv.weight").
func stripPrefix(sd map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	const stem = "conv1.conv.weight"
	if _, ok := sd[stem]; ok {
		return sd, nil
	}
	var prefix string
	found := 0
	for k := range sd {
		if p, ok := strings.CutSuffix(k, stem); ok && strings.HasSuffix(p, ".") && !strings.Contains(p, "blocks") {
			prefix = p
			found++
		}
	}
	if found != 1 {
		return sd, nil // inferConfig reports the missing stem
	}
	out := make(map[string]*graph.Tensor, len(sd))
	for k, t := range sd {
		s, ok := strings.CutPrefix(k, prefix)
		if !ok {
			return nil, unsupported(".pdparams entry %q lacks the prefix %q of the others", k, prefix)
		}
		out[s] = t
	}
	return out, nil
}

// lcnetBlocks lists PaddleClas's NET_CONFIG blocks in order: name and
// unscaled input and output channels (strides come from the options).
var lcnetBlocks = func() []lcnetBlock {
	var bs []lcnetBlock
	names := pplcnet.StageNames()
	for si, st := range pplcnet.Stages() {
		for bi, b := range st {
			bs = append(bs, lcnetBlock{fmt.Sprintf("%s.%d", names[si], bi), b.In, b.Out})
		}
	}
	return bs
}()

type lcnetBlock struct {
	name    string
	in, out int
}

// inferConfig reads the architecture from the weights: the scale whose
// rounded channels match every layer, the depthwise kernels, the
// squeeze-excite blocks, the head conv and the class count. Strides and the
// input size come from opt.
func inferConfig(sd map[string]*graph.Tensor, opt Options) (pplcnet.Config, error) {
	get := func(name string, rank int) (*graph.Tensor, error) {
		t, ok := sd[name]
		if !ok {
			return nil, formatErr(".pdparams has no %q: not a PaddleClas PP-LCNet", name)
		}
		if len(t.Shape) != rank {
			return nil, formatErr(".pdparams %q has shape %v, want %d dims", name, t.Shape, rank)
		}
		return t, nil
	}
	stem, err := get("conv1.conv.weight", 4)
	if err != nil {
		return pplcnet.Config{}, err
	}
	if stem.Shape[1] != 3 || stem.Shape[2] != 3 || stem.Shape[3] != 3 {
		return pplcnet.Config{}, unsupported("stem conv of shape %v (want [C 3 3 3])", stem.Shape)
	}
	chans := []int{stem.Shape[0]} // stem, then each block's output
	var kernels [pplcnet.NumBlocks]int
	var se [pplcnet.NumBlocks]bool
	for i, b := range lcnetBlocks {
		dw, err := get(b.name+".dw_conv.conv.weight", 4)
		if err != nil {
			return pplcnet.Config{}, err
		}
		pw, err := get(b.name+".pw_conv.conv.weight", 4)
		if err != nil {
			return pplcnet.Config{}, err
		}
		c, k := dw.Shape[0], dw.Shape[2]
		if dw.Shape[1] != 1 || dw.Shape[3] != k || k%2 == 0 || c != chans[i] || pw.Shape[1] != c {
			return pplcnet.Config{}, formatErr("block %s: depthwise %v and pointwise %v weights do not chain from %d channels", b.name, dw.Shape, pw.Shape, chans[i])
		}
		kernels[i] = k
		_, se[i] = sd[b.name+".se.conv1.weight"]
		chans = append(chans, pw.Shape[0])
	}
	scale, ok := findScale(chans)
	if !ok {
		return pplcnet.Config{}, unsupported("no PP-LCNet scale gives the channels %v", chans)
	}
	var cfg pplcnet.Config
	if opt.TextLine {
		cfg = pplcnet.TextLine(scale)
	} else {
		cfg = pplcnet.Default(scale)
	}
	cfg.Kernels, cfg.SE = kernels, se
	last := chans[len(chans)-1]
	if lc, ok := sd["last_conv.weight"]; ok {
		if len(lc.Shape) != 4 || lc.Shape[1] != last || lc.Shape[2] != 1 || lc.Shape[3] != 1 {
			return pplcnet.Config{}, formatErr("last_conv.weight has shape %v for %d channels", lc.Shape, last)
		}
		cfg.UseLastConv, cfg.ClassExpand = true, lc.Shape[0]
		last = lc.Shape[0]
	} else {
		cfg.UseLastConv = false
	}
	fc, err := get("fc.weight", 2)
	if err != nil {
		return pplcnet.Config{}, err
	}
	if fc.Shape[0] != last {
		return pplcnet.Config{}, formatErr("fc.weight has shape %v, want [%d classes] (Paddle's [in, out])", fc.Shape, last)
	}
	cfg.Classes = fc.Shape[1]
	switch {
	case opt.InputH < 0 || opt.InputW < 0 || (opt.InputH == 0) != (opt.InputW == 0):
		return pplcnet.Config{}, unsupported("input size %dx%d: give both or neither", opt.InputH, opt.InputW)
	case opt.InputH > 0:
		cfg.InputH, cfg.InputW = opt.InputH, opt.InputW
	}
	return cfg, nil
}

// findScale returns a scale whose make_divisible channels equal chans
// (stem, then the 13 block outputs): the paper's scales first, then
// k/100 for k = 1..1000. Any match builds the same network.
func findScale(chans []int) (float64, bool) {
	match := func(s float64) bool {
		if pplcnet.MakeDivisible(16*s) != chans[0] {
			return false
		}
		for i, b := range lcnetBlocks {
			if pplcnet.MakeDivisible(float64(b.in)*s) != chans[i] || pplcnet.MakeDivisible(float64(b.out)*s) != chans[i+1] {
				return false
			}
		}
		return true
	}
	for _, s := range pplcnet.Scales {
		if match(s) {
			return s, true
		}
	}
	for k := 1; k <= 1000; k++ {
		if s := float64(k) / 100; match(s) {
			return s, true
		}
	}
	return 0, false
}
