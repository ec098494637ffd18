//go:build cgo && !purego

package turbojpeg

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

// lcn_tj_decode_rgb decodes a whole JPEG into dst (w*h*3 bytes, RGB) in one
// crossing. It checks that the stream's size is w x h before writing.
// Ownership: src and dst belong to the caller and are not kept after the
// call returns. On failure it returns -1 and copies the message to err.
static int lcn_tj_decode_rgb(const unsigned char *src, unsigned long n,
                             unsigned char *dst, int w, int h,
                             char *err, int errlen) {
	tjhandle t = tjInitDecompress();
	if (!t) {
		snprintf(err, errlen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	int jw = 0, jh = 0, sub = 0, cs = 0;
	int rc = tjDecompressHeader3(t, src, n, &jw, &jh, &sub, &cs);
	if (rc == 0 && (jw != w || jh != h)) {
		snprintf(err, errlen, "header says %dx%d, expected %dx%d", jw, jh, w, h);
		tjDestroy(t);
		return -1;
	}
	if (rc == 0) {
		// Default flags: accurate DCT, fancy upsampling; stop on
		// warnings so that truncated or corrupt data is an error
		// rather than a grey-filled image.
		rc = tjDecompress2(t, src, n, dst, w, w * 3, h, TJPF_RGB, TJFLAG_STOPONWARNING);
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s", tjGetErrorStr2(t));
	}
	tjDestroy(t);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Available reports whether libjpeg-turbo is compiled in.
func Available() bool { return true }

// DecodeRGB decodes the JPEG data, whose size (from its header) must be
// w x h, into dst as interleaved 8-bit RGB (len(dst) == 3*w*h). It does not
// keep data or dst. Corrupt, truncated or unsupported streams (libjpeg-turbo
// cannot convert CMYK to RGB) return an error.
func DecodeRGB(data, dst []byte, w, h int) error {
	if w <= 0 || h <= 0 || len(dst) != 3*w*h {
		return fmt.Errorf("turbojpeg: destination of %d bytes for %dx%d", len(dst), w, h)
	}
	if len(data) == 0 {
		return fmt.Errorf("turbojpeg: empty input")
	}
	var msg [256]C.char
	rc := C.lcn_tj_decode_rgb((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)),
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.int(w), C.int(h), &msg[0], C.int(len(msg)))
	if rc != 0 {
		return fmt.Errorf("turbojpeg: %s", C.GoString(&msg[0]))
	}
	return nil
}
