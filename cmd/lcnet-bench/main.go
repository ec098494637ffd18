// Command lcnet-bench reproduces the PP-LCNet paper's numbers on this CPU.
//
//	lcnet-bench [paper] [--scales 0.25,1.0] [--backend auto|dnnl|go|all] [--threads 1,2]
//	                    [--runs R] [--warmup W] [--batch B] [--json | --format benchstat]
//	                    [--plot FILE.png|.svg] [--peer onnxruntime=PATH/libonnxruntime.so.1]
//	lcnet-bench ablation [--backend B] [--threads N,...] [--runs R] [--warmup W] [--json | --format benchstat]
//	lcnet-bench table   [--json]         params, MACs, FLOPs of the 8 scales beside the paper's
//	lcnet-bench latency --model M [--backend B] [--threads N] [--runs R] [--warmup W]
//	                    [--batch B] [--concurrency C] [--json] [--peer onnxruntime=PATH]
//	lcnet-bench layers  --model M [--backend B] [--threads N] [--runs R] [--batch B] [--json]
//	lcnet-bench load    --model M [--backend B] [--threads N] [--runs R]   open + first run, fresh processes
//	                    the time of each step of a run (oneDNN primitive, own kernel, Go segment)
//
// With no arguments it runs "paper": the paper's main table with our
// measured batch-1 latency on the default backend at one thread.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"paper":    {"the paper's main table with latency measured on this CPU (default command)", runPaper},
		"ablation": {"the paper's 11 ablation rows at x0.5, measured on this CPU", runAblation},
		"table":    {"params, MACs and FLOPs of the 8 paper scales next to the paper's columns", runTable},
		"latency":  {"batch latency (median, min, max) and images/s of one model", runLatency},
		"layers":   {"where the time of one model's run goes, step by step", runLayers},
		"load":     {"open + first run of one model, each in a fresh process", runLoad},
	}
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lcnet-bench <command> [flags]\n\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nWith no command (or only flags) it runs paper. 'lcnet-bench <command> --help' lists a command's flags.")
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" {
		args = append([]string{"paper"}, args...)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lcnet-bench: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(args[1:], stdout, stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "lcnet-bench "+args[0]+": "+strings.TrimPrefix(err.Error(), "lcnet: "))
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
