package turbojpeg

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func encode(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{uint8(x * 9), uint8(y * 5), uint8((x + y) * 3), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeRGB(t *testing.T) {
	data := encode(t, 29, 17)
	dst := make([]byte, 3*29*17)
	err := DecodeRGB(data, dst, 29, 17)
	if !Available() {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		t.Skip("built without libjpeg-turbo")
	}
	if err != nil {
		t.Fatal(err)
	}
	if w, h, err := Header(data); err != nil || w != 29 || h != 17 {
		t.Fatalf("Header = %d, %d, %v", w, h, err)
	}
	// Compare with Go's decoder: the two differ only by IDCT rounding and
	// chroma upsampling, a few levels on this smooth image.
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	maxd := 0
	for y := 0; y < 17; y++ {
		for x := 0; x < 29; x++ {
			r, g, b, _ := m.At(x, y).RGBA()
			for k, v := range []uint32{r >> 8, g >> 8, b >> 8} {
				d := int(dst[3*(29*y+x)+k]) - int(v)
				maxd = max(maxd, d, -d)
			}
		}
	}
	if maxd > 8 {
		t.Errorf("max diff to image/jpeg %d", maxd)
	}
}

func TestDecodeRGBErrors(t *testing.T) {
	if !Available() {
		t.Skip("built without libjpeg-turbo")
	}
	data := encode(t, 29, 17)
	dst := make([]byte, 3*29*17)
	for name, f := range map[string]func() error{
		"wrong size":  func() error { return DecodeRGB(data, make([]byte, 3*30*17), 30, 17) },
		"short dst":   func() error { return DecodeRGB(data, dst[:10], 29, 17) },
		"empty":       func() error { return DecodeRGB(nil, dst, 29, 17) },
		"truncated":   func() error { return DecodeRGB(data[:len(data)/2], dst, 29, 17) },
		"not a jpeg":  func() error { return DecodeRGB([]byte("hello"), dst, 29, 17) },
		"header only": func() error { return DecodeRGB(data[:200], dst, 29, 17) },
		"bad header": func() error {
			_, _, err := Header([]byte("\xff\xd8 nope"))
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
