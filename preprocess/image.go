package preprocess

import (
	"errors"
	"fmt"
)

// Errors returned (wrapped) by this package. Test with errors.Is.
var (
	// ErrTooLarge reports an image above the pixel or byte budget of Limits.
	ErrTooLarge = errors.New("image too large")
	// ErrBadSize reports a zero, negative or inconsistent size.
	ErrBadSize = errors.New("bad image size")
	// ErrFormat reports an unknown, truncated or corrupt image file.
	ErrFormat = errors.New("unsupported or corrupt image")
	// ErrUnsupported reports a configuration this package cannot reproduce.
	ErrUnsupported = errors.New("unsupported")
	// ErrConfig reports an invalid preprocessing configuration.
	ErrConfig = errors.New("invalid config")
)

// Image is an 8-bit image with three interleaved channels in R, G, B order,
// rows top to bottom without padding: the pixel (x, y) starts at
// Pix[3*(y*W+x)].
type Image struct {
	W, H int
	Pix  []uint8
}

// NewImage returns a zeroed w x h image.
func NewImage(w, h int) *Image {
	return &Image{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

func (m *Image) check() error {
	if m == nil {
		return fmt.Errorf("preprocess: nil image: %w", ErrBadSize)
	}
	if m.W <= 0 || m.H <= 0 {
		return fmt.Errorf("preprocess: image is %dx%d: %w", m.W, m.H, ErrBadSize)
	}
	if len(m.Pix) != 3*m.W*m.H {
		return fmt.Errorf("preprocess: %dx%d image has %d bytes, want %d: %w", m.W, m.H, len(m.Pix), 3*m.W*m.H, ErrBadSize)
	}
	return nil
}

// SwapRB returns a copy of m with the first and third channels exchanged
// (RGB <-> BGR), e.g. to compare with arrays read by cv2.imread.
func (m *Image) SwapRB() *Image {
	out := &Image{W: m.W, H: m.H, Pix: make([]uint8, len(m.Pix))}
	for i := 0; i+2 < len(m.Pix); i += 3 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = m.Pix[i+2], m.Pix[i+1], m.Pix[i]
	}
	return out
}
