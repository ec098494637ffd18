package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/lcnet-go/lcnet"
	"github.com/spf13/pflag"
)

type infoJSON struct {
	Model   string        `json:"model"`
	Input   []int         `json:"input"`
	Output  []int         `json:"output"`
	Params  int64         `json:"params"`
	MACs    int64         `json:"macs"`
	FLOPs   int64         `json:"flops"`
	Backend string        `json:"backend"`
	ISA     string        `json:"isa,omitempty"`
	Layers  []lcnet.Layer `json:"layers"`
}

func runInfo(args []string, stdout, _ io.Writer) error {
	fs := pflag.NewFlagSet("info", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := mf.open(0)
	if err != nil {
		return err
	}
	defer m.Close()
	c := m.Counts()
	info := infoJSON{Model: mf.model, Input: m.InputShape(), Output: m.OutputShape(), Params: c.Params, MACs: c.MACs,
		FLOPs: c.FLOPs, Backend: m.Backend(), ISA: lcnet.DNNLISA(), Layers: m.Layers()}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	tw := tabwriter.NewWriter(stdout, 2, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tlayer\top\toutput\tparams\tMACs\tbackend")
	for i, l := range info.Layers {
		be := l.Backend
		if l.Impl != "" {
			be += " " + l.Impl
		}
		if l.Why != "" {
			be += " (" + l.Why + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%d\t%d\t%s\n", i, l.Name, l.Op, l.Shape, l.Params, l.MACs, be)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nmodel %s: input %v, output %v\n", info.Model, info.Input, info.Output)
	fmt.Fprintf(stdout, "params %.3fM, MACs %.2fM, FLOPs %.2fM (Paddle's counting rule)\n",
		float64(c.Params)/1e6, float64(c.MACs)/1e6, float64(c.FLOPs)/1e6)
	fmt.Fprintf(stdout, "backend %s", info.Backend)
	if info.ISA != "" {
		fmt.Fprintf(stdout, " (oneDNN ISA %s)", info.ISA)
	}
	fmt.Fprintln(stdout)
	return nil
}
