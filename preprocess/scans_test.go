package preprocess

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lcnet-go/lcnet/dnn/turbojpeg"
)

// repeatScan returns the JPEG b with its (single) scan, the SOS segment
// and its entropy-coded data, written n times.
func repeatScan(t *testing.T, b []byte, n int) []byte {
	t.Helper()
	sos := bytes.Index(b, []byte{0xff, 0xda})
	eoi := bytes.LastIndex(b, []byte{0xff, 0xd9})
	if sos < 0 || eoi < sos {
		t.Fatal("no SOS or EOI")
	}
	out := append([]byte(nil), b[:sos]...)
	for range n {
		out = append(out, b[sos:eoi]...)
	}
	return append(out, b[eoi:]...)
}

func TestJPEGScans(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "inputs", "jpeg420_160x120.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if n := jpegScans(base, 500); n != 1 {
		t.Fatalf("baseline JPEG: %d scans, want 1", n)
	}
	// Marker-like bytes inside a segment (an APP payload holding SOS
	// markers, as an EXIF thumbnail does) and garbage between segments
	// are not scans; fill bytes before a marker are allowed.
	app := []byte{0xff, 0xe1, 0, 8, 0xff, 0xda, 0xff, 0xda, 0x12, 0x34, 0xff, 0xff}
	tricky := append(append(append([]byte(nil), base[:2]...), app...), base[2:]...)
	if n := jpegScans(tricky, 500); n != 1 {
		t.Fatalf("SOS bytes inside an APP segment: %d scans, want 1", n)
	}
	if n := jpegScans(repeatScan(t, base, 7), 500); n != 7 {
		t.Fatalf("7 scans counted as %d", n)
	}
	// Counting stops past the limit; truncated streams count what is there.
	if n := jpegScans(repeatScan(t, base, 100), 10); n != 11 {
		t.Fatalf("100 scans with limit 10: counted %d, want 11", n)
	}
	for k := range len(base) {
		jpegScans(base[:k], 500)
	}

	many := repeatScan(t, base, 600)
	corpus, err := os.ReadFile(filepath.Join("..", "testdata", "hostile", "images", "jpeg_scans_1448_1000.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer func(v bool) { useTurbo = v }(useTurbo)
	for _, turbo := range []bool{false, true} {
		if turbo && !useTurbo {
			continue // built without libjpeg-turbo
		}
		useTurbo = turbo
		for name, b := range map[string][]byte{"600 scans": many, "the corpus' 1000 scans": corpus} {
			t0 := time.Now()
			_, err := DecodeBytes(b, Limits{})
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s (turbo %v): %v, want ErrTooLarge", name, turbo, err)
			}
			if d := time.Since(t0); d > time.Second {
				t.Errorf("%s (turbo %v): refused after %v", name, turbo, d)
			}
		}
		// A lower limit applies to both decoders.
		if _, err := DecodeBytes(repeatScan(t, base, 7), Limits{MaxScans: 5}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("7 scans, limit 5 (turbo %v): %v, want ErrTooLarge", turbo, err)
		}
		if _, err := DecodeBytes(base, Limits{MaxScans: 1}); err != nil {
			t.Errorf("1 scan, limit 1 (turbo %v): %v", turbo, err)
		}
	}
	// Above libjpeg-turbo's own 500, its refusal is final: no fallback to
	// image/jpeg, which has no limit of its own.
	if turbojpeg.Available() {
		useTurbo = true
		t0 := time.Now()
		_, err := DecodeBytes(corpus, Limits{MaxScans: 5000})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("1000 scans, limit 5000, libjpeg-turbo: %v, want its refusal as ErrTooLarge", err)
		}
		t.Logf("1000 scans, limit 5000, libjpeg-turbo: %v after %v", err, time.Since(t0))
	}
}
