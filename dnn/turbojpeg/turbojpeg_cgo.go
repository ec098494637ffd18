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
// lcn_tj_header reads the size of a JPEG stream. Ownership as above.
static int lcn_tj_header(const unsigned char *src, unsigned long n,
                         int *w, int *h, char *err, int errlen) {
	tjhandle t = tjInitDecompress();
	if (!t) {
		snprintf(err, errlen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	int sub = 0, cs = 0;
	int rc = tjDecompressHeader3(t, src, n, w, h, &sub, &cs);
	if (rc != 0) {
		snprintf(err, errlen, "%s", tjGetErrorStr2(t));
	} else if (*w <= 0 || *h <= 0) {
		// libjpeg treats a stream without a frame header as a
		// tables-only stream; that is not an image.
		snprintf(err, errlen, "no frame header (size %dx%d)", *w, *h);
		rc = -1;
	}
	tjDestroy(t);
	return rc;
}

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
		// rather than a grey-filled image; refuse progressive streams
		// with more than 500 scans (a CPU-exhaustion trick).
		rc = tjDecompress2(t, src, n, dst, w, w * 3, h, TJPF_RGB,
		                   TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS);
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

// Header returns the width and height of the JPEG data without decoding it.
func Header(data []byte) (w, h int, err error) {
	if len(data) == 0 {
		return 0, 0, fmt.Errorf("turbojpeg: empty input")
	}
	var msg [256]C.char
	var cw, ch C.int
	rc := C.lcn_tj_header((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), &cw, &ch, &msg[0], C.int(len(msg)))
	if rc != 0 {
		return 0, 0, fmt.Errorf("turbojpeg: %s", C.GoString(&msg[0]))
	}
	return int(cw), int(ch), nil
}

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
