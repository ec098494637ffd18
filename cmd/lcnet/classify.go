package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/labels"
	"github.com/lcnet-go/lcnet/preprocess"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// classifyResult is one line of `lcnet classify --json`.
type classifyResult struct {
	File  string             `json:"file"`
	Top   []lcnet.Prediction `json:"top,omitempty"`
	Error string             `json:"error,omitempty"`
}

func runClassify(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("classify", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lcnet classify --model M [--topk K] [--json] [--labels FILE] [--batch B] PATH...\n\n"+
			"Classifies image files; folders are walked recursively. Files that are not images\n"+
			"(by content), corrupt, truncated, empty or over the limits are reported with the\n"+
			"reason and make the exit status 1; the others are still classified.\n\nflags:")
		fs.PrintDefaults()
	}
	var mf modelFlags
	mf.register(fs)
	topk := fs.IntP("topk", "k", 0, "predictions per image (0: the model's inference.yml topk, else 5)")
	asJSON := fs.Bool("json", false, "print a JSON list of {file, top: [{label, id, score}], error}")
	labelsPath := fs.String("labels", "", "class names: one per line, or PaddleClas \"id name\" lines")
	batch := fs.IntP("batch", "b", 8, "images per model run")
	workers := fs.IntP("workers", "j", runtime.GOMAXPROCS(0), "goroutines decoding, preprocessing and running batches")
	maxPixels := fs.Int64("max-pixels", preprocess.DefaultMaxPixels, "largest image (width×height) accepted")
	maxBytes := fs.Int64("max-bytes", preprocess.DefaultMaxBytes, "largest image file accepted")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (for folders, when stderr is a terminal), always, never")
	stats := fs.Bool("stats", false, "print throughput and per-stage times to stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no image files or folders given", errUsage)
	}
	switch {
	case *batch < 1 || *batch > 4096:
		return fmt.Errorf("%w: --batch %d must be in [1, 4096]", errUsage, *batch)
	case *workers < 1 || *workers > 1024:
		return fmt.Errorf("%w: --workers %d must be in [1, 1024]", errUsage, *workers)
	case *topk < 0:
		return fmt.Errorf("%w: --topk %d must not be negative", errUsage, *topk)
	case *maxPixels < 1 || *maxBytes < 1:
		return fmt.Errorf("%w: --max-pixels and --max-bytes must be positive", errUsage)
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		return fmt.Errorf("%w: --progress %q: want auto, always or never", errUsage, *progress)
	}
	var names []string
	if *labelsPath != "" {
		var err error
		if names, err = labels.ReadFile(*labelsPath); err != nil {
			return err
		}
	}
	entries, anyDir := expandPaths(fs.Args())

	start := time.Now()
	m, err := mf.open(max(1, min(*workers, runtime.GOMAXPROCS(0)/mf.threads))) // one instance per worker
	if err != nil {
		return err
	}
	defer m.Close()
	if names != nil {
		if len(names) != m.NumClasses() {
			return fmt.Errorf("%s has %d labels, the model has %d classes", *labelsPath, len(names), m.NumClasses())
		}
		m.Labels = names
	}
	if _, err := m.PreprocessConfig(); err != nil {
		return err
	}
	loaded := time.Now()

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	out := &resultWriter{w: w, json: *asJSON}
	var bar *progressbar.ProgressBar
	stderrTerm := false
	if f, ok := stderr.(*os.File); ok {
		stderrTerm = term.IsTerminal(int(f.Fd()))
	}
	if *progress == "always" || (*progress == "auto" && anyDir && stderrTerm) {
		bar = progressbar.NewOptions(len(entries),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("classifying"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("img"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetVisibility(true))
		// Lines on the same terminal would tear the bar: clear it first.
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			out.before = func() { w.Flush(); bar.Clear() }
		}
	}

	// Files the walk already failed on are reported in their place.
	var paths []string
	var index []int // paths[j] is entries[index[j]]
	for i, e := range entries {
		if e.err == nil {
			paths = append(paths, e.path)
			index = append(index, i)
		}
	}
	failed, next := 0, 0
	flushTo := func(i int) error {
		for ; next < i; next++ {
			if e := entries[next]; e.err != nil {
				failed++
				if err := out.write(e.path, nil, e.err); err != nil {
					return err
				}
				if bar != nil {
					bar.Add(1)
				}
			}
		}
		return nil
	}
	st, err := m.ClassifyFiles(context.Background(), paths,
		&lcnet.ClassifyOptions{TopK: *topk, Batch: *batch, Workers: *workers,
			Limits: preprocess.Limits{MaxPixels: *maxPixels, MaxBytes: *maxBytes}},
		func(r lcnet.FileResult) error {
			if err := flushTo(index[r.Index]); err != nil {
				return err
			}
			next++
			if r.Err != nil {
				failed++
			}
			if bar != nil {
				bar.Add(1)
			}
			return out.write(r.Path, r.Top, r.Err)
		})
	if err == nil {
		err = flushTo(len(entries))
	}
	if err == nil {
		err = out.close()
	}
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if *stats {
		printStats(stderr, st, loaded.Sub(start), time.Since(loaded))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be classified", failed, len(entries))
	}
	return nil
}

