//go:build !cgo || purego

package turbojpeg

// Available reports whether libjpeg-turbo is compiled in: false here.
func Available() bool { return false }

// DecodeRGB returns ErrUnavailable.
func DecodeRGB(data, dst []byte, w, h int) error { return ErrUnavailable }

// Header returns ErrUnavailable.
func Header(data []byte) (w, h int, err error) { return 0, 0, ErrUnavailable }
