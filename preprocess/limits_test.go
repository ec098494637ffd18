package preprocess

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestJPEGBombRefused checks that a JPEG header claiming 30000x30000 (or
// 65535x65535) is refused from the header, quickly and for both decoders.
func TestJPEGBombRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "inputs", "jpeg420_160x120.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{30000, 30000}, {65535, 65535}, {100000 / 2, 2001}} {
		bomb := jpegWithSize(b, size[0], size[1])
		if bomb == nil {
			t.Fatal("no SOF in fixture")
		}
		for _, turbo := range []bool{false, true} {
			if turbo && !JPEGUsesTurbo() {
				continue
			}
			func() {
				defer func(v bool) { useTurbo = v }(useTurbo)
				useTurbo = turbo
				t0 := time.Now()
				_, err := DecodeBytes(bomb, Limits{})
				if !errors.Is(err, ErrTooLarge) {
					t.Errorf("%v turbo=%v: err = %v, want ErrTooLarge", size, turbo, err)
				}
				if d := time.Since(t0); d > 100*time.Millisecond {
					t.Errorf("%v turbo=%v: took %v", size, turbo, d)
				}
			}()
		}
	}
}

// TestDecodeAllocationBounded checks that refusing a 30000x30000 PNG or
// JPEG allocates next to nothing (not the 2.7 GB the pixels would take).
func TestDecodeAllocationBounded(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "inputs", "jpeg420_160x120.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for name, bomb := range map[string][]byte{
		"png":  pngHeader(30000, 30000),
		"jpeg": jpegWithSize(b, 30000, 30000),
	} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := 0; i < 10; i++ {
			if _, err := DecodeBytes(bomb, Limits{}); !errors.Is(err, ErrTooLarge) {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&m1)
		if per := (m1.TotalAlloc - m0.TotalAlloc) / 10; per > 256<<10 {
			t.Errorf("%s: %d bytes allocated per refused bomb", name, per)
		} else {
			t.Logf("%s: %d bytes allocated per refused bomb", name, per)
		}
	}
}
