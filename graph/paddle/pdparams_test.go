package paddle

import (
	"archive/zip"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/internal/npy"
)

const refDir = "../../testdata/reference"

// readNPZ reads the float32 arrays of an .npz fixture (skipping config_json).
func readNPZ(t *testing.T, path string) map[string]*npy.Array {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string]*npy.Array{}
	for _, f := range z.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if name == "config_json" {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		a, err := npy.Read(r, int64(f.UncompressedSize64))
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = a
	}
	return out
}

func TestPdparamsFixtures(t *testing.T) {
	cases := []struct {
		file, npz string
		opt       Options
		scale     string
		shape     []int
	}{
		{"textline_x0_25_80x160.p4.pdparams", "textline_x0_25_80x160.npz", Options{TextLine: true}, "pplcnet_x0_25", []int{3, 80, 160}},
		{"textline_x0_25_80x160.p2.pdparams", "textline_x0_25_80x160.npz", Options{TextLine: true}, "pplcnet_x0_25", []int{3, 80, 160}},
		{"x0_25_224.p4.pdparams", "x0_25_224.npz", Options{}, "pplcnet_x0_25", []int{3, 224, 224}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(refDir, c.file)
			if _, err := os.Stat(path); err != nil {
				t.Skip("fixture missing:", err)
			}
			g, err := LoadPdparams(path, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if g.Name != c.scale || !graph.SameShape(g.InputShape(), c.shape) {
				t.Fatalf("built %s %v, want %s %v", g.Name, g.InputShape(), c.scale, c.shape)
			}
			ref := readNPZ(t, filepath.Join(refDir, c.npz))
			// Every weight equals the fixture's (fc.weight transposed).
			for name, p := range g.StateDict() {
				want, ok := ref[name]
				if !ok {
					t.Fatalf("fixture lacks %s", name)
				}
				for i, v := range p.Data {
					w := want.Data[i]
					if name == "fc.weight" {
						in, out := want.Shape[0], want.Shape[1]
						w = want.Data[(i%in)*out+i/in]
					}
					if math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("%s[%d] = %g, want %g", name, i, v, w)
					}
				}
			}
			checkOutputs(t, g, ref)
		})
	}
}
