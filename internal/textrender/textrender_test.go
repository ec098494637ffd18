package textrender

import (
	"bytes"
	"image/png"
	"testing"
)

func TestRender(t *testing.T) {
	fs, err := Fonts()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 2 {
		t.Fatalf("%d fonts", len(fs))
	}
	samples := Samples(fs)
	if len(samples) < 20 {
		t.Fatalf("%d samples, want >= 20", len(samples))
	}
	for _, s := range samples {
		img, err := Render(s.Font, s.Text, s.Style)
		if err != nil {
			t.Fatal(err)
		}
		if img.W < img.H || img.H < int(s.Style.Size) {
			t.Errorf("%q: %dx%d image for size %v", s.Text, img.W, img.H, s.Style.Size)
		}
		// Text was drawn: some pixels differ from the background.
		bg := s.Style.BG
		ink := 0
		for i := 0; i < len(img.Pix); i += 3 {
			if img.Pix[i] != bg.R || img.Pix[i+1] != bg.G || img.Pix[i+2] != bg.B {
				ink++
			}
		}
		if frac := float64(ink) / float64(img.W*img.H); frac < 0.03 || frac > 0.6 {
			t.Errorf("%q (%s): ink covers %.3f of the image", s.Text, s.Font.Name, frac)
		}
		r := Rotate180(Rotate180(img))
		if !bytes.Equal(r.Pix, img.Pix) {
			t.Fatal("Rotate180 twice is not the identity")
		}
	}
	var buf bytes.Buffer
	img, _ := Render(fs[0], "PNG", Style{Size: 20, BG: samples[0].Style.BG})
	if err := EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(FromImage(back).Pix, img.Pix) {
		t.Error("PNG round trip changed the pixels")
	}
}
