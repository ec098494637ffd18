package preprocess

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ChannelOrder is the channel order of the tensor handed to the model.
type ChannelOrder int

const (
	// RGB feeds channels in R, G, B order: PaddleX's predictor
	// (ReadImage(format="RGB")) and PaddleClas' DecodeImage(to_rgb=True).
	RGB ChannelOrder = iota
	// BGR feeds OpenCV's native order: PaddleClas' DecodeImage(to_rgb=False).
	BGR
)

// String returns "RGB" or "BGR".
func (o ChannelOrder) String() string {
	if o == BGR {
		return "BGR"
	}
	return "RGB"
}

// Formula selects the float32 arithmetic of the normalisation. The two
// frameworks compute the same value in different orders, which changes the
// last bit of some outputs.
type Formula int

const (
	// PaddleClasFormula is (float32(x)*scale - mean) / std with scale, mean
	// and std rounded to float32 first (PaddleClas NormalizeImage).
	PaddleClasFormula Formula = iota
	// PaddleXFormula is float32(x)*float32(scale/std) + float32(-mean/std)
	// with the quotients computed in float64 (PaddleX's Normalize).
	PaddleXFormula
)

// String names the formula.
func (f Formula) String() string {
	if f == PaddleXFormula {
		return "paddlex"
	}
	return "paddleclas"
}

// ResizeOp is a ResizeImage transform.
type ResizeOp struct {
	// ResizeShort, when positive, scales the short side to this length and
	// the other side by the same factor, rounded half to even.
	ResizeShort int
	// Width and Height give a fixed output size when ResizeShort is 0.
	Width, Height int
	// Interp is the interpolation (config key "interpolation").
	Interp Interpolation
}

// TargetSize returns the size an w x h image is resized to: with
// ResizeShort, w = round(w*p), h = round(h*p) with p = short/min(w, h) in
// float64 and Python's round-half-to-even, as PaddleClas and PaddleX do.
func (r *ResizeOp) TargetSize(w, h int) (int, int) {
	if r.ResizeShort <= 0 {
		return r.Width, r.Height
	}
	p := float64(r.ResizeShort) / float64(min(w, h))
	return int(math.RoundToEven(float64(w) * p)), int(math.RoundToEven(float64(h) * p))
}

// CropOp is a CropImage (centre crop) transform.
type CropOp struct {
	Width, Height int
}

// NormalizeOp is a NormalizeImage transform: (x*Scale - Mean[c]) / Std[c].
type NormalizeOp struct {
	Scale     float64
	Mean, Std [3]float64
	// ChannelNum is 3, or 4 to append a zero channel (PaddleClas).
	ChannelNum int
}

// Config is a model's preprocessing and label configuration, the parts of a
// PaddleClas / PaddleX inference.yml this package understands. The
// transforms always run in the order decode, resize, crop, normalize,
// layout; a nil Resize, Crop or Normalize skips that step.
type Config struct {
	// ModelName is Global.model_name, if present.
	ModelName string
	// Order is the channel order the model expects. Default RGB.
	Order     ChannelOrder
	Resize    *ResizeOp
	Crop      *CropOp
	Normalize *NormalizeOp
	// CHW is true when ToCHWImage is present: the tensor is NCHW,
	// otherwise NHWC.
	CHW bool
	// Formula is the normalisation arithmetic; ParseConfig leaves the
	// default (PaddleClasFormula). Set PaddleXFormula to match PaddleX's
	// predictor to the last bit.
	Formula Formula
	// TopK is PostProcess.Topk.topk (0 if absent).
	TopK int
	// Labels is PostProcess.Topk.label_list, index = class id.
	Labels []string
	// ClassIDMapFile is PostProcess.Topk.class_id_map_file, if given; it
	// is not read.
	ClassIDMapFile string
	// Ops lists the transform names in file order, for diagnostics.
	Ops []string
}

// ImageNetDefault returns PaddleClas' ImageNet inference preprocessing:
// resize the short side to 256 (bilinear), centre-crop 224x224, x/255,
// mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), RGB, CHW.
func ImageNetDefault() *Config {
	return &Config{
		Order:  RGB,
		Resize: &ResizeOp{ResizeShort: 256, Interp: Linear},
		Crop:   &CropOp{Width: 224, Height: 224},
		Normalize: &NormalizeOp{
			Scale:      1.0 / 255.0,
			Mean:       [3]float64{0.485, 0.456, 0.406},
			Std:        [3]float64{0.229, 0.224, 0.225},
			ChannelNum: 3,
		},
		CHW: true,
		Ops: []string{"DecodeImage", "ResizeImage", "CropImage", "NormalizeImage", "ToCHWImage"},
	}
}

// LoadConfig reads and parses an inference.yml file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("preprocess: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}

