package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuantizeBadCalibration: an empty, missing or unreadable calibration
// folder is a clear error naming the problem (exit 1, no stack, no output
// file), never a table calibrated on nothing.
func TestQuantizeBadCalibration(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	junk := filepath.Join(dir, "junk")
	for _, d := range []string{empty, junk} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range []string{"not an image", "\x89PNG\r\n\x1a\ntruncated"} {
		if err := os.WriteFile(filepath.Join(junk, string(rune('a'+i))+".png"), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, calib, want string }{
		{"empty", empty, "has no files"},
		{"missing", filepath.Join(dir, "nope"), "nope"},
		{"unreadable", junk, "none of its 2 files is a readable image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".onnx")
			code, _, stderr := lcnetRun(t, "quantize", "--model", "pplcnet_x0_25", "--calib", tc.calib, "--output", out)
			if code != 1 {
				t.Errorf("exit %d, want 1; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr has a stack: %q", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written", out)
			}
		})
	}
}
