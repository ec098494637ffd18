package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/lcnet-go/lcnet/dnn/turbojpeg"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Default limits used when a Limits field is zero.
const (
	DefaultMaxPixels = 100_000_000 // 100 megapixels
	DefaultMaxBytes  = 256 << 20   // 256 MiB of encoded data
	// DefaultMaxScans is libjpeg-turbo's TJFLAG_LIMITSCANS limit. Real
	// progressive JPEGs have about 10 scans (libjpeg's default script)
	// and rarely more than a few dozen.
	DefaultMaxScans = 500
)

// Limits bounds what Decode accepts. A zero field means its default; the
// zero Limits is therefore a sensible choice.
type Limits struct {
	// MaxPixels is the largest width*height accepted. It is checked
	// against the header before the pixels are decoded.
	MaxPixels int64
	// MaxBytes is the largest encoded size read from an io.Reader or file.
	MaxBytes int64
	// MaxScans is the largest number of scans (SOS markers) a JPEG may
	// have. Decoding time grows with scans x blocks, so a small file of
	// thousands of tiny progressive scans is a CPU bomb. It is checked
	// by reading the marker stream before any decoder runs, whichever
	// decoder is in use.
	MaxScans int
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels > 0 {
		return l.MaxPixels
	}
	return DefaultMaxPixels
}

func (l Limits) maxScans() int {
	if l.MaxScans > 0 {
		return l.MaxScans
	}
	return DefaultMaxScans
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return DefaultMaxBytes
}

type format struct {
	name   string
	magic  func([]byte) bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// The formats are matched by their magic bytes here rather than through the
// image package's global registry, so that importing this package does not
// change what image.Decode accepts elsewhere.
var formats = []format{
	{"jpeg", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xff, 0xd8}) }, jpeg.DecodeConfig, jpeg.Decode},
	{"png", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }, png.DecodeConfig, png.Decode},
	{"gif", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	}, gif.DecodeConfig, gif.Decode},
	{"bmp", func(b []byte) bool { return bytes.HasPrefix(b, []byte("BM")) }, bmp.DecodeConfig, bmp.Decode},
	{"tiff", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
	}, tiff.DecodeConfig, tiff.Decode},
	{"webp", func(b []byte) bool {
		return len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP"))
	}, webp.DecodeConfig, webp.Decode},
}

// useTurbo selects libjpeg-turbo for JPEG when it is compiled in; tests
// switch it off to check the pure-Go path.
var useTurbo = turbojpeg.Available()

// JPEGDecoder names the JPEG decoder in use: "libjpeg-turbo" (the default
// with cgo, matching OpenCV exactly) or "image/jpeg" (built with purego or
// CGO_ENABLED=0, or as the fallback for streams libjpeg-turbo refuses).
func JPEGDecoder() string {
	if useTurbo {
		return "libjpeg-turbo"
	}
	return "image/jpeg"
}

// DecodeFile reads and decodes the image file at path; see DecodeBytes.
func DecodeFile(path string, lim Limits) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("preprocess: %w", err)
	}
	defer f.Close()
	return Decode(f, lim)
}

// Decode reads at most lim.MaxBytes from r and decodes them; see DecodeBytes.
func Decode(r io.Reader, lim Limits) (*Image, error) {
	max := lim.maxBytes()
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("preprocess: reading image: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("preprocess: encoded image larger than %d bytes: %w", max, ErrTooLarge)
	}
	return DecodeBytes(b, lim)
}

// DecodeBytes decodes a JPEG, PNG, GIF (first frame), BMP, TIFF or WebP
// image into 8-bit RGB the way cv2.imread(..., cv2.IMREAD_COLOR) does
// (then converted from BGR to RGB): grey images get three equal channels,
// alpha is dropped without compositing, 16-bit samples are reduced to their
// high byte, palette images are expanded, and the EXIF orientation of JPEG
// and PNG files is applied. The header is checked against lim before any
// pixel memory is allocated. Errors wrap ErrFormat, ErrTooLarge or ErrBadSize.
func DecodeBytes(b []byte, lim Limits) (*Image, error) {
	d := Decoder{Limits: lim}
	return d.Decode(b)
}

