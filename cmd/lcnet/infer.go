package main

import (
	"fmt"
	"io"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/npy"
	"github.com/spf13/pflag"
)

func runInfer(args []string, stdout, _ io.Writer) error {
	fs := pflag.NewFlagSet("infer", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	inPath := fs.StringP("input", "i", "", "input .npy: float32 [N,C,H,W] or [C,H,W]")
	outPath := fs.StringP("output", "o", "", "output .npy (omit to print the values)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *inPath == "" {
		return fmt.Errorf("%w: --input is required", errUsage)
	}
	x, err := npy.ReadFile(*inPath)
	if err != nil {
		return err
	}
	m, err := mf.open(0)
	if err != nil {
		return err
	}
	defer m.Close()
	batch, err := batchOf(x.Shape, m.InputShape())
	if err != nil {
		return fmt.Errorf("%s: %w", *inPath, err)
	}
	y, err := m.Run(x.Data, batch)
	if err != nil {
		return err
	}
	out := &npy.Array{Shape: append([]int{batch}, m.OutputShape()...), Data: y}
	if *outPath == "" {
		return printArray(stdout, out)
	}
	return npy.WriteFile(*outPath, out)
}

// batchOf checks an input array's shape against the model's per-sample
// shape and returns the batch size.
func batchOf(shape, want []int) (int, error) {
	switch {
	case graph.SameShape(shape, want):
		return 1, nil
	case len(shape) == len(want)+1 && graph.SameShape(shape[1:], want) && shape[0] > 0:
		return shape[0], nil
	}
	return 0, fmt.Errorf("%w: input shape %v does not match the model's [N %v]", lcnet.ErrInput, shape, want)
}

func printArray(w io.Writer, a *npy.Array) error {
	per := 1
	for _, d := range a.Shape[1:] {
		per *= d
	}
	for n := 0; n < a.Shape[0]; n++ {
		row := a.Data[n*per : (n+1)*per]
		fmt.Fprint(w, "[")
		for i, v := range row {
			if i > 0 {
				fmt.Fprint(w, ", ")
			}
			fmt.Fprintf(w, "%.8g", v)
		}
		fmt.Fprintln(w, "]")
	}
	return nil
}
