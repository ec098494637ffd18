// Package paddle reads PaddlePaddle model files into a *graph.Graph without
// Paddle or Python:
//
//   - Paddle 3 PIR inference models: inference.json + inference.pdiparams
//     (LoadPIR, ReadPIR);
//   - Paddle 2 inference models: inference.pdmodel (a protobuf ProgramDesc)
//     with inference.pdiparams (LoadProgram, ReadProgram);
//   - PaddleClas training checkpoints: a pickled .pdparams state dict of a
//     PP-LCNet (LoadPdparams, ReadPdparams), whose architecture is inferred
//     from the weight names and shapes.
//
// The program importers build the graph from the file's own ops and
// attributes (strides, paddings, hardsigmoid slope, dropout mode, ...), never
// from an assumed configuration. Every parser treats its input as untrusted:
// sizes are checked against the bytes actually present before anything is
// allocated, nothing in a pickle is ever executed, and bad input gives an
// error, never a panic.
//
// # Programs
//
// Only block 0 (region 0) is read. The batch dimension is implicit; an input
// whose height or width is dynamic (-1) takes Options.InputH/InputW, or 224
// when they are zero. The ops understood, by their Paddle 3 names (Paddle 2
// names in parentheses), are: data (feed), conv2d, depthwise_conv2d,
// batch_norm(_), relu, sigmoid, hardswish (hard_swish), hardsigmoid
// (hard_sigmoid; slope 0.2 and offset 0.5 only when the attributes are
// absent), pool2d (average pooling to 1×1), full_int_array, full, reshape
// (reshape2), add (elementwise_add) of a constant, multiply
// (elementwise_mul), scale, dropout (downgrade_in_infer scales by 1-p,
// upscale_in_train is the identity), flatten (flatten_contiguous_range,
// flatten2), matmul (matmul_v2, matmul, mul) by a parameter, softmax over
// the last axis, and fetch. Anything else, or a pattern outside that (a
// residual add of two computed tensors, a reshape of the batch axis), is an
// ErrUnsupported error naming the op and its position. Every computed shape
// is checked against the shape the file declares.
//
// Nodes are named after their parameters ("conv2d_3", "batch_norm2d_3") or
// their op type. Paddle's separate conv and linear bias adds are merged into
// the conv or FC; nothing else is rewritten: graph.Optimize does the rest.
package paddle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/filebuf"
)

