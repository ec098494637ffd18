package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/preprocess"
	"github.com/spf13/pflag"
)

// runQuantize calibrates a model on a folder of images (preprocessed with
// the model's own preprocessing) and writes an int8 model: ONNX with the
// calibration table in metadata_props "lcnet.int8".
func runQuantize(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("quantize", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lcnet quantize --model M --calib DIR --output M8.onnx [--max-images N] [--holdout F] [--percentile P] [--fp32 n1,n2] [--sensitivity=false] [--min-agreement A] [--eval DIR]...")
		fs.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fs)
	calib := fs.String("calib", "", "folder of calibration images (required)")
	output := fs.String("output", "", "int8 model file to write (ONNX, required)")
	maxImages := fs.Int("max-images", 200, "use at most this many calibration images (a deterministic sample)")
	holdout := fs.Float64("holdout", 0, "fraction of the images kept out of calibration and used to compare int8 with fp32")
	percentile := fs.Float64("percentile", 0, "range = this percentile of |x| instead of the max (e.g. 99.99); 0 = max-abs")
	keep := fs.StringSlice("fp32", nil, "node names (see lcnet info) to keep in fp32, comma-separated")
	sens := fs.Bool("sensitivity", true, "move the int8 layers that cost agreement with fp32 to fp32 until --min-agreement is met (on the held-out images, or the calibration images without --holdout)")
	minAgree := fs.Float64("min-agreement", 0.99, "sensitivity target: top-1 agreement of int8 with fp32")
	maxEvals := fs.Int("max-evals", 100, "sensitivity: cap on int8 models built and evaluated")
	evalDirs := fs.StringArray("eval", nil, "also compare int8 with fp32 on the images of this folder (repeatable)")
	maxPixels := fs.Int64("max-pixels", preprocess.DefaultMaxPixels, "largest image (width×height) accepted")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *calib == "" || *output == "" {
		return fmt.Errorf("%w: --calib and --output are required", errUsage)
	}
	if *holdout < 0 || *holdout >= 1 || *maxImages < 1 {
		return fmt.Errorf("%w: --holdout must be in [0, 1) and --max-images >= 1", errUsage)
	}
	m, err := mf.open(0)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg, err := m.PreprocessConfig()
	if err != nil {
		return err
	}
	pp := cfg.NewPreprocessor()
	in := m.InputShape()
	per := in[0] * in[1] * in[2]
	xs, err := loadTensors(*calib, pp, per, *maxPixels, stderr)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	nh := int(float64(len(xs)) * *holdout)
	held, cal := xs[:nh], xs[nh:]
	if len(cal) == 0 {
		return fmt.Errorf("no calibration images left after --holdout %.2f", *holdout)
	}
	if len(cal) > *maxImages {
		cal = cal[:*maxImages]
	}
	table, err := m.Calibrate(cal, &lcnet.CalibrateOptions{Percentile: *percentile, FP32: *keep})
	if err != nil {
		return err
	}
	if *sens {
		set, what := held, "held-out calibration images"
		if len(set) == 0 {
			set, what = cal, "calibration images"
		}
		t, rep, err := m.Sensitivity(table, set, &lcnet.SensitivityOptions{MinAgreement: *minAgree, MaxEvals: *maxEvals, Threads: mf.threads})
		if err != nil {
			return err
		}
		switch {
		case rep.Note != "":
			fmt.Fprintf(stderr, "lcnet quantize: sensitivity not measured: %s\n", rep.Note)
		default:
			fmt.Fprintf(stdout, "sensitivity on %d %s: all eligible int8 %v\n", len(set), what, rep.Before)
			if len(rep.FP32) > 0 {
				fmt.Fprintf(stdout, "  kept in fp32 (%d): %s\n", len(rep.FP32), strings.Join(rep.FP32, ","))
				fmt.Fprintf(stdout, "  then %v\n", rep.After)
			}
			if !rep.Met {
				fmt.Fprintf(stderr, "lcnet quantize: target agreement %.4f not met after %d evaluations\n", *minAgree, rep.Evals)
			}
		}
		table = t
	}
	if err := m.SaveInt8(*output, table); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "calibrated on %d images (%s), %d of %d nodes int8; wrote %s\n",
		len(cal), table.Method, len(table.Int8Nodes()), len(table.Nodes), *output)
	if len(held) == 0 && len(*evalDirs) == 0 {
		return nil
	}
	q, err := lcnet.Load(*output, &lcnet.OpenOptions{Options: lcnet.Options{Threads: mf.threads}})
	if err != nil {
		return err
	}
	defer q.Close()
	if on, note := q.Int8(); !on {
		fmt.Fprintf(stderr, "lcnet quantize: %s\n", note)
	}
	sets := []struct {
		name string
		xs   [][]float32
	}{}
	if len(held) > 0 {
		sets = append(sets, struct {
			name string
			xs   [][]float32
		}{"held-out calibration images", held})
	}
	for _, d := range *evalDirs {
		e, err := loadTensors(d, pp, per, *maxPixels, stderr)
		if err != nil {
			return err
		}
		sets = append(sets, struct {
			name string
			xs   [][]float32
		}{d, e})
	}
	for _, set := range sets {
		agree, worst := 0, 0.0
		for _, x := range set.xs {
			a, err := m.Run(x, 1)
			if err != nil {
				return err
			}
			b, err := q.Run(x, 1)
			if err != nil {
				return err
			}
			if argmaxOf(a) == argmaxOf(b) {
				agree++
			}
			for i := range a {
				worst = max(worst, float64(abs32(a[i]-b[i])))
			}
		}
		fmt.Fprintf(stdout, "%s: %d images, top-1 agreement %.2f%% (%d/%d), max |p_int8 - p_fp32| %.4f\n",
			set.name, len(set.xs), 100*float64(agree)/float64(len(set.xs)), agree, len(set.xs), worst)
	}
	return nil
}

// loadTensors decodes and preprocesses the images of dir (sorted by name);
// unreadable files are skipped with a message, none readable is an error.
func loadTensors(dir string, pp *preprocess.Preprocessor, per int, maxPixels int64, stderr io.Writer) ([][]float32, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("calibration folder: %w", err)
	}
	var paths []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("calibration folder %s has no files", dir)
	}
	var xs [][]float32
	var skipped int
	for _, p := range paths {
		img, err := preprocess.DecodeFile(p, preprocess.Limits{MaxPixels: maxPixels})
		if err != nil {
			skipped++
			fmt.Fprintf(stderr, "lcnet quantize: skipping %s: %v\n", p, err)
			continue
		}
		x := make([]float32, per)
		if n, err := pp.Len(img.W, img.H); err != nil || n != per {
			skipped++
			fmt.Fprintf(stderr, "lcnet quantize: skipping %s: preprocesses to %d values, want %d (%v)\n", p, n, per, err)
			continue
		}
		if err := pp.Into(x, img); err != nil {
			skipped++
			fmt.Fprintf(stderr, "lcnet quantize: skipping %s: %v\n", p, err)
			continue
		}
		xs = append(xs, x)
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("calibration folder %s: none of its %d files is a readable image", dir, len(paths))
	}
	return xs, nil
}

func argmaxOf(x []float32) int {
	b := 0
	for i, v := range x {
		if v > x[b] {
			b = i
		}
	}
	return b
}

func abs32(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}
