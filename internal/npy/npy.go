// Package npy reads and writes NumPy .npy files of float32 arrays (format
// versions 1.0-3.0, little- or big-endian '<f4'/'>f4', C order), the tensor
// exchange format of the lcnet CLI. Headers are parsed strictly and sizes
// checked against the bytes present before anything large is allocated.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("npy: malformed file")

const magic = "\x93NUMPY"

// MaxHeader bounds the header length we accept (NumPy writes < 1 KiB).
const MaxHeader = 1 << 16

// Array is a float32 array in C order.
type Array struct {
	Shape []int
	Data  []float32
}

// ReadFile reads a .npy file.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	a, err := Read(bufio.NewReader(f), st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Read decodes a .npy stream of at most size bytes (size < 0: unknown, in
// which case the data is read in bounded chunks as it arrives).
func Read(r io.Reader, size int64) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: short preamble: %v", ErrFormat, err)
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("%w: wrong magic (not a .npy file)", ErrFormat)
	}
	var hlen int
	consumed := int64(8)
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: short header length", ErrFormat)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
		consumed += 2
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: short header length", ErrFormat)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
		consumed += 4
	default:
		return nil, fmt.Errorf("%w: unsupported version %d.%d", ErrFormat, pre[6], pre[7])
	}
	if hlen > MaxHeader {
		return nil, fmt.Errorf("%w: header of %d bytes is too long", ErrFormat, hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("%w: truncated header", ErrFormat)
	}
	consumed += int64(hlen)
	order, shape, err := parseHeader(string(hdr))
	if err != nil {
		return nil, err
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative dimension in shape %v", ErrFormat, shape)
		}
		if d > 0 && n > math.MaxInt32/int64(d) {
			return nil, fmt.Errorf("%w: shape %v is too large", ErrFormat, shape)
		}
		n *= int64(d)
	}
	if size >= 0 && (size-consumed)/4 < n {
		return nil, fmt.Errorf("%w: shape %v needs %d bytes of data, the file has %d", ErrFormat, shape, 4*n, size-consumed)
	}
	data, err := readFloats(r, n, order)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Data: data}, nil
}

// readFloats reads n values in chunks so that a lying header on an
// unbounded stream cannot make us allocate more than what arrives.
func readFloats(r io.Reader, n int64, order binary.ByteOrder) ([]float32, error) {
	const chunk = 1 << 16
	out := make([]float32, 0, min(n, chunk))
	buf := make([]byte, 4*min(n, chunk))
	for int64(len(out)) < n {
		k := min(n-int64(len(out)), chunk)
		b := buf[:4*k]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("%w: truncated data (%d of %d values)", ErrFormat, len(out), n)
		}
		for i := int64(0); i < k; i++ {
			out = append(out, math.Float32frombits(order.Uint32(b[4*i:])))
		}
	}
	return out, nil
}

// parseHeader reads the Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }.
func parseHeader(h string) (binary.ByteOrder, []int, error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") {
		return nil, nil, fmt.Errorf("%w: header is not a dict", ErrFormat)
	}
	fields := map[string]string{}
	body := h[1 : len(h)-1]
	for len(strings.TrimSpace(body)) > 0 {
		body = strings.TrimLeft(body, " ,")
		if body == "" {
			break
		}
		if body[0] != '\'' && body[0] != '"' {
			return nil, nil, fmt.Errorf("%w: header key is not a string", ErrFormat)
		}
		q := body[0]
		end := strings.IndexByte(body[1:], q)
		if end < 0 {
			return nil, nil, fmt.Errorf("%w: unterminated header key", ErrFormat)
		}
		key := body[1 : 1+end]
		body = strings.TrimLeft(body[2+end:], " ")
		if !strings.HasPrefix(body, ":") {
			return nil, nil, fmt.Errorf("%w: header key %q has no value", ErrFormat, key)
		}
		body = strings.TrimLeft(body[1:], " ")
		var val string
		switch {
		case strings.HasPrefix(body, "("):
			end := strings.IndexByte(body, ')')
			if end < 0 {
				return nil, nil, fmt.Errorf("%w: unterminated shape", ErrFormat)
			}
			val, body = body[:end+1], body[end+1:]
		case body != "" && (body[0] == '\'' || body[0] == '"'):
			q := body[0]
			end := strings.IndexByte(body[1:], q)
			if end < 0 {
				return nil, nil, fmt.Errorf("%w: unterminated string", ErrFormat)
			}
			val, body = body[1:1+end], body[2+end:]
		default:
			end := strings.IndexAny(body, ",}")
			if end < 0 {
				end = len(body)
			}
			val, body = strings.TrimSpace(body[:end]), body[end:]
		}
		if _, dup := fields[key]; dup {
			return nil, nil, fmt.Errorf("%w: duplicate header key %q", ErrFormat, key)
		}
		fields[key] = val
	}
	var order binary.ByteOrder
	switch d := fields["descr"]; d {
	case "<f4", "f4":
		order = binary.LittleEndian
	case ">f4":
		order = binary.BigEndian
	case "":
		return nil, nil, fmt.Errorf("%w: header has no descr", ErrFormat)
	default:
		return nil, nil, fmt.Errorf("%w: dtype %q is not float32 (convert with x.astype(np.float32))", ErrFormat, d)
	}
	switch fields["fortran_order"] {
	case "False":
	case "True":
		return nil, nil, fmt.Errorf("%w: Fortran-order arrays are not supported (use np.ascontiguousarray)", ErrFormat)
	default:
		return nil, nil, fmt.Errorf("%w: header has no valid fortran_order", ErrFormat)
	}
	s, ok := fields["shape"]
	if !ok || !strings.HasPrefix(s, "(") {
		return nil, nil, fmt.Errorf("%w: header has no shape", ErrFormat)
	}
	var shape []int
	for _, p := range strings.Split(strings.Trim(s, "()"), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p = strings.TrimSuffix(p, "L")
		d, err := strconv.Atoi(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: bad dimension %q in shape", ErrFormat, p)
		}
		shape = append(shape, d)
	}
	if len(shape) > 32 {
		return nil, nil, fmt.Errorf("%w: %d dimensions", ErrFormat, len(shape))
	}
	return order, shape, nil
}

// Write encodes a as a version 1.0 little-endian float32 .npy.
func Write(w io.Writer, a *Array) error {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	if n != len(a.Data) {
		return fmt.Errorf("npy: shape %v needs %d values, have %d", a.Shape, n, len(a.Data))
	}
	var dims []string
	for _, d := range a.Shape {
		dims = append(dims, strconv.Itoa(d))
	}
	shape := strings.Join(dims, ", ")
	if len(a.Shape) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape)
	// Pad so that the data starts on a multiple of 64 bytes, ending in '\n'.
	total := len(magic) + 2 + 2 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var buf bytes.Buffer
	buf.WriteString(magic)
	buf.Write([]byte{1, 0})
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	b := make([]byte, 4*len(a.Data))
	for i, v := range a.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// WriteFile writes a to path.
func WriteFile(path string, a *Array) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	bw := bufio.NewWriter(f)
	if err := Write(bw, a); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("npy: %w", err)
	}
	return f.Close()
}
