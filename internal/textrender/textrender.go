// Package textrender draws printed text lines with real TrueType fonts, the
// kind of crops PaddleOCR's text-line orientation classifier receives, for
// tests and examples that need realistic inputs without image fixtures.
package textrender

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/lcnet-go/lcnet/preprocess"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Font is a parsed TrueType font.
type Font struct {
	Name string
	f    *opentype.Font
}

// DejaVuDir is where Debian's fonts-dejavu-core installs its fonts.
const DejaVuDir = "/usr/share/fonts/truetype/dejavu"

// Fonts returns Go Regular, Go Mono and, when installed, DejaVu Sans and
// DejaVu Serif.
func Fonts() ([]*Font, error) {
	var fs []*Font
	for _, s := range []struct {
		name string
		ttf  []byte
	}{{"goregular", goregular.TTF}, {"gomono", gomono.TTF}} {
		f, err := Parse(s.name, s.ttf)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	for _, name := range []string{"DejaVuSans.ttf", "DejaVuSerif.ttf"} {
		b, err := os.ReadFile(filepath.Join(DejaVuDir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("textrender: %w", err)
		}
		f, err := Parse(name, b)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// Parse parses a TrueType or OpenType font file.
func Parse(name string, ttf []byte) (*Font, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("textrender: %s: %w", name, err)
	}
	return &Font{Name: name, f: f}, nil
}

// Style is how a line is drawn.
type Style struct {
	Size       float64    // font size in pixels (em height)
	FG, BG     color.RGBA // text and background colours
	PadX, PadY int        // background margin around the text's box
}

// Render draws text on a single line: the image is the text's advance
// width by the font's ascent+descent, plus the padding, upright.
func Render(f *Font, text string, st Style) (*preprocess.Image, error) {
	if st.Size <= 0 {
		return nil, fmt.Errorf("textrender: font size %v", st.Size)
	}
	face, err := opentype.NewFace(f.f, &opentype.FaceOptions{Size: st.Size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("textrender: %w", err)
	}
	defer face.Close()
	m := face.Metrics()
	adv := font.MeasureString(face, text)
	w := adv.Ceil() + 2*st.PadX
	h := (m.Ascent + m.Descent).Ceil() + 2*st.PadY
	if w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 {
		return nil, fmt.Errorf("textrender: %q would be %dx%d", text, w, h)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(st.BG), image.Point{}, draw.Src)
	d := font.Drawer{Dst: dst, Src: image.NewUniform(st.FG), Face: face,
		Dot: fixed.Point26_6{X: fixed.I(st.PadX), Y: fixed.I(st.PadY) + m.Ascent}}
	d.DrawString(text)
	return FromImage(dst), nil
}

// FromImage converts any image to an RGB preprocess.Image (alpha ignored).
func FromImage(src image.Image) *preprocess.Image {
	b := src.Bounds()
	out := preprocess.NewImage(b.Dx(), b.Dy())
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(src.At(x, y)).(color.RGBA)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
	return out
}

// ToImage converts img to an *image.RGBA.
func ToImage(img *preprocess.Image) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	for i := range img.W * img.H {
		copy(dst.Pix[4*i:4*i+3], img.Pix[3*i:3*i+3])
		dst.Pix[4*i+3] = 255
	}
	return dst
}

// Rotate180 returns img turned upside down.
func Rotate180(img *preprocess.Image) *preprocess.Image {
	out := preprocess.NewImage(img.W, img.H)
	n := img.W * img.H
	for i := range n {
		copy(out.Pix[3*(n-1-i):3*(n-i)], img.Pix[3*i:3*i+3])
	}
	return out
}

// EncodePNG writes img as an 8-bit RGBA PNG.
func EncodePNG(w io.Writer, img *preprocess.Image) error {
	return png.Encode(w, ToImage(img))
}

// Lines are sample text lines: sentences, numbers, mixed case, capitals,
// punctuation, of different lengths (aspect ratios about 5 to 18 as
// rendered by Samples).
var Lines = []string{
	"The quick brown fox jumps over the lazy dog.",
	"Invoice No. 2024-0187",
	"Total amount due: $1,249.50",
	"FIVE DOZEN LIQUOR JUGS",
	"Meeting moved to Thursday at 3:30 pm",
	"Tel: +49 30 1234 5678",
	"lowercase letters only here",
	"Section 4.2 Results and Discussion",
	"Please sign and return by 15 March 2025",
	"Order #A7X-99213 shipped",
	"Hello, World!",
	"Batch size 64, learning rate 0.001",
	"Chapter Seven",
	"www.example.com/contact",
	"Net weight 500 g (17.6 oz)",
	"Keep out of reach of children",
	"ID 0042 7781 3390",
	"Sphinx of black quartz, judge my vow",
	"Room 221B, Baker Street, London",
	"Temperature: -3.5 C to 12 C",
	"Quality Assurance Report",
	"Serial number SN-88812-QZ",
	"Best before 2026/08/31",
	"How vexingly quick daft zebras jump",
}

// Sample is one text line with how to draw it.
type Sample struct {
	Text  string
	Font  *Font
	Style Style
}

// Samples pairs every line of Lines with a font of fs and a style, cycling
// through sizes (18-40 px), colour schemes (black on white, grey
// backgrounds, dark colours on light ones) and small paddings. It is
// deterministic.
func Samples(fs []*Font) []Sample {
	schemes := []struct{ fg, bg color.RGBA }{
		{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}},
		{color.RGBA{0, 0, 0, 255}, color.RGBA{200, 200, 200, 255}},
		{color.RGBA{20, 30, 120, 255}, color.RGBA{245, 240, 225, 255}},
		{color.RGBA{40, 40, 40, 255}, color.RGBA{225, 225, 225, 255}},
		{color.RGBA{110, 20, 20, 255}, color.RGBA{250, 250, 240, 255}},
		{color.RGBA{0, 0, 0, 255}, color.RGBA{170, 170, 170, 255}},
		{color.RGBA{10, 80, 30, 255}, color.RGBA{235, 245, 235, 255}},
	}
	sizes := []float64{18, 24, 32, 40, 28, 22}
	var out []Sample
	for i, line := range Lines {
		s := schemes[i%len(schemes)]
		size := sizes[i%len(sizes)]
		out = append(out, Sample{Text: line, Font: fs[i%len(fs)], Style: Style{
			Size: size, FG: s.fg, BG: s.bg, PadX: 2 + i%5, PadY: 1 + i%4,
		}})
	}
	return out
}
