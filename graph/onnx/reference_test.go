package onnx

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/fallback"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx/internal/naive"
)

// readNPZ reads the little-endian float32 arrays of an .npz file.
func readNPZ(path string) (map[string][]float32, map[string][]int, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, err
	}
	defer zr.Close()
	data, shapes := map[string][]float32{}, map[string][]int{}
	hdrRE := regexp.MustCompile(`'descr':\s*'([^']*)'.*'shape':\s*\(([^)]*)\)`)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		if len(b) < 10 || string(b[1:6]) != "NUMPY" {
			return nil, nil, fmt.Errorf("%s: not npy", f.Name)
		}
		var hl, off int
		if b[6] == 1 {
			hl, off = int(binary.LittleEndian.Uint16(b[8:])), 10
		} else {
			hl, off = int(binary.LittleEndian.Uint32(b[8:])), 12
		}
		m := hdrRE.FindStringSubmatch(string(b[off : off+hl]))
		if m == nil || m[1] != "<f4" || strings.Contains(string(b[off:off+hl]), "'fortran_order': True") {
			continue
		}
		var shape []int
		for _, s := range strings.Split(m[2], ",") {
			if s = strings.TrimSpace(s); s != "" {
				d, _ := strconv.Atoi(s)
				shape = append(shape, d)
			}
		}
		raw := b[off+hl:]
		v := make([]float32, len(raw)/4)
		for k := range v {
			v[k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
		}
		name := strings.TrimSuffix(f.Name, ".npy")
		data[name], shapes[name] = v, shape
	}
	return data, shapes, nil
}

// TestReferenceFixtures imports the torch-exported fixtures of
// testdata/reference (PaddleClas-semantics PyTorch model) and compares with
// their expected outputs.
func TestReferenceFixtures(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/reference/*.onnx")
	if len(files) == 0 {
		t.Skip("no fixtures under testdata/reference")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			base := filepath.Base(f)
			npz := filepath.Join(filepath.Dir(f), base[:strings.Index(base, ".")]+".npz")
			data, shapes, err := readNPZ(npz)
			if err != nil {
				t.Skipf("no expected outputs: %v", err)
			}
			g, err := Load(f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			o, err := graph.Optimize(g)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range []int{1, 3} {
				in, ok := data[fmt.Sprintf("input_b%d", b)]
				want := data[fmt.Sprintf("output_b%d", b)]
				if !ok || want == nil {
					continue
				}
				if s := shapes[fmt.Sprintf("input_b%d", b)]; !graph.SameShape(s[1:], g.InputShape()) {
					t.Fatalf("fixture input %v, graph input %v", s, g.InputShape())
				}
				for _, name := range []string{"imported/naive", "optimized/fallback"} {
					var out []float32
					if name == "imported/naive" {
						if b > 1 || testing.Short() {
							continue // slow
						}
						if out, err = naive.Run(g, in, b); err != nil {
							t.Fatal(err)
						}
					} else {
						p, err := fallback.Compile(o)
						if err != nil {
							t.Fatal(err)
						}
						out = make([]float32, len(want))
						if err := p.NewInstance().Run(in, b, out); err != nil {
							t.Fatal(err)
						}
					}
					d := maxDiff(out, want)
					t.Logf("batch %d %s: max diff %.2g", b, name, d)
					if d > 1e-5 {
						t.Errorf("batch %d %s: max diff %g", b, name, d)
					}
				}
			}
		})
	}
}
