// Package le decodes little-endian float32 arrays, the layout of the weight
// bytes in every file format lcnet reads (ONNX raw_data, .pdiparams,
// safetensors F32, NumPy '<f4' pickles).
package le

import (
	"encoding/binary"
	"io"
	"math"
	"unsafe"
)

// native is true on little-endian hosts (amd64, arm64, ...), where the
// bytes already are float32s in memory order.
var native = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Float32s fills dst with the len(dst) little-endian float32 values at the
// start of src, bit for bit (NaN payloads included). src must hold at least
// 4*len(dst) bytes. On a little-endian host it is one memmove (a 12 MB
// weight file: ~1 ms instead of ~4 for the element loop).
func Float32s(dst []float32, src []byte) {
	if len(dst) == 0 {
		return
	}
	src = src[:4*len(dst)] // the bounds check for both paths
	if native {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), src)
		return
	}
	float32sLoop(dst, src)
}

// float32sLoop is the element loop: Float32s on big-endian hosts, and the
// reference its test checks the fast path against.
func float32sLoop(dst []float32, src []byte) {
	for k := range dst {
		dst[k] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*k:]))
	}
}

// ReadFloat32s fills dst with len(dst) little-endian float32 values read
// from r: on a little-endian host straight into dst's memory, else through
// a small buffer. Its errors are io.ReadFull's.
func ReadFloat32s(r io.Reader, dst []float32) error {
	if len(dst) == 0 {
		return nil
	}
	if native {
		_, err := io.ReadFull(r, unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)))
		return err
	}
	return readFloat32sLoop(r, dst)
}

// readFloat32sLoop is ReadFloat32s through a buffer and float32sLoop: the
// big-endian path, and the reference of the test.
func readFloat32sLoop(r io.Reader, dst []float32) error {
	var buf [4096]byte
	for len(dst) > 0 {
		n := min(len(dst), len(buf)/4)
		if _, err := io.ReadFull(r, buf[:4*n]); err != nil {
			return err
		}
		float32sLoop(dst[:n], buf[:])
		dst = dst[n:]
	}
	return nil
}
