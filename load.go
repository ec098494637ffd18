package lcnet

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
	"github.com/lcnet-go/lcnet/graph/paddle"
	"github.com/lcnet-go/lcnet/preprocess"
)

// Errors returned by Load.
var (
	// ErrUnknownFormat is returned for a file no importer recognises.
	ErrUnknownFormat = errors.New("lcnet: unrecognised model format")
	// ErrTooLarge is wrapped when a model file exceeds
	// OpenOptions.MaxBytes or a size the importer accepts.
	ErrTooLarge = errors.New("lcnet: model exceeds a size limit")
)

// maxConfigBytes bounds a model directory's inference.yml (a thousand
// labels take about 30 KB).
const maxConfigBytes = 16 << 20

// A model may not hold more weights, counting each node's own (the
// backends pack a copy per node), than weightFactor times the bytes of its
// files plus weightSlack: otherwise a small file sharing one weight among
// thousands of nodes would make Load allocate gigabytes. Real models store
// every weight once, so they hold about 1× (less after folding).
const (
	weightFactor = 4
	weightSlack  = 16 << 20
)

// checkWeights applies the weight bound to an imported graph.
func checkWeights(g *graph.Graph, path string, fileBytes int64) error {
	var n int64
	for _, nd := range g.Nodes {
		for _, p := range nd.Op.Params() {
			if p.T != nil {
				n += 4 * int64(len(p.T.Data))
			}
		}
	}
	if limit := weightFactor*fileBytes + weightSlack; n > limit {
		return fmt.Errorf("%w: %s: its nodes hold %d bytes of weights, from %d bytes of files (one weight shared by many nodes?); the limit is %d", ErrTooLarge, path, n, fileBytes, limit)
	}
	return nil
}

// sizeOf is the size of the files that exist among paths.
func sizeOf(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			n += st.Size()
		}
	}
	return n
}

// Format names a model file kind.
type Format string

// The model formats Load reads.
const (
	FormatPIR         Format = "paddle-pir"      // Paddle 3 inference.json + .pdiparams
	FormatProgram     Format = "paddle-program"  // Paddle 2 inference.pdmodel + .pdiparams
	FormatPdparams    Format = "paddle-pdparams" // PaddleClas training weights (pickle)
	FormatONNX        Format = "onnx"
	FormatSafetensors Format = "safetensors" // timm lcnet_* weights
)

// Sniff recognises a model file by its first bytes (at least 64 of them
// where the file has them), not by its name.
func Sniff(head []byte) (Format, bool) {
	switch paddle.Sniff(head) {
	case paddle.FormatPIR:
		return FormatPIR, true
	case paddle.FormatPdparams:
		return FormatPdparams, true
	}
	if sniffSafetensors(head) {
		return FormatSafetensors, true
	}
	if onnx.Sniff(head) {
		return FormatONNX, true
	}
	if paddle.Sniff(head) == paddle.FormatProgram {
		return FormatProgram, true
	}
	return "", false
}

// Load reads a model file or a Paddle model directory (inference.json or
// inference.pdmodel with inference.pdiparams, and inference.yml when
// present: its preprocessing and labels come along). The format is
// recognised by content.
func Load(path string, o *OpenOptions) (m *Model, err error) {
	var opts OpenOptions
	if o != nil {
		opts = *o
	}
	defer recoverLoad(path, &err)
	g, cfg, md, err := importGraph(path, &opts)
	if err != nil {
		return nil, err
	}
	labels, err := applyInt8Meta(path, md, &opts, &cfg)
	if err != nil {
		return nil, err
	}
	m, err = New(g, &opts.Options)
	if err != nil {
		return nil, err
	}
	m.Preprocess = cfg
	if cfg != nil && len(cfg.Labels) > 0 {
		m.Labels = cfg.Labels
	}
	if len(labels) > 0 {
		m.Labels = labels
	}
	return m, nil
}

// LoadGraph is Load without planning: the imported graph, and the model's
// preprocessing config when the model brought one.
func LoadGraph(path string, o *OpenOptions) (g *graph.Graph, cfg *preprocess.Config, err error) {
	var opts OpenOptions
	if o != nil {
		opts = *o
	}
	defer recoverLoad(path, &err)
	g, cfg, _, err = importGraph(path, &opts)
	return g, cfg, err
}

// recoverLoad turns a panic in an importer or the planner (a bug: they
// must return errors for any input) into an error wrapping ErrInternal,
// so that a hostile file cannot crash the process that loads it.
func recoverLoad(path string, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w while loading %s: %v", ErrInternal, path, p)
	}
}

