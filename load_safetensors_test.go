package lcnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSafetensorsMaxBytes: the safetensors reader gets OpenOptions.MaxBytes
// (Load's own size check runs first; this one guards the reader itself).
func TestSafetensorsMaxBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(p, append([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'}, make([]byte, 1000)...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadSafetensors(p, &OpenOptions{MaxBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "limit 100") {
		t.Fatalf("1010 bytes with MaxBytes 100: %v, want the reader's limit of 100", err)
	}
}
