// Package le decodes little-endian float32 arrays, the layout of the weight
// bytes in every file format lcnet reads (ONNX raw_data, .pdiparams,
// safetensors F32, NumPy '<f4' pickles).
package le

import (
	"encoding/binary"
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