func importGraph(path string, o *OpenOptions) (*graph.Graph, *preprocess.Config, map[string]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lcnet: %w", err)
	}
	limit := o.maxBytes()
	if !st.IsDir() && st.Size() > limit {
		return nil, nil, nil, fmt.Errorf("%w: %s is %d bytes, over the limit of %d (OpenOptions.MaxBytes)", ErrTooLarge, path, st.Size(), limit)
	}
	popt := paddle.Options{InputH: o.InputH, InputW: o.InputW, TextLine: o.TextLine, MaxBytes: limit}
	dir := filepath.Dir(path)
	if st.IsDir() {
		dir = path
		g, err := paddle.LoadDir(path, popt)
		if err != nil {
			// A directory holding one ONNX or weights file is fine too.
			if alt := soleModelFile(path); alt != "" {
				return importGraph(alt, o)
			}
			return nil, nil, nil, importErr(path, err)
		}
		files := sizeOf(filepath.Join(dir, "inference.json"), filepath.Join(dir, "inference.pdmodel"), filepath.Join(dir, "inference.pdiparams"))
		if err := checkWeights(g, path, files); err != nil {
			return nil, nil, nil, err
		}
		cfg, err := dirConfig(dir)
		return g, cfg, nil, err
	}
	head, err := readHead(path, 256)
	if err != nil {
		return nil, nil, nil, err
	}
	f, ok := Sniff(head)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: %s is not a Paddle, ONNX or safetensors model", ErrUnknownFormat, path)
	}
	var g *graph.Graph
	var md map[string]string // ONNX metadata_props
	switch f {
	case FormatPIR:
		g, err = paddle.LoadPIR(path, paramsBeside(path), popt)
	case FormatProgram:
		g, err = paddle.LoadProgram(path, paramsBeside(path), popt)
	case FormatPdparams:
		g, err = paddle.LoadPdparams(path, popt)
	case FormatONNX:
		g, md, err = onnx.LoadWithMetadata(path, onnx.Options{InputH: o.InputH, InputW: o.InputW, MaxBytes: limit})
	case FormatSafetensors:
		g, err = loadSafetensors(path, o)
	}
	if err != nil {
		return nil, nil, nil, importErr(path, err)
	}
	files := st.Size()
	if f == FormatPIR || f == FormatProgram {
		files += sizeOf(paramsBeside(path))
	}
	if err := checkWeights(g, path, files); err != nil {
		return nil, nil, nil, err
	}
	var cfg *preprocess.Config
	if f == FormatPIR || f == FormatProgram {
		if cfg, err = dirConfig(dir); err != nil {
			return nil, nil, nil, err
		}
	}
	return g, cfg, md, nil
}

// importErr prefixes an importer's error with the path, and makes a size
// limit of any importer match ErrTooLarge.
func importErr(path string, err error) error {
	if errors.Is(err, paddle.ErrTooLarge) || errors.Is(err, onnx.ErrTooLarge) {
		return fmt.Errorf("%w: %s: %w", ErrTooLarge, path, err)
	}
	return fmt.Errorf("lcnet: %s: %w", path, err)
}

// paramsBeside finds the .pdiparams of a program file: same stem, or
// inference.pdiparams in the same directory.
func paramsBeside(path string) string {
	stem := strings.TrimSuffix(path, filepath.Ext(path))
	if _, err := os.Stat(stem + ".pdiparams"); err == nil {
		return stem + ".pdiparams"
	}
	return filepath.Join(filepath.Dir(path), "inference.pdiparams")
}

// dirConfig reads inference.yml from a Paddle model directory if present.
func dirConfig(dir string) (*preprocess.Config, error) {
	p := filepath.Join(dir, "inference.yml")
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil && st.Size() > maxConfigBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the limit of %d", ErrTooLarge, p, st.Size(), maxConfigBytes)
	}
	cfg, err := preprocess.LoadConfig(p)
	if err != nil {
		return nil, fmt.Errorf("lcnet: %w", err)
	}
	return cfg, nil
}

// soleModelFile returns the one .onnx, .pdparams or .safetensors file of a
// directory, or "".
func soleModelFile(dir string) string {
	var found []string
	for _, pat := range []string{"*.onnx", "*.pdparams", "*.safetensors"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		found = append(found, m...)
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lcnet: %w", err)
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("lcnet: %w", err)
	}
	return b[:k], nil
}
