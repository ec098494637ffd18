// Command lcnet-bench reproduces the PP-LCNet paper's numbers on this CPU.
//
//	lcnet-bench table   [--json]         params, MACs, FLOPs of the 8 scales beside the paper's
//	lcnet-bench latency --model M [--backend B] [--threads N] [--runs R] [--warmup W]
//	                    [--batch B] [--concurrency C] [--json]
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
	run     func(args []string, stdout io.Writer) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"table":   {"params, MACs and FLOPs of the 8 paper scales next to the paper's columns", runTable},
		"latency": {"batch latency (median, min, max) and images/s of one model", runLatency},
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
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"table"}
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
	if err := c.run(args[1:], stdout); err != nil {
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
