package lcnet_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/internal/textrender"
	"github.com/lcnet-go/lcnet/preprocess"
)

func TestIsDistributionSoftmax(t *testing.T) {
	for _, c := range []struct {
		row  []float32
		want bool
	}{
		{[]float32{0.25, 0.75}, true},
		{[]float32{1}, true},
		{[]float32{0.2, 0.3, 0.5001}, true},
		{[]float32{0.2, 0.3, 0.6}, false},
		{[]float32{-0.1, 1.1}, false},
		{[]float32{2.5, -1}, false},
		{[]float32{float32(math.NaN()), 1}, false},
		{[]float32{float32(math.Inf(1)), 0}, false},
	} {
		if got := lcnet.IsDistribution(c.row); got != c.want {
			t.Errorf("IsDistribution(%v) = %v", c.row, got)
		}
	}
	x := []float32{1000, 1001, 999}
	lcnet.Softmax(x, x)
	if !lcnet.IsDistribution(x) || !(x[1] > x[0] && x[0] > x[2]) {
		t.Errorf("softmax of large logits: %v", x)
	}
}

func TestTopK(t *testing.T) {
	m, err := lcnet.Open("pplcnet_x0_25", &lcnet.OpenOptions{Options: lcnet.Options{Backend: lcnet.Go}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.NumClasses() != 1000 {
		t.Fatalf("%d classes", m.NumClasses())
	}
	out := make([]float32, 2000)
	out[207] = 5      // logits: softmax applied
	out[1000+3] = 0.6 // probabilities: kept
	out[1000+1] = 0.4 //
	out[1000+999] = 0 // ties at 0: lower id first
	p, err := m.TopK(out, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	e5 := math.Exp(5)
	want0 := lcnet.Prediction{Label: "golden retriever", ID: 207, Score: float32(e5 / (e5 + 999))}
	if p[0][0] != want0 || p[0][1].ID != 0 || p[0][1].Label != "tench" {
		t.Errorf("logit row: %+v", p[0])
	}
	want1 := []lcnet.Prediction{{"tiger shark", 3, 0.6}, {"goldfish", 1, 0.4}, {"tench", 0, 0}}
	if !slices.Equal(p[1], want1) {
		t.Errorf("probability row: %+v, want %+v", p[1], want1)
	}
	if out[207] != 5 {
		t.Error("TopK modified its input")
	}
	m.Labels = []string{"only one"}
	p, _ = m.TopK(out[:1000], 1, 2)
	if p[0][0].Label != "207" || p[0][1].Label != "only one" {
		t.Errorf("labels beyond m.Labels: %+v", p[0])
	}
	if p, _ := m.TopK(out[:1000], 1, 0); len(p[0]) != lcnet.DefaultTopK {
		t.Errorf("k=0 gave %d", len(p[0]))
	}
	if p, _ := m.TopK(out[:1000], 1, 5000); len(p[0]) != 1000 {
		t.Errorf("k=5000 gave %d", len(p[0]))
	}
	if _, err := m.TopK(out[:999], 1, 1); !errors.Is(err, lcnet.ErrInput) {
		t.Errorf("short output: %v", err)
	}
}

func TestPreprocessConfigDefaults(t *testing.T) {
	m, err := lcnet.Open("pplcnet_x0_25", &lcnet.OpenOptions{Options: lcnet.Options{Backend: lcnet.Go}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg, err := m.PreprocessConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Resize == nil || cfg.Resize.ResizeShort != 256 || cfg.Crop == nil || cfg.Crop.Width != 224 {
		t.Errorf("224x224 model: %+v", cfg)
	}
	m2, err := lcnet.Open("pplcnet_x0_25", &lcnet.OpenOptions{Options: lcnet.Options{Backend: lcnet.Go}, InputH: 96, InputW: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	cfg, err = m2.PreprocessConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Resize == nil || cfg.Resize.Width != 128 || cfg.Resize.Height != 96 || cfg.Crop != nil {
		t.Errorf("96x128 model: %+v %+v", cfg, cfg.Resize)
	}
	// A config that cannot feed the model is refused.
	m2.Preprocess = preprocess.ImageNetDefault()
	if _, err := m2.PreprocessConfig(); err == nil {
		t.Error("224 crop for a 96x128 model: no error")
	}
	if _, err := m2.Classify([]*preprocess.Image{preprocess.NewImage(10, 10)}, 1); err == nil {
		t.Error("Classify with a mismatched config: no error")
	}
}

func TestClassifyImages(t *testing.T) {
	m, err := lcnet.Open("pplcnet_x0_25", &lcnet.OpenOptions{Options: lcnet.Options{Backend: lcnet.Go}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var imgs []*preprocess.Image
	for i := range 20 { // more than one internal chunk
		imgs = append(imgs, gradient(300+i, 240, uint8(i*10)))
	}
	all, err := m.Classify(imgs, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(imgs) {
		t.Fatalf("%d results", len(all))
	}
	for i, img := range imgs {
		one, err := m.Classify([]*preprocess.Image{img}, 3)
		if err != nil {
			t.Fatal(err)
		}
		for j := range one[0] {
			a, b := all[i][j], one[0][j]
			if a.ID != b.ID || math.Abs(float64(a.Score-b.Score)) > 1e-6 {
				t.Errorf("image %d: batched %+v, alone %+v", i, all[i], one[0])
				break
			}
		}
	}
	if _, err := m.Classify([]*preprocess.Image{nil}, 1); !errors.Is(err, lcnet.ErrInput) {
		t.Errorf("nil image: %v", err)
	}
	if _, err := m.Classify([]*preprocess.Image{{W: 5, H: 5, Pix: make([]uint8, 10)}}, 1); !errors.Is(err, lcnet.ErrInput) {
		t.Errorf("short Pix: %v", err)
	}
}

func gradient(w, h int, seed uint8) *preprocess.Image {
	img := preprocess.NewImage(w, h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			img.Pix[i] = uint8(x) + seed
			img.Pix[i+1] = uint8(y * 2)
			img.Pix[i+2] = uint8(x^y) ^ seed
		}
	}
	return img
}

// pngBomb returns a valid PNG header (signature, IHDR, CRC) announcing a
// w×h RGB image, with no pixel data: a decoder that allocates before
// checking would try w*h*3 bytes.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestClassifyFiles(t *testing.T) {
	m := openTextline(t, textlinePaddle, lcnet.Go)
	dir := t.TempDir()
	fonts, err := textrender.Fonts()
	if err != nil {
		t.Fatal(err)
	}
	var paths, want []string
	write := func(name string, b []byte, label string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		want = append(want, label)
	}
	for i, s := range textrender.Samples(fonts)[:6] {
		img, err := textrender.Render(s.Font, s.Text, s.Style)
		if err != nil {
			t.Fatal(err)
		}
		for _, rot := range []bool{false, true} {
			label := "0_degree"
			if rot {
				img, label = textrender.Rotate180(img), "180_degree"
			}
			var buf bytes.Buffer
			if i%2 == 0 {
				err = textrender.EncodePNG(&buf, img)
			} else {
				err = jpeg.Encode(&buf, textrender.ToImage(img), &jpeg.Options{Quality: 95})
			}
			if err != nil {
				t.Fatal(err)
			}
			write(filepath.Base(t.Name())+string(rune('a'+len(paths)))+".img", buf.Bytes(), label)
			if len(paths) == 5 {
				b := buf.Bytes()
				write("truncated.img", b[:len(b)/3], "error")
				write("empty.png", nil, "error")
				write("bomb.png", pngBomb(30000, 30000), "error")
				write("notes.txt", []byte("just some text, not an image\n"), "not an image")
			}
		}
	}
	var small bytes.Buffer
	png.Encode(&small, image.NewGray(image.Rect(0, 0, 1, 1)))
	write("tiny.png", small.Bytes(), "0_degree") // 1×1 grey: classified, label not checked
	paths = append(paths, filepath.Join(dir, "missing.png"))
	want = append(want, "error")

	for _, batch := range []int{1, 3, 8} {
		var got []lcnet.FileResult
		st, err := m.ClassifyFiles(context.Background(), paths, &lcnet.ClassifyOptions{Batch: batch, Workers: 3, TopK: 1},
			func(r lcnet.FileResult) error { got = append(got, r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(paths) || st.Files != len(paths) || st.Failed != 5 {
			t.Fatalf("batch %d: %d results, stats %+v", batch, len(got), st)
		}
		for i, r := range got {
			if r.Index != i || r.Path != paths[i] {
				t.Fatalf("result %d is for %d %s", i, r.Index, r.Path)
			}
			switch want[i] {
			case "error":
				if r.Err == nil {
					t.Errorf("%s: no error", r.Path)
				}
			case "not an image":
				if !errors.Is(r.Err, lcnet.ErrNotImage) {
					t.Errorf("%s: %v, want ErrNotImage", r.Path, r.Err)
				}
			default:
				if r.Err != nil {
					t.Errorf("%s: %v", r.Path, r.Err)
				} else if filepath.Base(r.Path) != "tiny.png" && r.Top[0].Label != want[i] {
					t.Errorf("%s: %+v, want %s", r.Path, r.Top, want[i])
				}
			}
		}
		if batch == 8 {
			for _, r := range got {
				if r.Err != nil {
					t.Logf("%s: %v", filepath.Base(r.Path), r.Err)
				}
			}
			t.Logf("stats %+v", st)
		}
	}
	// emit's error stops the run.
	stop := errors.New("stop")
	n := 0
	_, err = m.ClassifyFiles(context.Background(), paths, nil, func(lcnet.FileResult) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("stop: %v after %d", err, n)
	}
	// Direct file helper.
	p, err := m.ClassifyFile(paths[0], 1)
	if err != nil || p[0].Label != "0_degree" {
		t.Errorf("ClassifyFile: %+v %v", p, err)
	}
	if _, err := m.ClassifyFile(filepath.Join(dir, "bomb.png"), 1); !errors.Is(err, preprocess.ErrTooLarge) {
		t.Errorf("bomb: %v, want ErrTooLarge", err)
	}
}

func TestImageFormat(t *testing.T) {
	var p, j bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.White)
	png.Encode(&p, img)
	jpeg.Encode(&j, img, nil)
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{p.Bytes(), "png"}, {j.Bytes(), "jpeg"}, {[]byte("GIF89a...."), "gif"},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "webp"}, {[]byte("II*\x00"), "tiff"},
		{append([]byte("BM"), make([]byte, 12)...), ""}, // no info header size
		{[]byte("BMW is a car brand, not a bitmap"), ""},
		{[]byte("hello"), ""}, {nil, ""},
	} {
		if got := lcnet.ImageFormat(c.b); got != c.want {
			t.Errorf("ImageFormat(%q) = %q, want %q", c.b[:min(len(c.b), 12)], got, c.want)
		}
	}
}
