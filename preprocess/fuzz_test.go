package preprocess

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds mutated fixtures to the decoders: they must return an
// image within the limits or an error, never panic or exceed the budget.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "inputs", "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 8000 {
			f.Add(b)
		}
	}
	f.Add(pngHeader(30000, 30000))
	lim := Limits{MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, turbo := range []bool{false, true} {
			if turbo && !JPEGUsesTurbo() {
				continue
			}
			func() {
				defer func(v bool) { useTurbo = v }(useTurbo)
				useTurbo = turbo
				img, err := DecodeBytes(b, lim)
				if err != nil {
					return
				}
				if img.W*img.H > 1<<20 || img.check() != nil {
					t.Fatalf("decoded %dx%d with %d bytes", img.W, img.H, len(img.Pix))
				}
				// Whatever decodes must also preprocess.
				if _, err := ImageNetDefault().Preprocess(img); err != nil {
					t.Fatal(err)
				}
			}()
		}
	})
}

// JPEGUsesTurbo reports whether libjpeg-turbo is compiled in (test helper).
func JPEGUsesTurbo() bool { return JPEGDecoder() == "libjpeg-turbo" }
