package preprocess

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// readNpyFloat32 is a minimal .npy reader for the fixtures: version 1/2/3,
// little-endian float32 ('<f4'), C order. It returns the shape and data.
func readNpyFloat32(path string) ([]int, []float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, nil, fmt.Errorf("%s: not an npy file", path)
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, nil, fmt.Errorf("%s: short header", path)
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return nil, nil, fmt.Errorf("%s: npy version %d", path, b[6])
	}
	if off+hlen > len(b) {
		return nil, nil, fmt.Errorf("%s: short header", path)
	}
	h := string(b[off : off+hlen])
	if !strings.Contains(h, "'descr': '<f4'") || !strings.Contains(h, "'fortran_order': False") {
		return nil, nil, fmt.Errorf("%s: want C-order <f4, header %s", path, h)
	}
	i := strings.Index(h, "'shape': (")
	if i < 0 {
		return nil, nil, fmt.Errorf("%s: no shape in %s", path, h)
	}
	rest := h[i+len("'shape': ("):]
	rest = rest[:strings.Index(rest, ")")]
	var shape []int
	n := 1
	for _, f := range strings.Split(rest, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: shape %q", path, rest)
		}
		shape = append(shape, d)
		n *= d
	}
	data := b[off+hlen:]
	if len(data) != 4*n {
		return nil, nil, fmt.Errorf("%s: %d data bytes for %d floats", path, len(data), n)
	}
	out := make([]float32, n)
	for k := range out {
		out[k] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*k:]))
	}
	return shape, out, nil
}
