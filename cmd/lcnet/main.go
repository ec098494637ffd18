// Command lcnet inspects and runs PP-LCNet models.
//
//	lcnet info       --model M [--json]
//	lcnet infer      --model M --input in.npy --output out.npy [--backend B] [--threads N]
//	lcnet classify   --model M [--topk K] [--json] [--labels FILE] PATH...
//	lcnet preprocess --model M --output x.npy IMAGE...
//	lcnet export     --model M --format onnx|safetensors --output F
//
// M is a built-in name (pplcnet_x0_25 ... pplcnet_x2_5, synthetic weights
// from --seed) or a model file or directory.
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

var commands = map[string]command{
	"info":       {"print the layer table, params, MACs, FLOPs and backends", runInfo},
	"infer":      {"run a .npy batch through the model and write a .npy", runInfer},
	"classify":   {"classify image files and folders (top-k labels, text or JSON)", runClassify},
	"preprocess": {"write the tensor the model receives for images as .npy", runPreprocess},
	"export":     {"write the model as ONNX (or safetensors)", runExport},
	"quantize":   {"calibrate on images and write an int8 model (ONNX + calibration table)", runQuantize},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lcnet <command> [flags]\n\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'lcnet <command> --help' for its flags.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks errors whose message is the whole story (flag errors).
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lcnet: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(args[1:], stdout, stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "lcnet "+args[0]+": "+strings.TrimPrefix(err.Error(), "lcnet: "))
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}
