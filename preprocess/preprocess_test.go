package preprocess

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

type manifest struct {
	Decode []struct {
		Name, Input, Expected, Note string
		W, H                        int
	}
	Resize []struct {
		Name, Input, Expected string
		Params                caseParams
		W, H                  int
	}
	Pipeline []struct {
		Name, Input, Config, Expected, Formula string
	}
	JPEG []struct {
		Name, Input, Decoded, Resized string
		Params                        caseParams
		W, H                          int
	} `json:"jpeg"`
	OpenCV string `json:"opencv"`
}

type caseParams struct {
	ResizeShort   int    `json:"resize_short"`
	Size          []int  `json:"size"`
	Crop          []int  `json:"crop"`
	Interpolation string `json:"interpolation"`
}

// config turns fixture parameters into a Config without normalisation, so
// that the tensor holds the uint8 pixel values.
func (p caseParams) config() *Config {
	c := &Config{CHW: false}
	r := &ResizeOp{ResizeShort: p.ResizeShort, Interp: Linear}
	if len(p.Size) == 2 {
		r.Width, r.Height = p.Size[0], p.Size[1]
	}
	if p.Interpolation == "nearest" {
		r.Interp = Nearest
	}
	c.Resize = r
	if len(p.Crop) == 2 {
		c.Crop = &CropOp{Width: p.Crop[0], Height: p.Crop[1]}
	}
	return c
}

func loadManifest(t testing.TB) *manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatalf("%v (run /usr/bin/python3 preprocess/testdata/gen_cv2.py)", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// readRGBPNG reads an 8-bit RGB expected image written by the generator.
func readRGBPNG(t testing.TB, path string) *Image {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	img := NewImage(m.Bounds().Dx(), m.Bounds().Dy())
	toRGB(img.Pix, m)
	return img
}

func decodeFixture(t testing.TB, path string) *Image {
	t.Helper()
	img, err := DecodeFile(filepath.Join("testdata", path), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// diff returns the largest absolute difference and how many bytes differ.
func diff(a, b *Image) (maxd, n int) {
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			n++
		}
		maxd = max(maxd, d)
	}
	return maxd, n
}

func TestDecodeMatchesOpenCV(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Decode {
		t.Run(c.Name, func(t *testing.T) {
			got := decodeFixture(t, c.Input)
			want := readRGBPNG(t, c.Expected)
			if got.W != want.W || got.H != want.H {
				t.Fatalf("size %dx%d, cv2 %dx%d", got.W, got.H, want.W, want.H)
			}
			if d, n := diff(got, want); d != 0 {
				t.Errorf("max diff %d on %d bytes, want exact", d, n)
			}
		})
	}
}

// TestResizeMatchesOpenCV compares cv2.resize (and the PaddleClas crop) on
// lossless inputs: the result must be exact.
func TestResizeMatchesOpenCV(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Resize {
		t.Run(c.Name, func(t *testing.T) {
			src := decodeFixture(t, c.Input)
			want := readRGBPNG(t, c.Expected)
			got := runUint8(t, c.Params.config(), src)
			if got.W != want.W || got.H != want.H {
				t.Fatalf("size %dx%d, cv2 %dx%d", got.W, got.H, want.W, want.H)
			}
			d, n := diff(got, want)
			t.Logf("max diff %d, %d of %d bytes differ", d, n, len(got.Pix))
			if d != 0 {
				t.Errorf("max diff %d on %d bytes, want exact", d, n)
			}
			if c.Params.Crop == nil {
				// The exported Resize must agree with the pipeline.
				r, err := Resize(src, c.W, c.H, c.Params.config().Resize.Interp)
				if err != nil {
					t.Fatal(err)
				}
				if d, n := diff(r, want); d != 0 {
					t.Errorf("Resize: max diff %d on %d bytes", d, n)
				}
			}
		})
	}
}

// runUint8 runs a normalisation-free config and returns the uint8 result.
func runUint8(t testing.TB, c *Config, src *Image) *Image {
	t.Helper()
	p := c.NewPreprocessor()
	oh, ow, err := c.OutputSize(src.W, src.H)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 3*oh*ow)
	if err := p.Into(dst, src); err != nil {
		t.Fatal(err)
	}
	out := NewImage(ow, oh)
	for i, v := range dst {
		out.Pix[i] = uint8(v)
	}
	return out
}

