package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/le"
	"github.com/lcnet-go/lcnet/internal/prefault"
)

// Errors wrapped by this package.
var (
	// ErrFormat: the bytes are not a well-formed safetensors file.
	ErrFormat = errors.New("malformed safetensors file")
	// ErrUnsupported: a well-formed file lcnet cannot use.
	ErrUnsupported = errors.New("unsupported safetensors file")
)

// maxHeader is the reference implementation's header limit (100 MB).
const maxHeader = 100 << 20

// dtypeSize gives the element size of every dtype the format defines.
var dtypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets []uint64 `json:"data_offsets"`
}

// Tensor is one raw tensor of a file.
type Tensor struct {
	DType string
	Shape []int
	Data  []byte // little-endian, row-major; aliases the input
}

// Parse splits a safetensors file into its tensors, checking the header
// strictly: its length, JSON syntax, duplicate names, known dtypes,
// non-negative shapes, data_offsets that match the shape and tile the data
// buffer exactly (no gaps, overlaps or bytes out of range). Tensor data
// aliases data. The __metadata__ entry is returned separately.
func Parse(data []byte) (map[string]Tensor, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("safetensors: %w: %d bytes, too short for a header", ErrFormat, len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader || n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("safetensors: %w: header length %d for a %d-byte file", ErrFormat, n, len(data))
	}
	hdr := data[8 : 8+n]
	buf := data[8+n:]
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("safetensors: %w: header is not a JSON object", ErrFormat)
	}
	tensors := map[string]Tensor{}
	var meta map[string]string
	type span struct {
		begin, end uint64
		name       string
	}
	var spans []span
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: %w: header: %v", ErrFormat, err)
		}
		name, _ := tok.(string)
		if _, dup := tensors[name]; dup || (name == "__metadata__" && meta != nil) {
			return nil, nil, fmt.Errorf("safetensors: %w: %q appears twice", ErrFormat, name)
		}
		if name == "__metadata__" {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors: %w: __metadata__: %v", ErrFormat, err)
			}
			if meta == nil {
				meta = map[string]string{}
			}
			continue
		}
		var e entry
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q: %v", ErrFormat, name, err)
		}
		ed := json.NewDecoder(bytes.NewReader(raw))
		ed.DisallowUnknownFields()
		if err := ed.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q: %v", ErrFormat, name, err)
		}
		size, ok := dtypeSize[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q has unknown dtype %q", ErrFormat, name, e.DType)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] > e.Offsets[1] || e.Offsets[1] > uint64(len(buf)) {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q has data_offsets %v for %d data bytes", ErrFormat, name, e.Offsets, len(buf))
		}
		if len(e.Shape) > 8 {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q has rank %d", ErrFormat, name, len(e.Shape))
		}
		numel := uint64(1)
		shape := make([]int, len(e.Shape))
		for k, d := range e.Shape {
			if d < 0 || (d > 0 && numel > uint64(len(buf))/uint64(d)) {
				return nil, nil, fmt.Errorf("safetensors: %w: tensor %q has shape %v, more than the file holds", ErrFormat, name, e.Shape)
			}
			numel *= uint64(d)
			shape[k] = int(d)
		}
		if numel*uint64(size) != e.Offsets[1]-e.Offsets[0] {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q of %s%v needs %d bytes, data_offsets give %d",
				ErrFormat, name, e.DType, e.Shape, numel*uint64(size), e.Offsets[1]-e.Offsets[0])
		}
		tensors[name] = Tensor{DType: e.DType, Shape: shape, Data: buf[e.Offsets[0]:e.Offsets[1]]}
		spans = append(spans, span{e.Offsets[0], e.Offsets[1], name})
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w: header: %v", ErrFormat, err)
	}
	if rest := bytes.TrimRight(hdr[dec.InputOffset():], " "); len(rest) != 0 {
		return nil, nil, fmt.Errorf("safetensors: %w: %d bytes after the header object", ErrFormat, len(rest))
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	pos := uint64(0)
	for _, s := range spans {
		if s.begin != pos {
			return nil, nil, fmt.Errorf("safetensors: %w: tensor %q starts at byte %d, want %d (gap or overlap)", ErrFormat, s.name, s.begin, pos)
		}
		pos = s.end
	}
	if pos != uint64(len(buf)) {
		return nil, nil, fmt.Errorf("safetensors: %w: tensors cover %d of %d data bytes", ErrFormat, pos, len(buf))
	}
	return tensors, meta, nil
}

// Float32 converts a tensor to float32. F32, F16, BF16 and F64 convert;
// integer dtypes are rejected.
func (t Tensor) Float32() ([]float32, error) {
	size := dtypeSize[t.DType]
	if size == 0 || len(t.Data)%size != 0 {
		return nil, fmt.Errorf("safetensors: %w: dtype %q", ErrFormat, t.DType)
	}
	out := prefault.Slice(make([]float32, len(t.Data)/size))
	d := t.Data
	switch t.DType {
	case "F32":
		le.Float32s(out, d)
	case "F64":
		for k := range out {
			out[k] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*k:])))
		}
	case "BF16":
		for k := range out {
			out[k] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*k:])) << 16)
		}
	case "F16":
		for k := range out {
			out[k] = halfToFloat(binary.LittleEndian.Uint16(d[2*k:]))
		}
	default:
		return nil, fmt.Errorf("safetensors: %w: dtype %s is not a float type", ErrUnsupported, t.DType)
	}
	return out, nil
}

// halfToFloat converts IEEE 754 binary16 bits to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0:
		f := float32(frac) / (1 << 24) // subnormal or zero
		return math.Float32frombits(math.Float32bits(f) | sign)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// writeTensors writes named F32 tensors as a safetensors file: names
// sorted, data contiguous in that order, header padded with spaces to a
// multiple of 8 bytes as the reference writer does.
func writeTensors(w io.Writer, tensors map[string]*graph.Tensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(meta) > 0 {
		mb, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		hdr.WriteString(`"__metadata__":`)
		hdr.Write(mb)
	}
	off := 0
	for k, name := range names {
		t := tensors[name]
		if len(t.Data) != graph.Numel(t.Shape) {
			return fmt.Errorf("safetensors: tensor %q has %d values for shape %v", name, len(t.Data), t.Shape)
		}
		if k > 0 || len(meta) > 0 {
			hdr.WriteByte(',')
		}
		nb, _ := json.Marshal(name)
		hdr.Write(nb)
		hdr.WriteString(`:{"dtype":"F32","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				hdr.WriteByte(',')
			}
			hdr.WriteString(strconv.Itoa(d))
		}
		end := off + 4*len(t.Data)
		fmt.Fprintf(&hdr, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	out := make([]byte, 8, 8+hdr.Len()+off)
	binary.LittleEndian.PutUint64(out, uint64(hdr.Len()))
	out = append(out, hdr.Bytes()...)
	for _, name := range names {
		for _, v := range tensors[name].Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	_, err := w.Write(out)
	return err
}
