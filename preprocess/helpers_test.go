package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// pngHeader returns a PNG with only an IHDR (8-bit RGB) and IEND: enough for
// DecodeConfig, nothing to decode.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		b.Write(n[:])
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.BigEndian.PutUint32(n[:], crc.Sum32())
		b.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// jpegWithSize returns a copy of a baseline JPEG whose SOF0 claims w x h.
func jpegWithSize(b []byte, w, h int) []byte {
	out := append([]byte(nil), b...)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xff {
			return nil
		}
		m := out[i+1]
		n := int(out[i+2])<<8 | int(out[i+3])
		if m == 0xc0 || m == 0xc1 || m == 0xc2 {
			out[i+5], out[i+6] = byte(h>>8), byte(h)
			out[i+7], out[i+8] = byte(w>>8), byte(w)
			return out
		}
		i += 2 + n
	}
	return nil
}
