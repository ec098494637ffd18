// Package onnx reads and writes PP-LCNet-style networks as ONNX models
// without Python or cgo.
//
// Read and Load build a graph.Graph from the operators found in the file
// (opsets 7–17), whatever produced it: paddle2onnx exports (BatchNorm
// folded, hardswish as x*HardSigmoid(1/6, 0.5), dropout as Mul 0.8) and
// torch exports (Gemm, Flatten, clip-based hardsigmoid) alike. Nothing is
// taken from a fixed configuration: kernel sizes, strides, pads, groups,
// hardsigmoid slopes and scales are read from the nodes. The decoder is a
// hand-written protobuf reader with size limits for untrusted input.
//
// Export writes any graph.Graph (optimized or not) as an ONNX model that
// ONNX Runtime and onnx.checker accept.
package onnx

import (
	"errors"
	"fmt"
	"os"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/filebuf"
)

// Errors wrapped by Read and Load.
var (
	// ErrFormat: the bytes are not a well-formed ONNX model.
	ErrFormat = errors.New("malformed onnx model")
	// ErrUnsupported: a well-formed model uses something lcnet cannot run.
	ErrUnsupported = errors.New("unsupported onnx model")
	// ErrTooLarge: a limit of Options was exceeded.
	ErrTooLarge = errors.New("onnx model exceeds a limit")
)

// Options controls import.
type Options struct {
	// InputH and InputW replace dynamic (symbolic) spatial input
	// dimensions; 0 means 224.
	InputH, InputW int
	// MaxBytes caps the file size; 0 means 1 GiB.
	MaxBytes int64
	// MaxElements caps the element count of any one tensor; 0 means 1<<28.
	MaxElements int
	// MaxNodes caps the node count; 0 means 1<<20.
	MaxNodes int
}

func (o Options) withDefaults() Options {
	if o.InputH <= 0 {
		o.InputH = 224
	}
	if o.InputW <= 0 {
		o.InputW = 224
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.MaxElements <= 0 {
		o.MaxElements = 1 << 28
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = 1 << 20
	}
	return o
}

// Load reads the ONNX model at path.
func Load(path string, opt Options) (*graph.Graph, error) {
	g, _, err := LoadWithMetadata(path, opt)
	return g, err
}

// LoadWithMetadata is Load that also returns the model's metadata_props
// (see ReadMetadata), reading the file once.
func LoadWithMetadata(path string, opt Options) (*graph.Graph, map[string]string, error) {
	opt = opt.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("onnx: %w", err)
	}
	if st.Size() > opt.MaxBytes {
		return nil, nil, fmt.Errorf("onnx: %s: %w: %d bytes, limit %d", path, ErrTooLarge, st.Size(), opt.MaxBytes)
	}
	data, err := filebuf.Read(f, st, opt.MaxBytes)
	if err == nil && int64(len(data)) > opt.MaxBytes {
		err = fmt.Errorf("%w: over %d bytes", ErrTooLarge, opt.MaxBytes)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	g, err := Read(data, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, path)
	}
	md, err := ReadMetadata(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, path)
	}
	return g, md, nil
}

// Read builds a graph from a serialized ONNX ModelProto.
func Read(data []byte, opt Options) (*graph.Graph, error) {
	opt = opt.withDefaults()
	if int64(len(data)) > opt.MaxBytes {
		return nil, fmt.Errorf("onnx: %w: %d bytes, limit %d", ErrTooLarge, len(data), opt.MaxBytes)
	}
	m, err := decodeModel(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	g, err := importModel(m, opt, len(data))
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return g, nil
}

// Sniff reports whether head, the first bytes of a file, look like an ONNX
// ModelProto: field 1 (ir_version) as a small varint followed by another
// ModelProto field. ONNX has no magic number, so this is a heuristic.
func Sniff(head []byte) bool {
	if len(head) < 4 || head[0] != 0x08 || head[1] == 0 || head[1] > 32 {
		return false
	}
	switch head[2] { // next tag: producer_name, producer_version, domain, model_version, doc_string, graph, opset_import
	case 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42:
		return true
	}
	return false
}

// IONames returns the names of the single input and output of a serialized
// ONNX model, as runtimes need them to bind tensors.
func IONames(data []byte) (input, output string, err error) {
	m, err := decodeModel(data)
	if err != nil {
		return "", "", fmt.Errorf("onnx: %w", err)
	}
	if m.graph == nil || len(m.graph.outputs) != 1 {
		return "", "", fmt.Errorf("onnx: %w: want one graph with one output", ErrUnsupported)
	}
	inits := map[string]bool{}
	for _, t := range m.graph.initializer {
		inits[t.name] = true
	}
	for _, v := range m.graph.inputs {
		if inits[v.name] {
			continue
		}
		if input != "" {
			return "", "", fmt.Errorf("onnx: %w: more than one input", ErrUnsupported)
		}
		input = v.name
	}
	if input == "" {
		return "", "", fmt.Errorf("onnx: %w: no input", ErrFormat)
	}
	return input, m.graph.outputs[0].name, nil
}
