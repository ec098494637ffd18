package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writePhotoJPEGs writes n photo-like 500×375 JPEGs (smooth gradients,
// soft blobs, sensor-like noise; 4:2:0 at quality 90) into dir.
func writePhotoJPEGs(dir string, n int) error {
	const w, h = 500, 375
	for i := range n {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		rgb := image.NewRGBA(img.Rect)
		type blob struct{ x, y, s, r, g, b float64 }
		var blobs []blob
		for range 6 {
			blobs = append(blobs, blob{r.Float64() * w, r.Float64() * h, 30 + r.Float64()*120,
				r.Float64()*255 - 128, r.Float64()*255 - 128, r.Float64()*255 - 128})
		}
		c0 := [3]float64{r.Float64() * 255, r.Float64() * 255, r.Float64() * 255}
		c1 := [3]float64{r.Float64() * 255, r.Float64() * 255, r.Float64() * 255}
		for y := range h {
			for x := range w {
				t := (float64(x)/w + float64(y)/h) / 2
				v := [3]float64{}
				for c := range 3 {
					v[c] = c0[c]*(1-t) + c1[c]*t
				}
				for _, b := range blobs {
					d := math.Exp(-((float64(x)-b.x)*(float64(x)-b.x) + (float64(y)-b.y)*(float64(y)-b.y)) / (2 * b.s * b.s))
					v[0] += b.r * d
					v[1] += b.g * d
					v[2] += b.b * d
				}
				var px [3]uint8
				for c := range 3 {
					px[c] = uint8(max(0, min(255, v[c]+r.NormFloat64()*6)))
				}
				rgb.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, rgb, &jpeg.Options{Quality: 90}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("photo_%03d.jpg", i)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TestWriteBenchImages writes the speed-test images into $LCNET_BENCH_DIR
// (skipped when unset): see README-classify.md.
func TestWriteBenchImages(t *testing.T) {
	dir := os.Getenv("LCNET_BENCH_DIR")
	if dir == "" {
		t.Skip("set LCNET_BENCH_DIR to write the speed-test JPEGs there")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writePhotoJPEGs(dir, 200); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkClassifyFolder runs `lcnet classify` in-process on 200 JPEGs
// with pplcnet_x1_0 and reports images/s.
func BenchmarkClassifyFolder(b *testing.B) {
	dir := b.TempDir()
	const n = 200
	if err := writePhotoJPEGs(dir, n); err != nil {
		b.Fatal(err)
	}
	var sink bytes.Buffer
	for _, be := range []string{"auto", "go"} {
		b.Run("backend="+be, func(b *testing.B) {
			for b.Loop() {
				sink.Reset()
				if code := run([]string{"classify", "--model", "pplcnet_x1_0", "--backend", be, dir}, &sink, &sink); code != 0 {
					b.Fatalf("exit %d: %s", code, sink.String())
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