// TestJPEGAgreement measures Go's image/jpeg against libjpeg-turbo (cv2) and
// asserts the measured bounds.
func TestJPEGAgreement(t *testing.T) {
	t.Run("decoder=image/jpeg", func(t *testing.T) {
		defer func(v bool) { useTurbo = v }(useTurbo)
		useTurbo = false
		testJPEGAgreement(t, false)
	})
	t.Run("decoder=libjpeg-turbo", func(t *testing.T) {
		if !useTurbo {
			t.Skip("built without libjpeg-turbo")
		}
		testJPEGAgreement(t, true)
	})
}

func testJPEGAgreement(t *testing.T, exact bool) {
	m := loadManifest(t)
	// Largest differences measured with Go's image/jpeg against
	// libjpeg-turbo 2.1 (Debian 12's cv2 4.6), pinned so that a change
	// shows: the IDCTs differ by a few levels; Go upsamples chroma by
	// replication where libjpeg-turbo interpolates ("fancy upsampling"),
	// which costs tens of levels at colour edges of 4:2:0 and 4:2:2 images.
	bounds := map[string][2]int{ // decode, after resize+crop
		"jpeg444_160x120":   {3, 3},
		"jpeg420_160x120":   {54, 25},
		"jpeg422_160x120":   {62, 14},
		"jpeggrey_160x120":  {1, 1},
		"jpegexif6_160x120": {54, 25},
	}
	for _, c := range m.JPEG {
		t.Run(c.Name, func(t *testing.T) {
			got := decodeFixture(t, c.Input)
			want := readRGBPNG(t, c.Decoded)
			if got.W != want.W || got.H != want.H {
				t.Fatalf("size %dx%d, cv2 %dx%d", got.W, got.H, want.W, want.H)
			}
			d, n := diff(got, want)
			wantR := readRGBPNG(t, c.Resized)
			gotR := runUint8(t, c.Params.config(), got)
			dr, nr := diff(gotR, wantR)
			t.Logf("decode: max diff %d on %d/%d bytes; resize+crop: max diff %d on %d/%d bytes",
				d, n, len(got.Pix), dr, nr, len(gotR.Pix))
			b, ok := bounds[c.Name]
			if !ok {
				t.Fatalf("no bound for %s", c.Name)
			}
			if exact {
				b = [2]int{}
			}
			if d > b[0] || dr > b[1] {
				t.Errorf("diff %d / %d above bound %v", d, dr, b)
			}
		})
	}
}

