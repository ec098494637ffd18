package main

import (
	"fmt"

	"github.com/lcnet-go/lcnet"
	"github.com/spf13/pflag"
)

// modelFlags are the flags every command that opens a model shares.
type modelFlags struct {
	model    string
	backend  string
	threads  int
	seed     uint64
	inputH   int
	inputW   int
	textLine bool
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&m.model, "model", "m", "", "built-in name (pplcnet_x0_25 ... pplcnet_x2_5) or model file/directory")
	fs.StringVar(&m.backend, "backend", "auto", "auto, dnnl or go")
	fs.IntVar(&m.threads, "threads", 1, "intra-op threads per oneDNN instance")
	fs.Uint64Var(&m.seed, "seed", lcnet.DefaultSeed, "seed of a built-in model's synthetic weights")
	fs.IntVar(&m.inputH, "input-h", 0, "input height where the model does not fix it")
	fs.IntVar(&m.inputW, "input-w", 0, "input width where the model does not fix it")
	fs.BoolVar(&m.textLine, "textline", false, "weights-only files: build the PULC text-line variant (80x160, (2,1) strides)")
}

// open opens the model with at most instances instances running at once
// (0: one per core).
func (m *modelFlags) open(instances int) (*lcnet.Model, error) {
	if m.model == "" {
		return nil, fmt.Errorf("%w: --model is required", errUsage)
	}
	be, err := lcnet.ParseBackend(m.backend)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if m.threads < 1 || m.threads > 1024 {
		return nil, fmt.Errorf("%w: --threads %d must be in [1, 1024]", errUsage, m.threads)
	}
	return lcnet.Open(m.model, &lcnet.OpenOptions{
		Options: lcnet.Options{Backend: be, Threads: m.threads, MaxInstances: instances},
		Seed:    m.seed, InputH: m.inputH, InputW: m.inputW, TextLine: m.textLine,
	})
}

// parse parses flags, turning pflag's errors into usage errors.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
