package preprocess

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenCVSweep compares Resize with cv2.resize on a randomised set of
// shapes made by testdata/sweep_cv2.py. It runs only when LCNET_CV2_SWEEP
// names the output directory of that script.
func TestOpenCVSweep(t *testing.T) {
	dir := os.Getenv("LCNET_CV2_SWEEP")
	if dir == "" {
		t.Skip("set LCNET_CV2_SWEEP to a directory made by testdata/sweep_cv2.py")
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name           string
		SW, SH, DW, DH int
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	read := func(name string, w, h int) *Image {
		pix, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		img := &Image{W: w, H: h, Pix: pix}
		if err := img.check(); err != nil {
			t.Fatal(err)
		}
		return img
	}
	bad := 0
	for _, c := range cases {
		src := read(c.Name+".src", c.SW, c.SH)
		for _, k := range []struct {
			ext    string
			interp Interpolation
		}{{".lin", Linear}, {".nn", Nearest}} {
			want := read(c.Name+k.ext, c.DW, c.DH)
			got, err := Resize(src, c.DW, c.DH, k.interp)
			if err != nil {
				t.Fatal(err)
			}
			if d, n := diff(got, want); d != 0 {
				bad++
				t.Errorf("%s %v %dx%d -> %dx%d: max diff %d on %d bytes", c.Name, k.interp, c.SW, c.SH, c.DW, c.DH, d, n)
			}
		}
	}
	t.Logf("%d cases, %d mismatches", 2*len(cases), bad)
}
