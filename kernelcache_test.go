package lcnet

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/dnn"
)

// TestKernelCache: a plan's timed kernel choices go to the cache file; a
// later "process" (choices forgotten) reads them back, times nothing new
// and computes the same bits; a damaged file is skipped and rewritten.
func TestKernelCache(t *testing.T) {
	if !dnn.Available() {
		t.Skip("needs oneDNN")
	}
	dir := t.TempDir()
	opts := &Options{Backend: DNNL, KernelCache: dir}
	run := func() ([]float32, int) {
		t.Helper()
		kernelCache.Lock()
		kernelCache.loaded = nil // as in a new process
		kernelCache.Unlock()
		dnn.ResetChoices()
		m, err := BuiltIn("pplcnet_x0_25", 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		in := make([]float32, 3*224*224)
		for i := range in {
			in[i] = float32(i%97) / 97
		}
		out, err := m.Run(in, 1)
		if err != nil {
			t.Fatal(err)
		}
		return out, len(dnn.Choices())
	}
	out1, n1 := run()
	path := kernelCacheFile(opts)
	b1, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cache not written: %v", err)
	}
	lines := strings.Count(string(b1), "\n")
	if n1 == 0 || lines != n1 {
		t.Fatalf("%d choices timed, %d lines in %s", n1, lines, path)
	}
	out2, n2 := run()
	if n2 != n1 {
		t.Errorf("second process: %d choices, want the %d read back (nothing new timed)", n2, n1)
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b1) {
		t.Errorf("cache rewritten although nothing new was timed")
	}
	if !slices.Equal(out1, out2) {
		t.Errorf("outputs differ between the timed plan and the cached one")
	}
	// damaged: garbage, overlong and malformed lines are skipped
	junk := "\x00\x01garbage\n" + strings.Repeat("k", 300) + "\t1\t1\t1\tx\n" + "a\tb\tc\n" + "key\t-1\t0\t0\tname\n"
	if err := os.WriteFile(path, []byte(junk), 0o644); err != nil {
		t.Fatal(err)
	}
	out3, n3 := run() // timed afresh: maybe other kernels, same results to rounding
	if n3 == 0 {
		t.Errorf("damaged cache: no choices")
	}
	for i := range out1 {
		if d := math.Abs(float64(out1[i] - out3[i])); d > 1e-5*math.Abs(float64(out1[i]))+1e-9 {
			t.Fatalf("damaged cache: out[%d] %v vs %v", i, out3[i], out1[i])
		}
	}
	b3, err := os.ReadFile(path)
	if err != nil || strings.Contains(string(b3), "garbage") {
		t.Errorf("damaged cache not rewritten: %v", err)
	}
	// an unwritable directory is not an error
	opts.KernelCache = filepath.Join(path, "not-a-dir")
	if _, n := run(); n == 0 {
		t.Errorf("no choices with an unwritable cache directory")
	}
}
