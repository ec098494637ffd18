package paddle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/le"
)

// paramSpec is a persistable parameter declared by a program.
type paramSpec struct {
	name string  // the parameter's variable name, which orders the blob
	ref  string  // the program's value reference
	dims []int64 // declared shape; -1 matches any size
}

// Limits of the .pdiparams reader. Real weights have lod_level 0, rank ≤ 4
// and descriptors of a few bytes.
const (
	maxLoDLevel = 8
	maxDescSize = 1 << 12
	maxRank     = 16
)

// VarType.Type values of the data types a record may have.
var dtypeNames = map[uint64]string{
	0: "BOOL", 1: "INT16", 2: "INT32", 3: "INT64", 4: "FP16", 5: "FP32", 6: "FP64",
	19: "SIZE_T", 20: "UINT8", 21: "INT8", 22: "BF16", 23: "COMPLEX64", 24: "COMPLEX128",
}

const dtFP32 = 5

func dtypeName(t uint64) string {
	if s, ok := dtypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// readPdiparams decodes a save_combine blob: one record per parameter in
// the bytewise order of the names, each checked against its declaration,
// and nothing after the last. It returns the tensors by name.
func readPdiparams(data []byte, specs []paramSpec) (map[string]*graph.Tensor, error) {
	return readParams(bytes.NewReader(data), int64(len(data)), specs)
}

// readParams is readPdiparams on the size bytes of r (a file read as it
// goes: each tensor's values go from the file straight into the tensor,
// with no copy of the whole blob in between).
func readParams(in io.Reader, size int64, specs []paramSpec) (map[string]*graph.Tensor, error) {
	sorted := append([]paramSpec(nil), specs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].name == sorted[i-1].name {
			return nil, formatErr("parameter %q is declared twice", sorted[i].name)
		}
	}
	r := &recordReader{in: in, size: size}
	out := make(map[string]*graph.Tensor, len(sorted))
	for i, s := range sorted {
		if r.off == size {
			return nil, formatErr(".pdiparams ends after %d records, the program has %d parameters (next %q)", i, len(sorted), s.name)
		}
		t, err := r.record(s)
		if err != nil {
			return nil, fmt.Errorf("paddle: .pdiparams record %d (%q) at offset %d: %w", i, s.name, r.start, err)
		}
		out[s.name] = t
	}
	if r.off != size {
		return nil, formatErr(".pdiparams has %d bytes after the last of %d parameters: more records than parameters", size-r.off, len(sorted))
	}
	return out, nil
}

// recordReader reads records from the size bytes of in, off of them so
// far; every length is checked against the bytes left before it is read.
type recordReader struct {
	in    io.Reader
	size  int64
	off   int64
	start int64
	buf   []byte // take's
}

func (r *recordReader) left() int64 { return r.size - r.off }