// Decoder decodes images like DecodeBytes but reuses its pixel memory from
// one call to the next. It is not safe for concurrent use.
type Decoder struct {
	Limits Limits
	buf    []uint8
	img    Image
}

// Decode decodes b like DecodeBytes. The returned image may share memory
// with the Decoder: it is valid until the next call of Decode.
func (d *Decoder) Decode(b []byte) (img *Image, err error) {
	var f *format
	for i := range formats {
		if formats[i].magic(b) {
			f = &formats[i]
			break
		}
	}
	if f == nil {
		if len(b) == 0 {
			return nil, fmt.Errorf("preprocess: empty input: %w", ErrFormat)
		}
		return nil, fmt.Errorf("preprocess: unknown image format: %w", ErrFormat)
	}
	lim := d.Limits
	if f.name == "jpeg" {
		if n := jpegScans(b, lim.maxScans()); n > lim.maxScans() {
			return nil, fmt.Errorf("preprocess: JPEG with more than %d scans: %w", lim.maxScans(), ErrTooLarge)
		}
	}
	if f.name == "jpeg" && useTurbo {
		// libjpeg-turbo gives OpenCV's pixels. Streams it cannot give
		// pixels for, where OpenCV would still give some (CMYK and
		// YCCK, corrupt or truncated data that libjpeg only warns
		// about), go to Go's decoder. A stream refused for a limit
		// does not: that would undo the limit.
		if w, h, err := turbojpeg.Header(b); err == nil {
			if err := checkSize(w, h, lim); err != nil {
				return nil, err
			}
			img = d.image(w, h)
			err := turbojpeg.DecodeRGB(b, img.Pix, w, h)
			if err == nil {
				return orient(img, jpegOrientation(b)), nil
			}
			if turboLimit(err) {
				return nil, fmt.Errorf("preprocess: %w: %w", err, ErrTooLarge)
			}
		}
	}
	// A decoder bug must not take the caller down with it.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("preprocess: %s decoder failed: %v: %w", f.name, p, ErrFormat)
		}
	}()
	cfg, err := f.config(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("preprocess: %s header: %w", f.name, wrapFormat(err))
	}
	if err := checkSize(cfg.Width, cfg.Height, lim); err != nil {
		return nil, err
	}
	m, err := f.decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("preprocess: decoding %s: %w", f.name, wrapFormat(err))
	}
	r := m.Bounds()
	if err := checkSize(r.Dx(), r.Dy(), lim); err != nil {
		return nil, err
	}
	img = d.image(r.Dx(), r.Dy())
	toRGB(img.Pix, m)
	switch f.name {
	case "jpeg":
		img = orient(img, jpegOrientation(b))
	case "png":
		img = orient(img, pngOrientation(b))
	}
	return img, nil
}

// turboLimit reports whether libjpeg-turbo refused a stream for one of
// its limits (TJFLAG_LIMITSCANS: "Progressive JPEG image has more than
// 500 scans") rather than for its content. jpegScans makes this rare: it
// happens when Limits.MaxScans is above libjpeg-turbo's 500.
func turboLimit(err error) bool {
	return strings.Contains(err.Error(), "more than") && strings.Contains(err.Error(), "scans")
}