// ParseConfig parses a PaddleClas / PaddleX inference.yml (or the
// equivalent JSON). It understands Global.model_name,
// PreProcess.transform_ops (DecodeImage, ResizeImage, CropImage,
// NormalizeImage, ToCHWImage) and PostProcess.Topk; any other transform is
// an error naming it.
func ParseConfig(b []byte) (*Config, error) {
	var doc struct {
		Global struct {
			ModelName string `yaml:"model_name"`
		} `yaml:"Global"`
		PreProcess struct {
			TransformOps []yaml.Node `yaml:"transform_ops"`
		} `yaml:"PreProcess"`
		PostProcess map[string]yaml.Node `yaml:"PostProcess"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("preprocess: parsing config: %v: %w", err, ErrConfig)
	}
	if len(doc.PreProcess.TransformOps) == 0 {
		return nil, fmt.Errorf("preprocess: config has no PreProcess.transform_ops: %w", ErrConfig)
	}
	c := &Config{ModelName: doc.Global.ModelName, Order: RGB}
	stage := 0 // 1 decode, 2 resize, 3 crop, 4 normalize, 5 chw
	for i := range doc.PreProcess.TransformOps {
		n := &doc.PreProcess.TransformOps[i]
		name, args, err := opEntry(n)
		if err != nil {
			return nil, err
		}
		c.Ops = append(c.Ops, name)
		var st int
		switch name {
		case "DecodeImage":
			st = 1
			err = c.parseDecode(args)
		case "ResizeImage":
			st = 2
			err = c.parseResize(args)
		case "CropImage":
			st = 3
			err = c.parseCrop(args)
		case "NormalizeImage":
			st = 4
			err = c.parseNormalize(args)
		case "ToCHWImage":
			st = 5
			c.CHW = true
			err = checkKeys(name, args)
		default:
			return nil, fmt.Errorf("preprocess: unknown transform %q: %w", name, ErrUnsupported)
		}
		if err != nil {
			return nil, err
		}
		if st <= stage {
			return nil, fmt.Errorf("preprocess: transform %q out of order (supported order: DecodeImage, ResizeImage, CropImage, NormalizeImage, ToCHWImage, each once): %w", name, ErrUnsupported)
		}
		stage = st
	}
	if err := c.parsePost(doc.PostProcess); err != nil {
		return nil, err
	}
	return c, nil
}

// opEntry splits a transform_ops item {Name: {args}} or a bare "Name".
func opEntry(n *yaml.Node) (string, map[string]*yaml.Node, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil, nil
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return "", nil, fmt.Errorf("preprocess: transform_ops item at line %d must have exactly one key: %w", n.Line, ErrConfig)
		}
		name := n.Content[0].Value
		v := n.Content[1]
		if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
			return name, nil, nil
		}
		if v.Kind != yaml.MappingNode {
			return "", nil, fmt.Errorf("preprocess: %s: arguments must be a mapping: %w", name, ErrConfig)
		}
		args := map[string]*yaml.Node{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			args[v.Content[i].Value] = v.Content[i+1]
		}
		return name, args, nil
	}
	return "", nil, fmt.Errorf("preprocess: bad transform_ops item at line %d: %w", n.Line, ErrConfig)
}

// checkKeys rejects options other than allowed.
func checkKeys(op string, args map[string]*yaml.Node, allowed ...string) error {
	for k := range args {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("preprocess: %s: unknown option %q: %w", op, k, ErrUnsupported)
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func nodeInt(op, key string, n *yaml.Node) (int, error) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		return 0, fmt.Errorf("preprocess: %s.%s: want an integer, got %q: %w", op, key, n.Value, ErrConfig)
	}
	return v, nil
}

func nodeBool(op, key string, n *yaml.Node) (bool, error) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		return false, fmt.Errorf("preprocess: %s.%s: want a boolean, got %q: %w", op, key, n.Value, ErrConfig)
	}
	return v, nil
}

// nodeSize reads an int or a [w, h] list.
func nodeSize(op, key string, n *yaml.Node) (w, h int, err error) {
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) != 2 {
			return 0, 0, fmt.Errorf("preprocess: %s.%s: want [width, height]: %w", op, key, ErrConfig)
		}
		if w, err = nodeInt(op, key, n.Content[0]); err != nil {
			return 0, 0, err
		}
		if h, err = nodeInt(op, key, n.Content[1]); err != nil {
			return 0, 0, err
		}
	} else {
		if w, err = nodeInt(op, key, n); err != nil {
			return 0, 0, err
		}
		h = w
	}
	if w <= 0 || h <= 0 || w > 1<<16 || h > 1<<16 {
		return 0, 0, fmt.Errorf("preprocess: %s.%s: bad size %dx%d: %w", op, key, w, h, ErrConfig)
	}
	return w, h, nil
}

// nodeFloat reads a number or an arithmetic string such as '1.0/255.0'
// (PaddleClas evaluates the string with Python's eval).
func nodeFloat(op, key string, n *yaml.Node) (float64, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("preprocess: %s.%s: want a number: %w", op, key, ErrConfig)
	}
	v, err := evalNumber(n.Value)
	if err != nil {
		return 0, fmt.Errorf("preprocess: %s.%s: %v: %w", op, key, err, ErrConfig)
	}
	return v, nil
}

// evalNumber evaluates a number or a product/quotient of numbers, left to
// right in float64 like Python ("1.0/255.0", "1/255", "0.00392157").
func evalNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	acc, op, start := 0.0, byte('='), 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '/' && s[i] != '*' {
			continue
		}
		tok := strings.TrimSpace(s[start:i])
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil || tok == "" {
			return 0, fmt.Errorf("cannot evaluate %q", s)
		}
		switch op {
		case '=':
			acc = v
		case '/':
			if v == 0 {
				return 0, fmt.Errorf("division by zero in %q", s)
			}
			acc /= v
		case '*':
			acc *= v
		}
		if i < len(s) {
			op = s[i]
		}
		start = i + 1
	}
	return acc, nil
}

func nodeTriple(op, key string, n *yaml.Node) ([3]float64, error) {
	var out [3]float64
	if n.Kind == yaml.ScalarNode {
		v, err := nodeFloat(op, key, n)
		return [3]float64{v, v, v}, err
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
		return out, fmt.Errorf("preprocess: %s.%s: want 3 numbers: %w", op, key, ErrConfig)
	}
	for i, e := range n.Content {
		v, err := nodeFloat(op, key, e)
		if err != nil {
			return out, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *Config) parseDecode(args map[string]*yaml.Node) error {
	const op = "DecodeImage"
	if err := checkKeys(op, args, "to_rgb", "to_np", "channel_first"); err != nil {
		return err
	}
	if n := args["to_rgb"]; !isNull(n) {
		rgb, err := nodeBool(op, "to_rgb", n)
		if err != nil {
			return err
		}
		if !rgb {
			c.Order = BGR
		}
	}
	if n := args["channel_first"]; !isNull(n) {
		cf, err := nodeBool(op, "channel_first", n)
		if err != nil {
			return err
		}
		if cf {
			return fmt.Errorf("preprocess: DecodeImage.channel_first: true is not supported (use ToCHWImage): %w", ErrUnsupported)
		}
	}
	return nil
}

func (c *Config) parseResize(args map[string]*yaml.Node) error {
	const op = "ResizeImage"
	if err := checkKeys(op, args, "size", "resize_short", "interpolation", "backend", "return_numpy"); err != nil {
		return err
	}
	r := &ResizeOp{Interp: Linear}
	if n := args["resize_short"]; !isNull(n) {
		v, err := nodeInt(op, "resize_short", n)
		if err != nil {
			return err
		}
		if v > 1<<16 {
			return fmt.Errorf("preprocess: ResizeImage.resize_short %d too large: %w", v, ErrConfig)
		}
		r.ResizeShort = v
	}
	if r.ResizeShort <= 0 {
		n := args["size"]
		if isNull(n) {
			return fmt.Errorf("preprocess: ResizeImage needs size or resize_short: %w", ErrConfig)
		}
		w, h, err := nodeSize(op, "size", n)
		if err != nil {
			return err
		}
		r.ResizeShort, r.Width, r.Height = 0, w, h
	}
	if n := args["interpolation"]; !isNull(n) {
		switch strings.ToLower(n.Value) {
		case "bilinear", "linear":
			r.Interp = Linear
		case "nearest":
			r.Interp = Nearest
		default:
			return fmt.Errorf("preprocess: ResizeImage.interpolation %q: %w", n.Value, ErrUnsupported)
		}
	}
	if n := args["backend"]; !isNull(n) && strings.ToLower(n.Value) != "cv2" {
		return fmt.Errorf("preprocess: ResizeImage.backend %q (only cv2 is reproduced): %w", n.Value, ErrUnsupported)
	}
	c.Resize = r
	return nil
}

func (c *Config) parseCrop(args map[string]*yaml.Node) error {
	const op = "CropImage"
	if err := checkKeys(op, args, "size"); err != nil {
		return err
	}
	w, h := 224, 224
	if n := args["size"]; !isNull(n) {
		var err error
		if w, h, err = nodeSize(op, "size", n); err != nil {
			return err
		}
	}
	c.Crop = &CropOp{Width: w, Height: h}
	return nil
}

func (c *Config) parseNormalize(args map[string]*yaml.Node) error {
	const op = "NormalizeImage"
	if err := checkKeys(op, args, "scale", "mean", "std", "order", "channel_num", "output_fp16"); err != nil {
		return err
	}
	nm := &NormalizeOp{
		Scale:      1.0 / 255.0,
		Mean:       [3]float64{0.485, 0.456, 0.406},
		Std:        [3]float64{0.229, 0.224, 0.225},
		ChannelNum: 3,
	}
	var err error
	if n := args["scale"]; !isNull(n) {
		if nm.Scale, err = nodeFloat(op, "scale", n); err != nil {
			return err
		}
	}
	if n := args["mean"]; !isNull(n) {
		if nm.Mean, err = nodeTriple(op, "mean", n); err != nil {
			return err
		}
	}
	if n := args["std"]; !isNull(n) {
		if nm.Std, err = nodeTriple(op, "std", n); err != nil {
			return err
		}
		for _, s := range nm.Std {
			if s == 0 {
				return fmt.Errorf("preprocess: NormalizeImage.std has a zero: %w", ErrConfig)
			}
		}
	}
	if n := args["order"]; !isNull(n) {
		switch strings.ToLower(n.Value) {
		case "", "hwc", "chw":
			// The normalisation is per channel; the order only says
			// where the channel axis is, which this package tracks
			// itself.
		default:
			return fmt.Errorf("preprocess: NormalizeImage.order %q: %w", n.Value, ErrConfig)
		}
	}
	if n := args["channel_num"]; !isNull(n) {
		if nm.ChannelNum, err = nodeInt(op, "channel_num", n); err != nil {
			return err
		}
		if nm.ChannelNum != 3 && nm.ChannelNum != 4 {
			return fmt.Errorf("preprocess: NormalizeImage.channel_num %d (want 3 or 4): %w", nm.ChannelNum, ErrConfig)
		}
	}
	if n := args["output_fp16"]; !isNull(n) {
		fp16, err := nodeBool(op, "output_fp16", n)
		if err != nil {
			return err
		}
		if fp16 {
			return fmt.Errorf("preprocess: NormalizeImage.output_fp16: %w", ErrUnsupported)
		}
	}
	c.Normalize = nm
	return nil
}

func (c *Config) parsePost(post map[string]yaml.Node) error {
	n, ok := post["Topk"]
	if !ok || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "topk":
			t, err := nodeInt("Topk", k, v)
			if err != nil {
				return err
			}
			c.TopK = t
		case "label_list":
			if isNull(v) {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				return fmt.Errorf("preprocess: Topk.label_list: want a list: %w", ErrConfig)
			}
			c.Labels = make([]string, len(v.Content))
			for j, e := range v.Content {
				if e.Kind != yaml.ScalarNode {
					return fmt.Errorf("preprocess: Topk.label_list[%d]: want a scalar: %w", j, ErrConfig)
				}
				c.Labels[j] = e.Value
			}
		case "class_id_map_file":
			c.ClassIDMapFile = v.Value
		}
	}
	return nil
}

// Channels returns the number of channels of the output tensor (3, or 4
// with NormalizeImage channel_num 4).
func (c *Config) Channels() int {
	if c.Normalize != nil && c.Normalize.ChannelNum == 4 {
		return 4
	}
	return 3
}

// InputSize returns the fixed (height, width) of the model input, or
// (0, 0) when it depends on the image (resize_short without a crop, or no
// resize at all).
func (c *Config) InputSize() (h, w int) {
	if c.Crop != nil {
		return c.Crop.Height, c.Crop.Width
	}
	if c.Resize != nil && c.Resize.ResizeShort <= 0 {
		return c.Resize.Height, c.Resize.Width
	}
	return 0, 0
}

// OutputSize returns the (height, width) of the tensor made from a w x h
// image, or an error if the crop does not fit.
func (c *Config) OutputSize(w, h int) (oh, ow int, err error) {
	if c.Resize != nil {
		w, h = c.Resize.TargetSize(w, h)
		if w <= 0 || h <= 0 {
			return 0, 0, fmt.Errorf("preprocess: resized size %dx%d: %w", w, h, ErrBadSize)
		}
	}
	if c.Crop != nil {
		if w < c.Crop.Width || h < c.Crop.Height {
			return 0, 0, fmt.Errorf("preprocess: image %dx%d (after resize) smaller than crop %dx%d: %w", w, h, c.Crop.Width, c.Crop.Height, ErrBadSize)
		}
		return c.Crop.Height, c.Crop.Width, nil
	}
	if int64(w)*int64(h) > DefaultMaxPixels {
		// resize_short on an extreme aspect ratio without a crop.
		return 0, 0, fmt.Errorf("preprocess: output would be %dx%d: %w", w, h, ErrTooLarge)
	}
	return h, w, nil
}