type pathEntry struct {
	path string
	err  error // set when the walk failed here
}

// expandPaths lists the files to classify: files as given, folders walked
// recursively in lexical order (regular files and symlinks; symlinked
// folders are not followed). anyDir reports whether a folder was given.
func expandPaths(args []string) (entries []pathEntry, anyDir bool) {
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			entries = append(entries, pathEntry{a, err})
			continue
		}
		anyDir = true
		filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				entries = append(entries, pathEntry{p, err})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
			case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
				entries = append(entries, pathEntry{p, nil})
			}
			return nil
		})
	}
	return entries, anyDir
}

// resultWriter prints results as text lines or as a streamed JSON list.
type resultWriter struct {
	w      *bufio.Writer
	json   bool
	n      int
	before func()
}

func (o *resultWriter) write(path string, top []lcnet.Prediction, err error) error {
	if o.before != nil {
		o.before()
	}
	defer func() { o.n++ }()
	if o.json {
		r := classifyResult{File: path, Top: top}
		if err != nil {
			r.Error = errText(err)
		}
		b, jerr := json.Marshal(r)
		if jerr != nil {
			return jerr
		}
		sep := ",\n  "
		if o.n == 0 {
			sep = "[\n  "
		}
		o.w.WriteString(sep)
		_, werr := o.w.Write(b)
		return werr
	}
	o.w.WriteString(path)
	if err != nil {
		fmt.Fprintf(o.w, "\terror: %s\n", errText(err))
		return nil
	}
	for _, p := range top {
		fmt.Fprintf(o.w, "\t%s %.4f", p.Label, p.Score)
	}
	_, werr := o.w.WriteString("\n")
	return werr
}

func (o *resultWriter) close() error {
	if !o.json {
		return nil
	}
	var err error
	if o.n == 0 {
		_, err = o.w.WriteString("[]\n")
	} else {
		_, err = o.w.WriteString("\n]\n")
	}
	return err
}

func errText(err error) string {
	return strings.TrimPrefix(err.Error(), "lcnet: ")
}

func printStats(w io.Writer, st lcnet.ClassifyStats, load, wall time.Duration) {
	ok := st.Files - st.Failed
	fmt.Fprintf(w, "model load %v; %d files (%d failed) in %v: %.1f images/s; %d batches\n",
		load.Round(time.Millisecond), st.Files, st.Failed, wall.Round(time.Millisecond),
		float64(ok)/wall.Seconds(), st.Batches)
	if st.Files == 0 {
		return
	}
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.3f ms", d.Seconds()*1e3/float64(st.Files))
	}
	perOK := func(d time.Duration) string {
		if ok == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f ms", d.Seconds()*1e3/float64(ok))
	}
	fmt.Fprintf(w, "per file, summed over workers: read %s, decode %s, preprocess %s; inference %s per image\n",
		per(st.Read), per(st.Decode), per(st.Preprocess), perOK(st.Infer))
}
