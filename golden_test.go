package lcnet_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet"
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/internal/npy"
)

// refConfig is the sidecar written by testdata/reference/gen_pplcnet.py.
type refConfig struct {
	H, W        int
	Batches     []int
	BNEpsilon   float64 `json:"bn_epsilon"`
	ClassExpand *int    `json:"class_expand"`
	ClassNum    int     `json:"class_num"`
	DropoutProb float64 `json:"dropout_prob"`
	HsigOffset  float64 `json:"hsig_offset"`
	HsigSlope   float64 `json:"hsig_slope"`
	Scale       float64
	StrideList  []json.RawMessage `json:"stride_list"`
	UseLastConv bool              `json:"use_last_conv"`
}

func (r refConfig) config(t *testing.T) pplcnet.Config {
	c := pplcnet.Default(r.Scale)
	c.Classes, c.InputH, c.InputW = r.ClassNum, r.H, r.W
	c.UseLastConv, c.DropoutProb = r.UseLastConv, r.DropoutProb
	if r.ClassExpand != nil {
		c.ClassExpand = *r.ClassExpand
	}
	c.GateSlope, c.GateOffset, c.BNEps = float32(r.HsigSlope), float32(r.HsigOffset), float32(r.BNEpsilon)
	for i, raw := range r.StrideList {
		var s int
		var hw [2]int
		if json.Unmarshal(raw, &s) == nil {
			hw = [2]int{s, s}
		} else if err := json.Unmarshal(raw, &hw); err != nil {
			t.Fatalf("stride %s: %v", raw, err)
		}
		c.Strides[i] = hw
	}
	return c
}

// maxRelErr is max |got-want| / max |want|.
func maxRelErr(got, want []float32) float64 {
	var d, m float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-float64(want[i])))
		m = math.Max(m, math.Abs(float64(want[i])))
	}
	return d / m
}

func backends(t *testing.T) []lcnet.Backend {
	bs := []lcnet.Backend{lcnet.Go}
	if lcnet.DNNLISA() != "" {
		bs = append(bs, lcnet.DNNL)
	}
	return bs
}

// TestGoldenReference checks the engine against the independent PyTorch
// implementation of testdata/reference (PaddleClas semantics, seeded
// weights): every fixture, every batch, every backend, to 1e-4.
func TestGoldenReference(t *testing.T) {
	files, _ := filepath.Glob("testdata/reference/*.npz")
	if len(files) < 5 {
		t.Fatalf("found %d reference fixtures, want at least 5 (run testdata/reference/gen_pplcnet.py)", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".npz")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(strings.TrimSuffix(f, ".npz") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var rc refConfig
			if err := json.Unmarshal(raw, &rc); err != nil {
				t.Fatal(err)
			}
			arrays, err := npy.ReadNPZ(f, func(n string) bool { return n == "config_json" })
			if err != nil {
				t.Fatal(err)
			}
			sd := map[string]*graph.Tensor{}
			for k, a := range arrays {
				if !strings.HasPrefix(k, "input_") && !strings.HasPrefix(k, "output_") && !strings.HasPrefix(k, "logits_") {
					sd[k] = &graph.Tensor{Shape: a.Shape, Data: a.Data}
				}
			}
			g, err := pplcnet.Build(rc.config(t), 99)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.LoadStateDict(sd, true); err != nil {
				t.Fatal(err)
			}
			for _, be := range backends(t) {
				m, err := lcnet.New(g, &lcnet.Options{Backend: be})
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range rc.Batches {
					in, want := arrays[fmt.Sprintf("input_b%d", b)], arrays[fmt.Sprintf("output_b%d", b)]
					got, err := m.Run(in.Data, b)
					if err != nil {
						t.Fatalf("%s batch %d: %v", be, b, err)
					}
					if e := maxRelErr(got, want.Data); e > 1e-4 {
						t.Errorf("%s batch %d: max relative error %.3g > 1e-4", be, b, e)
					} else {
						t.Logf("%s batch %d: max relative error %.2g", be, b, e)
					}
				}
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
