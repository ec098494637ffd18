package main

import (
	"fmt"

	"github.com/lcnet-go/lcnet"
	"github.com/spf13/pflag"
)

type modelFlags struct {
	model   string
	backend string
	threads int
	seed    uint64
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&m.model, "model", "m", "pplcnet_x1_0", "built-in name (pplcnet_x0_25 ... pplcnet_x2_5) or model file/directory")
	fs.StringVar(&m.backend, "backend", "auto", "auto, dnnl or go")
	fs.IntVar(&m.threads, "threads", 1, "intra-op threads per oneDNN instance")
	fs.Uint64Var(&m.seed, "seed", lcnet.DefaultSeed, "seed of a built-in model's synthetic weights")
}

func (m *modelFlags) open(instances int) (*lcnet.Model, error) {
	be, err := lcnet.ParseBackend(m.backend)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if m.threads < 1 || m.threads > 1024 {
		return nil, fmt.Errorf("%w: --threads %d must be in [1, 1024]", errUsage, m.threads)
	}
	return lcnet.Open(m.model, &lcnet.OpenOptions{
		Options: lcnet.Options{Backend: be, Threads: m.threads, MaxInstances: instances},
		Seed:    m.seed,
	})
}
