package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
	"github.com/lcnet-go/lcnet/graph/safetensors"
	"github.com/spf13/pflag"
)

func runExport(args []string, stdout, _ io.Writer) error {
	fs := pflag.NewFlagSet("export", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lcnet export --model M --format onnx|safetensors --output F [--opset N]\n\n"+
			"Writes the model's network as built or imported (before lcnet's optimisations).\n\nflags:")
		fs.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fs)
	format := fs.StringP("format", "f", "onnx", "onnx or safetensors")
	outPath := fs.StringP("output", "o", "", "output file")
	opset := fs.Int("opset", 13, "ONNX opset, 7-17")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *outPath == "" {
		return fmt.Errorf("%w: --output is required", errUsage)
	}
	var write func(g *graph.Graph, w io.Writer) error
	switch *format {
	case "onnx":
		if *opset < 7 || *opset > 17 {
			return fmt.Errorf("%w: --opset %d must be in [7, 17]", errUsage, *opset)
		}
		write = func(g *graph.Graph, w io.Writer) error {
			return onnx.Export(g, w, onnx.ExportOptions{Opset: *opset})
		}
	case "safetensors":
		write = safetensors.Write
	default:
		return fmt.Errorf("%w: --format %q: want onnx or safetensors", errUsage, *format)
	}
	mf.backend = "go" // only the graph is needed
	m, err := mf.open(0)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := writeFileAtomic(*outPath, func(w io.Writer) error { return write(m.Graph(), w) }); err != nil {
		return err
	}
	st, err := os.Stat(*outPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %d bytes, input %v, output %v\n", *outPath, *format, st.Size(), m.InputShape(), m.OutputShape())
	if *format == "safetensors" {
		fmt.Fprintln(stdout, "note: safetensors holds weights only (timm layout, logits): the input size and the strides are not recorded;\n"+
			"      load a text-line model back with --textline, other sizes with --input-h/--input-w")
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same folder
// renamed into place, so that a failed export leaves no partial file.
func writeFileAtomic(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
