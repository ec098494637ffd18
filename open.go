package lcnet

import (
	"fmt"
	"os"
	"strings"

	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// DefaultSeed seeds the synthetic weights of built-in models when no seed
// is given, so that every tool agrees on "pplcnet_x1_0".
const DefaultSeed = 1

// OpenOptions configure Open.
type OpenOptions struct {
	Options
	// Seed for the synthetic weights of built-in models (DefaultSeed if 0).
	Seed uint64
	// InputH, InputW set the input size where the file does not fix it
	// (dynamic dims, or weights-only files). 0 means the model's default.
	InputH, InputW int
	// TextLine builds weights-only files (.pdparams, safetensors) with the
	// PULC text-line strides and 80×160 input.
	TextLine bool
	// MaxBytes refuses a model file, or a parameter file beside it,
	// larger than this many bytes (DefaultMaxBytes if 0), with an error
	// wrapping ErrTooLarge. The importers check what a file declares
	// against the bytes present before allocating, so loading allocates a
	// small multiple of the files' size: MaxBytes bounds the memory an
	// untrusted model can make Load use.
	MaxBytes int64
}

// DefaultMaxBytes is the default OpenOptions.MaxBytes: 1 GiB, well above
// the largest PP-LCNet (x2.5, about 36 MB of weights).
const DefaultMaxBytes = 1 << 30

func (o *OpenOptions) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Open returns a model from a built-in name (pplcnet_x0_25 ...
// pplcnet_x2_5) or from a model file or directory, recognised by content.
func Open(spec string, o *OpenOptions) (*Model, error) {
	var opts OpenOptions
	if o != nil {
		opts = *o
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if s, ok := pplcnet.Names()[spec]; ok {
		c := pplcnet.Default(s)
		if opts.InputH > 0 && opts.InputW > 0 {
			c.InputH, c.InputW = opts.InputH, opts.InputW
		}
		return Build(c, opts.Seed, &opts.Options)
	}
	if _, err := os.Stat(spec); err != nil {
		if strings.HasPrefix(spec, "pplcnet") {
			return nil, fmt.Errorf("lcnet: unknown model name %q (built-in: %s)", spec, strings.Join(BuiltInNames(), ", "))
		}
		return nil, fmt.Errorf("lcnet: model %q is neither a built-in name nor a file: %w", spec, err)
	}
	return Load(spec, &opts)
}

// BuiltInNames lists the built-in model names in scale order.
func BuiltInNames() []string {
	var names []string
	for _, s := range pplcnet.Scales {
		names = append(names, pplcnet.NameOf(s))
	}
	return names
}
