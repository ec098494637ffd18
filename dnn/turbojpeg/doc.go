// Package turbojpeg decodes JPEG images with libjpeg-turbo (Debian
// libturbojpeg0-dev) through cgo, giving the same pixels as OpenCV's
// cv2.imread/imdecode, which uses libjpeg-turbo's default settings: the
// accurate integer IDCT and "fancy" (triangle-filter) chroma upsampling.
//
// The cgo implementation builds with the tags cgo && !purego. Otherwise
// Available reports false and DecodeRGB returns ErrUnavailable, so that
// callers fall back to a pure-Go decoder.
package turbojpeg

import "errors"

// ErrUnavailable is returned when the package was built without cgo or
// with the purego tag.
var ErrUnavailable = errors.New("turbojpeg: libjpeg-turbo not available (built without cgo or with purego)")
