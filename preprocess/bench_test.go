package preprocess

import (
	"bytes"
	"image"
	"image/jpeg"
	"path/filepath"
	"testing"
)

// benchJPEG encodes the 640x427 fixture as a 4:2:0 JPEG (Go's encoder
// always subsamples chroma), quality 90.
func benchJPEG(b *testing.B) []byte {
	b.Helper()
	src := decodeFixture(b, "inputs/rgb_640x427.png")
	m := image.NewRGBA(image.Rect(0, 0, src.W, src.H))
	for i := 0; i < src.W*src.H; i++ {
		copy(m.Pix[4*i:4*i+3], src.Pix[3*i:3*i+3])
		m.Pix[4*i+3] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodePreprocess is decode + ImageNet preprocessing (short side
// 256, crop 224, normalise, CHW) of a 640x427 JPEG into a reused buffer.
func BenchmarkDecodePreprocess(b *testing.B) {
	benchDecoders(b, benchDecodePreprocess)
}

// benchDecoders runs f with each available JPEG decoder.
func benchDecoders(b *testing.B, f func(*testing.B)) {
	defer func(v bool) { useTurbo = v }(useTurbo)
	if useTurbo {
		b.Run("decoder=libjpeg-turbo", f)
	}
	useTurbo = false
	b.Run("decoder=image-jpeg", f)
}

func benchDecodePreprocess(b *testing.B) {
	data := benchJPEG(b)
	p := ImageNetDefault().NewPreprocessor()
	var d Decoder
	dst := make([]float32, 3*224*224)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		img, err := d.Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Into(dst, img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode is the JPEG decode alone.
func BenchmarkDecode(b *testing.B) { benchDecoders(b, benchDecode) }

func benchDecode(b *testing.B) {
	data := benchJPEG(b)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreprocess is resize+crop+normalise of a decoded 640x427 image.
func BenchmarkPreprocess(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  func() *Config
	}{
		{"imagenet", ImageNetDefault},
		{"textline", func() *Config {
			c, err := LoadConfig(filepath.Join("testdata", "pipe_size20x12_rgb.yml"))
			if err != nil {
				b.Fatal(err)
			}
			c.Resize.Width, c.Resize.Height = 160, 80
			return c
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			img := decodeFixture(b, "inputs/rgb_640x427.png")
			c := tc.cfg()
			p := c.NewPreprocessor()
			n, err := p.Len(img.W, img.H)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, n)
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Into(dst, img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