// Options tunes an import. The zero value is valid.
type Options struct {
	// InputH and InputW give the input size when the model leaves it
	// dynamic (-1), and the input size of a .pdparams network. Zero means
	// the model's own size, or 224 when it has none (80×160 for TextLine).
	// A size that contradicts a static size in the model is an error.
	InputH, InputW int
	// TextLine builds a .pdparams network as PaddleOCR's text-line variant:
	// (2,1) depthwise strides in blocks3..blocks6 and an 80×160 input.
	// Program formats ignore it: they carry their own strides.
	TextLine bool
	// MaxBytes refuses files (and reader streams) larger than this;
	// zero means DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxBytes is the default size limit of one input file (1 GiB).
const DefaultMaxBytes = 1 << 30

// maxProgramBytes limits a program file (inference.json, inference.pdmodel):
// real ones are well under a megabyte.
const maxProgramBytes = 64 << 20

func (o Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Errors wrapped by the package's errors.
var (
	// ErrFormat: the input is malformed, truncated or inconsistent.
	ErrFormat = errors.New("malformed file")
	// ErrUnsupported: the input is well formed but uses an op, attribute,
	// data type or pattern the importer does not handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrTooLarge: a file or a declared size exceeds a limit.
	ErrTooLarge = errors.New("too large")
	// ErrForbidden: a pickle names a global outside the whitelist.
	ErrForbidden = errors.New("forbidden pickle global")
)

func formatErr(format string, args ...any) error {
	return fmt.Errorf("paddle: %w: "+format, append([]any{ErrFormat}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("paddle: %w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// Format is a Paddle file kind recognised by Sniff.
type Format int

// The formats Sniff recognises.
const (
	FormatUnknown   Format = iota
	FormatPIR              // Paddle 3 PIR program, JSON (inference.json)
	FormatProgram          // Paddle 2 ProgramDesc, protobuf (inference.pdmodel)
	FormatPdparams         // pickled state dict (.pdparams)
	FormatPdiparams        // parameter blob (inference.pdiparams)
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatPIR:
		return "pir-json"
	case FormatProgram:
		return "program-desc"
	case FormatPdparams:
		return "pdparams"
	case FormatPdiparams:
		return "pdiparams"
	}
	return "unknown"
}

// Sniff recognises a file by its first bytes (16 or more are best), not by
// its name: a JSON object is a PIR program, a pickle of protocol 2 to 5 a
// .pdparams state dict, a zero record header a .pdiparams blob, and a
// protobuf starting with a BlockDesc a ProgramDesc. It only guesses: the
// readers validate everything.
func Sniff(head []byte) Format {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(h) > 0 && h[0] == '{':
		return FormatPIR
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return FormatPdparams
	case len(head) >= 16 && bytes.Equal(head[:12], make([]byte, 12)) && head[12] <= 16:
		// u32 version 0, u64 lod_level 0, u32 version 0 (or a small lod).
		return FormatPdiparams
	case len(head) >= 3 && head[0] == 0x0a:
		// ProgramDesc field 1 (blocks), then a BlockDesc starting with
		// field 1 (idx, varint) after the length varint.
		i := 1
		for i < len(head) && i < 6 && head[i]&0x80 != 0 {
			i++
		}
		if i+1 < len(head) && head[i+1] == 0x08 {
			return FormatProgram
		}
	}
	return FormatUnknown
}

// readFile reads a whole file after checking its size against limit.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("paddle: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("paddle: %w", err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("paddle: %s is %d bytes, over the %d-byte limit: %w", path, st.Size(), limit, ErrTooLarge)
	}
	b, err := filebuf.Read(f, st, limit)
	if err != nil {
		return nil, fmt.Errorf("paddle: reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("paddle: %s is over the %d-byte limit: %w", path, limit, ErrTooLarge)
	}
	return b, nil
}

// withParams runs f on the .pdiparams file at path. A regular file is
// read as f goes, through a 64 KiB buffer: its tensors' values go from the
// file into the tensors, with no 12 MB copy of the blob (x1.0) in between.
// Anything else is read whole first (as readFile).
func withParams(path string, limit int64, f func(paramsIn) error) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("paddle: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fmt.Errorf("paddle: %w", err)
	}
	if st.Size() > limit {
		return fmt.Errorf("paddle: %s is %d bytes, over the %d-byte limit: %w", path, st.Size(), limit, ErrTooLarge)
	}
	if !st.Mode().IsRegular() {
		b, err := readAll(file, limit, path)
		if err != nil {
			return err
		}
		return f(blobIn(b))
	}
	return f(paramsIn{bufio.NewReaderSize(file, 64<<10), st.Size()})
}

// readAll reads r to its end, refusing more than limit bytes.
func readAll(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("paddle: reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("paddle: %s is over the %d-byte limit: %w", what, limit, ErrTooLarge)
	}
	return b, nil
}

func programLimit(opt Options) int64 {
	return min(opt.maxBytes(), maxProgramBytes)
}

// LoadPIR reads a Paddle 3 PIR inference model: the program's JSON file and
// its .pdiparams parameter blob.
func LoadPIR(jsonPath, paramsPath string, opt Options) (*graph.Graph, error) {
	prog, err := readFile(jsonPath, programLimit(opt))
	if err != nil {
		return nil, err
	}
	var g *graph.Graph
	err = withParams(paramsPath, opt.maxBytes(), func(params paramsIn) (err error) {
		g, err = importPIR(prog, params, opt)
		return err
	})
	return g, err
}

// ReadPIR is LoadPIR on readers.
func ReadPIR(program, params io.Reader, opt Options) (*graph.Graph, error) {
	prog, err := readAll(program, programLimit(opt), "the PIR program")
	if err != nil {
		return nil, err
	}
	p, err := readAll(params, opt.maxBytes(), "the parameters")
	if err != nil {
		return nil, err
	}
	return importPIR(prog, blobIn(p), opt)
}

// LoadProgram reads a Paddle 2 inference model: the protobuf ProgramDesc
// (inference.pdmodel) and its .pdiparams parameter blob.
func LoadProgram(pdmodelPath, paramsPath string, opt Options) (*graph.Graph, error) {
	prog, err := readFile(pdmodelPath, programLimit(opt))
	if err != nil {
		return nil, err
	}
	var g *graph.Graph
	err = withParams(paramsPath, opt.maxBytes(), func(params paramsIn) (err error) {
		g, err = importProgram(prog, params, opt)
		return err
	})
	return g, err
}

// ReadProgram is LoadProgram on readers.
func ReadProgram(program, params io.Reader, opt Options) (*graph.Graph, error) {
	prog, err := readAll(program, programLimit(opt), "the program")
	if err != nil {
		return nil, err
	}
	p, err := readAll(params, opt.maxBytes(), "the parameters")
	if err != nil {
		return nil, err
	}
	return importProgram(prog, blobIn(p), opt)
}

// LoadPdparams reads a PaddleClas PP-LCNet training checkpoint (.pdparams)
// and builds the network its weights describe; see ReadPdparams.
func LoadPdparams(path string, opt Options) (*graph.Graph, error) {
	b, err := readFile(path, opt.maxBytes())
	if err != nil {
		return nil, err
	}
	return importPdparams(b, opt)
}

// ReadPdparams reads a PaddleClas PP-LCNet .pdparams pickle from r. The
// scale, kernels, squeeze-excite blocks, head and class count come from the
// weights; strides and input size cannot, so they come from opt (ImageNet
// 224×224 with stride 2 by default, PaddleOCR's text line with
// opt.TextLine).
func ReadPdparams(r io.Reader, opt Options) (*graph.Graph, error) {
	b, err := readAll(r, opt.maxBytes(), "the .pdparams file")
	if err != nil {
		return nil, err
	}
	return importPdparams(b, opt)
}

// LoadDir loads the inference model in dir: inference.json (PIR) or else
// inference.pdmodel, with inference.pdiparams. The program's format is
// checked by content.
func LoadDir(dir string, opt Options) (*graph.Graph, error) {
	params := filepath.Join(dir, "inference.pdiparams")
	for _, name := range []string{"inference.json", "inference.pdmodel"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		head, err := readHead(p)
		if err != nil {
			return nil, err
		}
		switch Sniff(head) {
		case FormatPIR:
			return LoadPIR(p, params, opt)
		case FormatProgram:
			return LoadProgram(p, params, opt)
		default:
			return nil, formatErr("%s is neither a PIR program nor a ProgramDesc", p)
		}
	}
	return nil, fmt.Errorf("paddle: %s has no inference.json or inference.pdmodel: %w", dir, os.ErrNotExist)
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("paddle: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 64)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("paddle: %w", err)
	}
	return buf[:n], nil
}