// readErr is the error for reading what that failed with err: a file
// that ends before its records do is ErrFormat.
func readErr(err error, what string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: truncated %s: the input ended early (%v)", ErrFormat, what, err)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// read fills b from the input (len(b) <= left, checked by the caller).
func (r *recordReader) read(b []byte, what string) error {
	if _, err := io.ReadFull(r.in, b); err != nil {
		return readErr(err, what)
	}
	r.off += int64(len(b))
	return nil
}

// take returns the next n bytes (a header field or a descriptor: small)
// in a buffer reused by the next call.
func (r *recordReader) take(n int, what string) ([]byte, error) {
	if n < 0 || int64(n) > r.left() {
		return nil, fmt.Errorf("%w: truncated %s: need %d bytes, %d left", ErrFormat, what, n, r.left())
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	return b, r.read(b, what)
}

// skip passes over the next n bytes (n <= left, checked by the caller).
func (r *recordReader) skip(n int64, what string) error {
	got, err := io.CopyN(io.Discard, r.in, n)
	r.off += got
	if err != nil {
		return readErr(err, what)
	}
	return nil
}

func (r *recordReader) u32(what string) (uint32, error) {
	b, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *recordReader) u64(what string) (uint64, error) {
	b, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (r *recordReader) record(s paramSpec) (*graph.Tensor, error) {
	r.start = r.off
	v, err := r.u32("lod tensor version")
	if err != nil {
		return nil, err
	}
	if v != 0 {
		return nil, fmt.Errorf("%w: lod tensor version %d, want 0", ErrFormat, v)
	}
	lod, err := r.u64("lod level")
	if err != nil {
		return nil, err
	}
	if lod > maxLoDLevel {
		return nil, fmt.Errorf("%w: lod level %d (limit %d)", ErrFormat, lod, maxLoDLevel)
	}
	for l := uint64(0); l < lod; l++ {
		n, err := r.u64("lod size")
		if err != nil {
			return nil, err
		}
		if n%8 != 0 || n > uint64(r.left()) {
			return nil, fmt.Errorf("%w: lod level %d has %d bytes (%d left, must be a multiple of 8)", ErrFormat, l, n, r.left())
		}
		if err := r.skip(int64(n), "lod"); err != nil {
			return nil, err
		}
	}
	if v, err = r.u32("tensor version"); err != nil {
		return nil, err
	}
	if v != 0 {
		return nil, fmt.Errorf("%w: tensor version %d, want 0", ErrFormat, v)
	}
	ds, err := r.u32("descriptor size")
	if err != nil {
		return nil, err
	}
	if int32(ds) < 0 || ds > maxDescSize {
		return nil, fmt.Errorf("%w: descriptor size %d (limit %d)", ErrFormat, int32(ds), maxDescSize)
	}
	desc, err := r.take(int(ds), "tensor descriptor")
	if err != nil {
		return nil, err
	}
	dt, dims, err := decodeTensorDesc(desc)
	if err != nil {
		return nil, err
	}
	if dt != dtFP32 {
		return nil, fmt.Errorf("%w: data type %s, only FP32 is supported", ErrUnsupported, dtypeName(dt))
	}
	if !dimsMatch(s.dims, dims) {
		return nil, fmt.Errorf("%w: record shape %v, the program declares %v", ErrFormat, dims, s.dims)
	}
	// Element count, refusing anything the remaining bytes cannot hold
	// before allocating.
	limit := r.left() / 4
	numel := int64(1)
	for _, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative dimension in %v", ErrFormat, dims)
		}
		if d != 0 && numel > limit/d {
			return nil, fmt.Errorf("%w: shape %v needs more than the %d bytes left", ErrFormat, dims, r.left())
		}
		numel *= d
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d)
	}
	t := graph.NewTensor(shape...)
	if err := le.ReadFloat32s(r.in, t.Data); err != nil {
		return nil, readErr(err, "tensor data")
	}
	r.off += 4 * numel
	return t, nil
}

// dimsMatch reports whether a record's dims fit a declaration (-1 matches
// any size).
func dimsMatch(decl, got []int64) bool {
	if len(decl) != len(got) {
		return false
	}
	for i := range decl {
		if decl[i] != -1 && decl[i] != got[i] {
			return false
		}
	}
	return true
}

// decodeTensorDesc decodes a VarType.TensorDesc: field 1 data_type (varint),
// field 2 dims (int64, packed or not). Unknown fields are skipped.
func decodeTensorDesc(b []byte) (dtype uint64, dims []int64, err error) {
	seenType := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, fmt.Errorf("%w: tensor descriptor: %v", ErrFormat, protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: tensor descriptor data type: %v", ErrFormat, protowire.ParseError(n))
			}
			dtype, seenType, b = v, true, b[n:]
		case num == 2 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: tensor descriptor dims: %v", ErrFormat, protowire.ParseError(n))
			}
			dims, b = append(dims, int64(v)), b[n:]
		case num == 2 && typ == protowire.BytesType:
			p, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: tensor descriptor dims: %v", ErrFormat, protowire.ParseError(n))
			}
			b = b[n:]
			for len(p) > 0 {
				v, m := protowire.ConsumeVarint(p)
				if m < 0 {
					return 0, nil, fmt.Errorf("%w: tensor descriptor packed dims: %v", ErrFormat, protowire.ParseError(m))
				}
				dims, p = append(dims, int64(v)), p[m:]
				if len(dims) > maxRank {
					break
				}
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return 0, nil, fmt.Errorf("%w: tensor descriptor field %d: %v", ErrFormat, num, protowire.ParseError(n))
			}
			b = b[n:]
		}
		if len(dims) > maxRank {
			return 0, nil, fmt.Errorf("%w: tensor descriptor has more than %d dims", ErrFormat, maxRank)
		}
	}
	if !seenType {
		return 0, nil, fmt.Errorf("%w: tensor descriptor has no data type", ErrFormat)
	}
	return dtype, dims, nil
}