// jpegScans counts the scans (SOS markers) of a JPEG stream, stopping once
// the count is above limit. It walks the markers by their segment lengths
// the way decoders do: after an SOS header, the entropy-coded data is
// skipped to the next marker (in entropy-coded data 0xFF is escaped as
// 0xFF00, and 0xFFD0-0xFFD7 are restart markers inside the scan), bytes
// between segments that are not a marker are skipped (libjpeg and
// image/jpeg both tolerate them), and EOI or the end of the data ends the
// stream. The walk costs one pass over the bytes.
func jpegScans(b []byte, limit int) int {
	scans := 0
	i := 2 // after SOI
	for i < len(b) && scans <= limit {
		// Find the next marker: 0xFF (with fill bytes) then a code.
		k := bytes.IndexByte(b[i:], 0xff)
		if k < 0 {
			break
		}
		i += k
		for i < len(b) && b[i] == 0xff {
			i++
		}
		if i >= len(b) {
			break
		}
		m := b[i]
		i++
		switch {
		case m == 0x00, m == 0x01, m == 0xd8, m >= 0xd0 && m <= 0xd7:
			continue // a stuffed byte, TEM, SOI or RSTn: no length
		case m == 0xd9:
			return scans // EOI
		}
		if i+2 > len(b) {
			break
		}
		n := int(b[i])<<8 | int(b[i+1])
		if n < 2 {
			break // decoders refuse the stream
		}
		i += n
		if m != 0xda {
			continue
		}
		scans++
		// Entropy-coded data up to the next marker that is not RSTn.
		for i < len(b) {
			k := bytes.IndexByte(b[i:], 0xff)
			if k < 0 {
				return scans
			}
			i += k
			if i+1 >= len(b) {
				return scans
			}
			if c := b[i+1]; c == 0x00 || c >= 0xd0 && c <= 0xd7 {
				i += 2
				continue
			}
			break // a marker (or fill bytes before one)
		}
	}
	return scans
}

// image returns a w x h image backed by the Decoder's buffer.
func (d *Decoder) image(w, h int) *Image {
	n := 3 * w * h
	if cap(d.buf) < n {
		d.buf = make([]uint8, n)
	}
	d.img = Image{W: w, H: h, Pix: d.buf[:n]}
	return &d.img
}

func wrapFormat(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated file: %w", ErrFormat)
	}
	return fmt.Errorf("%w: %w", err, ErrFormat)
}

func checkSize(w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("preprocess: image is %dx%d: %w", w, h, ErrBadSize)
	}
	if int64(w)*int64(h) > lim.maxPixels() {
		return fmt.Errorf("preprocess: image is %dx%d, more than %d pixels: %w", w, h, lim.maxPixels(), ErrTooLarge)
	}
	return nil
}

// toRGB converts a decoded image to interleaved 8-bit RGB in p (3*w*h
// bytes) the way OpenCV's decoders with IMREAD_COLOR do.
func toRGB(p []uint8, m image.Image) {
	r := m.Bounds()
	w, h := r.Dx(), r.Dy()
	switch m := m.(type) {
	case *image.YCbCr:
		ycbcrToRGB(p, m)
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[(y)*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				v := row[x]
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				v := row[2*x]
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		// Go's decoders return *image.RGBA only for opaque data, where
		// premultiplied and straight values are the same.
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride:]
			o := p[3*w*y:]
			for x := 0; x < w; x++ {
				c := pal[row[x]]
				o[3*x], o[3*x+1], o[3*x+2] = c[0], c[1], c[2]
			}
		}
	case *image.NYCbCrA:
		ycbcrToRGB(p, &m.YCbCr)
	default:
		i := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
				p[i], p[i+1], p[i+2] = c.R, c.G, c.B
				i += 3
			}
		}
	}
}

// ycbcrToRGB converts with Go's JFIF formula (color.YCbCrToRGB), inlined.
func ycbcrToRGB(p []uint8, m *image.YCbCr) {
	r := m.Rect
	w := r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := p[3*w*(y-r.Min.Y):]
		yi := m.YOffset(r.Min.X, y)
		ci := m.COffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x++ {
			if x > r.Min.X {
				yi++
				ci = m.COffset(x, y)
			}
			yy := int32(m.Y[yi]) * 0x10101
			cb := int32(m.Cb[ci]) - 128
			cr := int32(m.Cr[ci]) - 128
			o[0] = clip8((yy + 91881*cr) >> 16)
			o[1] = clip8((yy - 22554*cb - 46802*cr) >> 16)
			o[2] = clip8((yy + 116130*cb) >> 16)
			o = o[3:]
		}
	}
}

func clip8(v int32) uint8 {
	if uint32(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}
