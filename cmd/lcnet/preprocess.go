package main

import (
	"fmt"
	"io"

	"github.com/lcnet-go/lcnet/internal/npy"
	"github.com/lcnet-go/lcnet/preprocess"
	"github.com/spf13/pflag"
)

func runPreprocess(args []string, stdout, _ io.Writer) error {
	fs := pflag.NewFlagSet("preprocess", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lcnet preprocess --model M --output x.npy IMAGE...\n\n"+
			"Writes the float32 NCHW batch the model receives for the images (the preprocessing\n"+
			"lcnet classify applies: the model's inference.yml, else the ImageNet default).\n\nflags:")
		fs.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fs)
	outPath := fs.StringP("output", "o", "", "output .npy: float32 [N, C, H, W]")
	maxPixels := fs.Int64("max-pixels", preprocess.DefaultMaxPixels, "largest image (width×height) accepted")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *outPath == "" {
		return fmt.Errorf("%w: --output is required", errUsage)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no images given", errUsage)
	}
	if *maxPixels < 1 {
		return fmt.Errorf("%w: --max-pixels must be positive", errUsage)
	}
	mf.backend = "go" // the weights are not run
	m, err := mf.open(0)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg, err := m.PreprocessConfig()
	if err != nil {
		return err
	}
	in := m.InputShape()
	per := in[0] * in[1] * in[2]
	pp := cfg.NewPreprocessor()
	x := &npy.Array{Shape: append([]int{fs.NArg()}, in...), Data: make([]float32, fs.NArg()*per)}
	for i, p := range fs.Args() {
		img, err := preprocess.DecodeFile(p, preprocess.Limits{MaxPixels: *maxPixels})
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if n, err := pp.Len(img.W, img.H); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		} else if n != per {
			return fmt.Errorf("%s: a %dx%d image preprocesses to %d values, the model takes %v", p, img.W, img.H, n, in)
		}
		if err := pp.Into(x.Data[i*per:(i+1)*per], img); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := npy.WriteFile(*outPath, x); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: float32 %v (%s, %s)\n", *outPath, x.Shape, describeConfig(cfg), cfg.Order)
	return nil
}

// describeConfig summarises a preprocessing config in one phrase.
func describeConfig(c *preprocess.Config) string {
	s := ""
	if r := c.Resize; r != nil {
		if r.ResizeShort > 0 {
			s = fmt.Sprintf("resize short side %d", r.ResizeShort)
		} else {
			s = fmt.Sprintf("resize %dx%d", r.Width, r.Height)
		}
		s += " " + r.Interp.String()
	}
	if c.Crop != nil {
		s += fmt.Sprintf(", crop %dx%d", c.Crop.Width, c.Crop.Height)
	}
	if n := c.Normalize; n != nil {
		s += fmt.Sprintf(", (x*%.6g-mean)/std", n.Scale)
	}
	return s
}