func TestPipelineMatchesNumpy(t *testing.T) {
	m := loadManifest(t)
	for _, c := range m.Pipeline {
		t.Run(c.Name, func(t *testing.T) {
			cfg, err := LoadConfig(filepath.Join("testdata", c.Config))
			if err != nil {
				t.Fatal(err)
			}
			if c.Formula == "paddlex" {
				cfg.Formula = PaddleXFormula
			}
			img := decodeFixture(t, c.Input)
			got, err := cfg.Preprocess(img)
			if err != nil {
				t.Fatal(err)
			}
			shape, want, err := readNpyFloat32(filepath.Join("testdata", c.Expected))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d values, want %d (shape %v)", len(got), len(want), shape)
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("value %d: %v, numpy %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestNormalizeTables checks every uint8 value against numpy's float32
// arithmetic for both frameworks, bit for bit.
func TestNormalizeTables(t *testing.T) {
	for _, tc := range []struct {
		file    string
		formula Formula
		scale   float64
	}{
		{"norm_paddleclas.npy", PaddleClasFormula, 1.0 / 255.0},
		{"norm_paddlex.npy", PaddleXFormula, 1.0 / 255},
		{"norm_paddleclas_0.00392157.npy", PaddleClasFormula, 0.00392157},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, want, err := readNpyFloat32(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			c := ImageNetDefault()
			c.Normalize.Scale = tc.scale
			c.Formula = tc.formula
			p := c.NewPreprocessor()
			for k := 0; k < 3; k++ {
				for v := 0; v < 256; v++ {
					if g, w := p.lut[k][v], want[256*k+v]; math.Float32bits(g) != math.Float32bits(w) {
						t.Errorf("channel %d value %d: %v, numpy %v", k, v, g, w)
					}
				}
			}
		})
	}
}

// TestWindowEqualsResizeThenCrop checks that computing only the crop window
// gives the pixels of a full resize followed by the crop, on odd shapes.
func TestWindowEqualsResizeThenCrop(t *testing.T) {
	src := NewImage(37, 23)
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i/3)
	}
	for _, s := range [][6]int{
		{50, 40, 3, 5, 17, 11}, {37, 23, 1, 1, 30, 20}, {12, 9, 0, 0, 12, 9},
		{200, 100, 88, 40, 24, 20}, {5, 3, 2, 1, 3, 2}, {74, 46, 10, 0, 30, 46},
	} {
		dw, dh, x0, y0, cw, ch := s[0], s[1], s[2], s[3], s[4], s[5]
		for _, interp := range []Interpolation{Linear, Nearest} {
			full, err := Resize(src, dw, dh, interp)
			if err != nil {
				t.Fatal(err)
			}
			var r resizer
			win := make([]uint8, 3*cw*ch)
			if err := r.run(win, src, dw, dh, x0, y0, cw, ch, interp); err != nil {
				t.Fatal(err)
			}
			for y := 0; y < ch; y++ {
				for x := 0; x < 3*cw; x++ {
					if g, w := win[3*cw*y+x], full.Pix[3*dw*(y0+y)+3*x0+x]; g != w {
						t.Fatalf("%v %v: (%d,%d): %d, want %d", s, interp, x, y, g, w)
					}
				}
			}
		}
	}
}

func TestTargetSizeRoundsHalfToEven(t *testing.T) {
	r := &ResizeOp{ResizeShort: 256}
	for _, c := range [][4]int{
		{513, 512, 256, 256}, // 256.5 -> 256
		{512, 513, 256, 256},
		{515, 512, 258, 256}, // 257.5 -> 258
		{640, 427, 384, 256},
		{1, 1, 256, 256},
		{3, 7, 256, 597},
	} {
		w, h := r.TargetSize(c[0], c[1])
		if w != c[2] || h != c[3] {
			t.Errorf("%dx%d -> %dx%d, want %dx%d", c[0], c[1], w, h, c[2], c[3])
		}
	}
}

func TestOrientationRoundTrip(t *testing.T) {
	// Orientation o maps a stored image to its upright view; applying the
	// inverse listed here must restore the original.
	inv := map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
	src := NewImage(5, 3)
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	for o := 1; o <= 8; o++ {
		back := orient(orient(src, o), inv[o])
		if d, _ := diff(back, src); d != 0 || back.W != 5 {
			t.Errorf("orientation %d does not round-trip", o)
		}
	}
}

func TestErrors(t *testing.T) {
	png30k := pngHeader(30000, 30000)
	for _, tc := range []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrFormat},
		{"garbage", []byte("hello, world"), Limits{}, ErrFormat},
		{"png bomb 30000x30000", png30k, Limits{}, ErrTooLarge},
		{"png over custom budget", pngHeader(100, 100), Limits{MaxPixels: 9999}, ErrTooLarge},
		{"png zero width", pngHeader(0, 10), Limits{}, ErrFormat},
		{"bytes over budget", png30k, Limits{MaxBytes: 10}, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBytes(tc.data, tc.lim)
			if tc.lim.MaxBytes > 0 {
				_, err = Decode(bytesReader(tc.data), tc.lim)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err.Error()[:12] != "preprocess: " {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	// Every truncation of every fixture must fail cleanly, never panic.
	m := loadManifest(t)
	for _, c := range m.Decode {
		b, err := os.ReadFile(filepath.Join("testdata", c.Input))
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(b)/97)
		for n := 0; n < len(b)-1; n += step {
			img, err := DecodeBytes(b[:n], Limits{})
			if err == nil && (img.W != c.W || img.H != c.H) {
				t.Errorf("%s truncated to %d: decoded %dx%d without error", c.Name, n, img.W, img.H)
			}
		}
	}
}

func TestOutputSizeLimits(t *testing.T) {
	c := ImageNetDefault()
	c.Crop = nil
	if _, _, err := c.OutputSize(1, 1_000_000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("1x1e6 with resize_short 256, no crop: err = %v", err)
	}
	c = ImageNetDefault()
	if h, w, err := c.OutputSize(1, 1_000_000); err != nil || h != 224 || w != 224 {
		t.Errorf("1x1e6 with crop: %d, %d, %v", h, w, err)
	}
	c.Resize = nil
	if _, _, err := c.OutputSize(100, 300); !errors.Is(err, ErrBadSize) {
		t.Errorf("crop larger than image: err = %v", err)
	}
	// A 1-pixel-wide, very tall image still preprocesses (only the crop
	// window is resized).
	img := NewImage(1, 100_000)
	if _, err := ImageNetDefault().Preprocess(img); err != nil {
		t.Error(err)
	}
}

func TestConfigRealModel(t *testing.T) {
	const path = "/work/shared/models/pplcnet_x0_25_textline_ori/paddle/inference.yml"
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.ModelName != "PP-LCNet_x0_25_textline_ori" || c.Resize == nil || c.Resize.Width != 160 ||
		c.Resize.Height != 80 || c.Crop != nil || !c.CHW || c.TopK != 2 ||
		fmt.Sprint(c.Labels) != "[0_degree 180_degree]" || c.Normalize.Scale != 0.00392156862745098 {
		t.Fatalf("parsed %+v", c)
	}
	if h, w := c.InputSize(); h != 80 || w != 160 {
		t.Errorf("InputSize = %d, %d", h, w)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{"PreProcess:\n  transform_ops:\n  - RandFlipImage: {}\n", `unknown transform "RandFlipImage"`},
		{"PreProcess:\n  transform_ops:\n  - ResizeImage: {size: 3, foo: 1}\n", `unknown option "foo"`},
		{"PreProcess:\n  transform_ops:\n  - ResizeImage: {}\n", "needs size or resize_short"},
		{"PreProcess:\n  transform_ops:\n  - CropImage: {size: 2}\n  - ResizeImage: {size: 3}\n", "out of order"},
		{"PreProcess:\n  transform_ops:\n  - ResizeImage: {size: 3, backend: pil}\n", "backend"},
		{"PreProcess:\n  transform_ops:\n  - NormalizeImage: {scale: 1/0}\n", "division by zero"},
		{"Global: {}\n", "no PreProcess"},
		{"PreProcess: [\n", "parsing config"},
	} {
		_, err := ParseConfig([]byte(tc.yml))
		if err == nil || !contains(err.Error(), tc.want) || !contains(err.Error(), "preprocess: ") {
			t.Errorf("%q: err = %v, want %q", tc.yml, err, tc.want)
		}
	}
}

func TestConfigScaleForms(t *testing.T) {
	for s, want := range map[string]float64{
		"1.0/255.0": 1.0 / 255.0, "'1.0/255.0'": 1.0 / 255.0, "0.00392157": 0.00392157, "1/255": 1.0 / 255, "2": 2,
	} {
		c, err := ParseConfig([]byte("PreProcess:\n  transform_ops:\n  - NormalizeImage:\n      scale: " + s + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Normalize.Scale != want {
			t.Errorf("scale %s = %v, want %v", s, c.Normalize.Scale, want)
		}
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

var _ image.Image // keep image imported for helpers in other test files
