package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/le"
	"github.com/lcnet-go/lcnet/internal/prefault"
)

// maxRank bounds every shape the importer accepts.
const maxRank = 8

// batchMark stands for the symbolic batch dimension in constant shape
// vectors computed from Shape: a Reshape target holding it keeps the batch.
const batchMark = -(int64(1) << 40)

// constT is a constant value of the ONNX graph: an initializer, a Constant
// node's output, or a folded shape computation. Float tensors keep f,
// integer tensors keep i (isInt).
type constT struct {
	shape []int
	f     []float32
	i     []int64
	isInt bool
	// The graph tensors made from the constant, made once: every node
	// that reads the constant (a weight shared by many nodes) shares
	// them, and their data is f itself. Graph passes replace tensors
	// rather than change them, so sharing is safe.
	t, vec *graph.Tensor
}

func (c *constT) numel() int {
	if c.isInt {
		return len(c.i)
	}
	return len(c.f)
}

// floats returns the values as float32 (integers converted).
func (c *constT) floats() []float32 {
	if !c.isInt {
		return c.f
	}
	f := make([]float32, len(c.i))
	for k, v := range c.i {
		f[k] = float32(v)
	}
	return f
}

// ints returns the values as int64; float values must be integral.
func (c *constT) ints() ([]int64, error) {
	if c.isInt {
		return c.i, nil
	}
	out := make([]int64, len(c.f))
	for k, v := range c.f {
		if float32(int64(v)) != v {
			return nil, fmt.Errorf("value %g is not an integer", v)
		}
		out[k] = int64(v)
	}
	return out, nil
}

// scalar returns the single value of a one-element constant.
func (c *constT) scalar() (float64, bool) {
	if c.numel() != 1 {
		return 0, false
	}
	if c.isInt {
		return float64(c.i[0]), true
	}
	return float64(c.f[0]), true
}

// tensor returns the constant as a graph tensor of its shape, made once
// and shared by every caller. Its data is the constant's own (no copy: the
// importer and the graph passes never write into either).
func (c *constT) tensor() *graph.Tensor {
	if c.t == nil {
		c.t = &graph.Tensor{Shape: append([]int(nil), c.shape...), Data: c.floats()}
	}
	return c.t
}

// vector returns the constant as a graph tensor of shape [numel], made
// once and shared by every caller, on the constant's data like tensor.
func (c *constT) vector() *graph.Tensor {
	if c.vec == nil {
		c.vec = &graph.Tensor{Shape: []int{c.numel()}, Data: c.floats()}
	}
	return c.vec
}

// checkedNumel multiplies dims, rejecting negative dims and products above
// limit (which also rules out overflow).
func checkedNumel(dims []int64, limit int) (int, []int, error) {
	if len(dims) > maxRank {
		return 0, nil, fmt.Errorf("rank %d above %d", len(dims), maxRank)
	}
	n := 1
	shape := make([]int, len(dims))
	for k, d := range dims {
		if d < 0 || d > int64(limit) {
			return 0, nil, fmt.Errorf("dimension %d is %d", k, d)
		}
		shape[k] = int(d)
		if d != 0 && n > limit/int(d) {
			return 0, nil, fmt.Errorf("shape %v has more than %d elements", dims, limit)
		}
		n *= int(d)
	}
	return n, shape, nil
}

// toConst converts a TensorProto, checking the element count against the
// bytes present before allocating.
func toConst(t *pTensor, limit int) (*constT, error) {
	switch {
	case t.external:
		return nil, fmt.Errorf("%w: tensor %q uses external data; re-save the model with all tensors inside the file (onnx.save_model(m, path, save_as_external_data=False))", ErrUnsupported, t.name)
	case t.segment:
		return nil, fmt.Errorf("%w: tensor %q is segmented", ErrUnsupported, t.name)
	}
	n, shape, err := checkedNumel(t.dims, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.name, err)
	}
	c := &constT{shape: shape}
	bad := func(what string, got int) error {
		return fmt.Errorf("%w: tensor %q of shape %v holds %d %s, want %d", ErrFormat, t.name, shape, got, what, n)
	}
	size := 0
	switch t.dataType {
	case dtFloat, dtInt32:
		size = 4
	case dtInt64, dtDouble:
		size = 8
	case dtFloat16:
		size = 2
	case dtInt8, dtUint8, dtBool:
		size = 1
	default:
		return nil, fmt.Errorf("%w: tensor %q has data type %d", ErrUnsupported, t.name, t.dataType)
	}
	if t.hasRaw {
		if len(t.raw) != n*size {
			return nil, bad("raw bytes", len(t.raw))
		}
		if len(t.floats)+len(t.int32s)+len(t.int64s)+len(t.doubles) != 0 {
			return nil, fmt.Errorf("%w: tensor %q has both raw_data and typed data", ErrFormat, t.name)
		}
	}
	raw := t.raw
	le32 := func(k int) uint32 { return binary.LittleEndian.Uint32(raw[k : k+4]) }
	le64 := func(k int) uint64 { return binary.LittleEndian.Uint64(raw[k : k+8]) }
	switch t.dataType {
	case dtFloat:
		if t.hasRaw {
			c.f = prefault.Slice(make([]float32, n))
			le.Float32s(c.f, raw)
		} else {
			if len(t.floats) != n {
				return nil, bad("float_data values", len(t.floats))
			}
			c.f = t.floats
		}
	case dtDouble:
		if !t.hasRaw && len(t.doubles) != n {
			return nil, bad("double_data values", len(t.doubles))
		}
		c.f = make([]float32, n)
		for k := range c.f {
			if t.hasRaw {
				c.f[k] = float32(math.Float64frombits(le64(8 * k)))
			} else {
				c.f[k] = float32(t.doubles[k])
			}
		}
	case dtFloat16:
		if !t.hasRaw && len(t.int32s) != n {
			return nil, bad("int32_data values", len(t.int32s))
		}
		c.f = make([]float32, n)
		for k := range c.f {
			var h uint16
			if t.hasRaw {
				h = uint16(raw[2*k]) | uint16(raw[2*k+1])<<8
			} else {
				h = uint16(t.int32s[k])
			}
			c.f[k] = halfToFloat(h)
		}
	case dtInt64:
		c.isInt = true
		if !t.hasRaw {
			if len(t.int64s) != n {
				return nil, bad("int64_data values", len(t.int64s))
			}
			c.i = t.int64s
			break
		}
		c.i = make([]int64, n)
		for k := range c.i {
			c.i[k] = int64(le64(8 * k))
		}
	default: // int32, int8, uint8, bool
		c.isInt = true
		if !t.hasRaw && len(t.int32s) != n {
			return nil, bad("int32_data values", len(t.int32s))
		}
		c.i = make([]int64, n)
		for k := range c.i {
			switch {
			case !t.hasRaw:
				c.i[k] = int64(int32(t.int32s[k]))
			case t.dataType == dtInt32:
				c.i[k] = int64(int32(le32(4 * k)))
			case t.dataType == dtInt8:
				c.i[k] = int64(int8(raw[k]))
			default:
				c.i[k] = int64(raw[k])
			}
		}
	}
	return c, nil
}

// halfToFloat converts IEEE 754 binary16 bits to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		return float32(math.Copysign(float64(frac)*math.Pow(2, -24), float64(int32(sign)>>31|1)))
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
