//go:build amd64 && !noasm

package fallback

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedAssemblyIsFresh regenerates simd_amd64.s and its stubs with
// internal/asmgen and fails if they differ from the checked-in files
// (beyond the header line naming the output paths). It needs the avo
// module (from the module cache or the proxy) and skips without it.
func TestGeneratedAssemblyIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerating assembly in -short mode")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	dir := t.TempDir()
	asm, stubs := filepath.Join(dir, "simd_amd64.s"), filepath.Join(dir, "simd_amd64_stub.go")
	cmd := exec.Command(goTool, "run", ".", "-out", asm, "-stubs", stubs, "-pkg", "fallback")
	cmd.Dir = filepath.Join("internal", "asmgen")
	if out, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(out, []byte("github.com/mmcloughlin/avo")) {
			t.Skipf("avo unavailable: %s", out)
		}
		t.Fatalf("asmgen: %v\n%s", err, out)
	}
	for _, f := range [][2]string{{asm, "simd_amd64.s"}, {stubs, "simd_amd64_stub.go"}} {
		got, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(f[1])
		if err != nil {
			t.Fatal(err)
		}
		if dropFirstLine(got) != dropFirstLine(want) {
			t.Errorf("%s is stale: run go generate ./fallback", f[1])
		}
	}
}

func dropFirstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
