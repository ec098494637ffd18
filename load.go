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

// ErrUnknownFormat is returned for a file no importer recognises.
var ErrUnknownFormat = errors.New("lcnet: unrecognised model format")

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
func Load(path string, o *OpenOptions) (*Model, error) {
	var opts OpenOptions
	if o != nil {
		opts = *o
	}
	g, cfg, err := importGraph(path, &opts)
	if err != nil {
		return nil, err
	}
	m, err := New(g, &opts.Options)
	if err != nil {
		return nil, err
	}
	m.Preprocess = cfg
	if cfg != nil && len(cfg.Labels) > 0 {
		m.Labels = cfg.Labels
	}
	return m, nil
}

// LoadGraph is Load without planning: the imported graph, and the model's
// preprocessing config when the model brought one.
func LoadGraph(path string, o *OpenOptions) (*graph.Graph, *preprocess.Config, error) {
	var opts OpenOptions
	if o != nil {
		opts = *o
	}
	return importGraph(path, &opts)
}

func importGraph(path string, o *OpenOptions) (*graph.Graph, *preprocess.Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("lcnet: %w", err)
	}
	popt := paddle.Options{InputH: o.InputH, InputW: o.InputW, TextLine: o.TextLine}
	dir := filepath.Dir(path)
	if st.IsDir() {
		dir = path
		g, err := paddle.LoadDir(path, popt)
		if err != nil {
			// A directory holding one ONNX or weights file is fine too.
			if alt := soleModelFile(path); alt != "" {
				return importGraph(alt, o)
			}
			return nil, nil, fmt.Errorf("lcnet: %s: %w", path, err)
		}
		cfg, err := dirConfig(dir)
		return g, cfg, err
	}
	head, err := readHead(path, 256)
	if err != nil {
		return nil, nil, err
	}
	f, ok := Sniff(head)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s is not a Paddle, ONNX or safetensors model", ErrUnknownFormat, path)
	}
	var g *graph.Graph
	switch f {
	case FormatPIR:
		g, err = paddle.LoadPIR(path, paramsBeside(path), popt)
	case FormatProgram:
		g, err = paddle.LoadProgram(path, paramsBeside(path), popt)
	case FormatPdparams:
		g, err = paddle.LoadPdparams(path, popt)
	case FormatONNX:
		g, err = onnx.Load(path, onnx.Options{InputH: o.InputH, InputW: o.InputW})
	case FormatSafetensors:
		g, err = loadSafetensors(path, o)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lcnet: %s: %w", path, err)
	}
	var cfg *preprocess.Config
	if f == FormatPIR || f == FormatProgram {
		if cfg, err = dirConfig(dir); err != nil {
			return nil, nil, err
		}
	}
	return g, cfg, nil
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
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
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
