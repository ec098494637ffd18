package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/internal/textrender"
	"github.com/lcnet-go/lcnet/preprocess"
)

// The real PaddleOCR text-line orientation model (80×160 input, labels
// 0_degree / 180_degree).
var (
	textlinePaddle = filepath.Join("..", "..", "third_party", "models", "pplcnet_x0_25_textline_ori", "paddle")
	textlineONNX   = filepath.Join("..", "..", "third_party", "models", "pplcnet_x0_25_textline_ori", "model.onnx")
)

var white = color.RGBA{255, 255, 255, 255}

func needTextline(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(textlinePaddle); err != nil {
		t.Skipf("real model not present: %v", err)
	}
}

// lcnetRun runs the CLI in-process.
func lcnetRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func sinValues(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(0.01 * float64(i)))
	}
	return x
}

// pngBomb is a valid PNG signature and IHDR announcing a w×h 8-bit RGB
// image, without pixel data.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// writeTextLines renders n text lines upright and upside down as PNG files
// in dir, named <label>_<i>.png, and returns the paths.
func writeTextLines(t *testing.T, dir string, n int) []string {
	t.Helper()
	fonts, err := textrender.Fonts()
	if err != nil {
		t.Fatal(err)
	}
	samples := textrender.Samples(fonts)
	if n > len(samples) {
		n = len(samples)
	}
	var paths []string
	for i, s := range samples[:n] {
		up, err := textrender.Render(s.Font, s.Text, s.Style)
		if err != nil {
			t.Fatal(err)
		}
		for label, img := range map[string]*preprocess.Image{"0_degree": up, "180_degree": textrender.Rotate180(up)} {
			var buf bytes.Buffer
			if err := textrender.EncodePNG(&buf, img); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, fmt.Sprintf("%s_%02d.png", label, i))
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// labelOfName is the label a writeTextLines file name carries.
func labelOfName(path string) string {
	b := filepath.Base(path)
	return b[:strings.LastIndex(b, "_")]
}
