package labels

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestImageNet(t *testing.T) {
	l := ImageNet()
	if len(l) != 1000 {
		t.Fatalf("%d labels, want 1000", len(l))
	}
	for id, want := range map[int]string{0: "tench", 1: "goldfish", 207: "golden retriever", 281: "tabby", 999: "toilet tissue"} {
		if l[id] != want {
			t.Errorf("label %d = %q, want %q", id, l[id], want)
		}
	}
	l[0] = "changed"
	if ImageNet()[0] != "tench" {
		t.Error("ImageNet returned shared memory")
	}
}

// TestImageNetRegenerate fails if gen_imagenet.py would write something
// else than the committed imagenet.txt.
func TestImageNetRegenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("imports torchvision (slow)")
	}
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no", py)
	}
	if err := exec.Command(py, "-c", "import torchvision.models._meta").Run(); err != nil {
		t.Skip("python3-torchvision is not installed")
	}
	out := filepath.Join(t.TempDir(), "imagenet.txt")
	cmd := exec.Command(py, "gen_imagenet.py", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen_imagenet.py: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != imagenetTxt {
		t.Error("imagenet.txt is stale: run go generate ./labels")
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"plain", "0_degree\n180_degree\n", []string{"0_degree", "180_degree"}},
		{"plain no final newline", "cat\ndog", []string{"cat", "dog"}},
		{"plain with spaces", "great white shark\ntiger shark\n", []string{"great white shark", "tiger shark"}},
		{"crlf bom", "\ufeffa b\r\nc\r\n\r\n", []string{"a b", "c"}},
		{"id map", "0 tench, Tinca tinca\n1 goldfish, Carassius auratus\n", []string{"tench, Tinca tinca", "goldfish, Carassius auratus"}},
		{"id map shuffled tabs", "1\tdog\n\n0\tcat\n", []string{"cat", "dog"}},
		{"numbers not 0..n-1 are plain", "1 one\n2 two\n", []string{"1 one", "2 two"}},
		{"repeated id is plain", "0 a\n0 b\n", []string{"0 a", "0 b"}},
		{"numeric labels", "10\n20\n", []string{"10", "20"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []string{"", "\n\n", "a\n\nb\n"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) error %v, want ErrFormat", bad, err)
		}
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.txt")
	if err := os.WriteFile(p, []byte("0 x\n1 y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(p)
	if err != nil || !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	if _, err := ReadFile(p + ".missing"); err == nil {
		t.Error("missing file: no error")
	}
}
