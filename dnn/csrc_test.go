package dnn

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCsrcStamp fails when ../csrc changed without "go generate ./dnn"
// (then the build cache would keep using the old C code).
func TestCsrcStamp(t *testing.T) {
	files, err := filepath.Glob("../csrc/*.[ch]")
	if err != nil || len(files) == 0 {
		t.Fatalf("no C files in ../csrc: %v", err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\n%d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	gen, err := os.ReadFile("csrc.c")
	if err != nil {
		t.Fatal(err)
	}
	sum := h.Sum(nil)
	want := fmt.Sprintf("// csrc sha256: %x\n", sum)
	if !strings.Contains(string(gen), want) {
		t.Fatalf("csrc.c is stale: run go generate ./dnn")
	}
	// the kernels' identity (kernel cache files) follows the sources
	if id, want := KernelsID(), fmt.Sprintf("%x", sum[:8]); Available() && id != want {
		t.Fatalf("KernelsID() = %q, want %q", id, want)
	}
}
