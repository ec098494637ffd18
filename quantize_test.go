package lcnet

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/dnn"
	"github.com/lcnet-go/lcnet/internal/textrender"
	"github.com/lcnet-go/lcnet/preprocess"
)

// smoothInputs returns n random-ish images (smooth colour fields plus noise,
// normalized like ImageNet inputs) for a [3,H,W] model.
func smoothInputs(n, h, w int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([][]float32, n)
	for k := range out {
		x := make([]float32, 3*h*w)
		for c := 0; c < 3; c++ {
			a, b, ph := r.Float64()*0.1, r.Float64()*0.1, r.Float64()*6
			base := r.Float64()*2 - 1
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					v := base + math.Sin(a*float64(i)+b*float64(j)+ph) + 0.3*r.NormFloat64()
					x[c*h*w+i*w+j] = float32(v)
				}
			}
		}
		out[k] = x
	}
	return out
}

func argmax(x []float32) int {
	b := 0
	for i, v := range x {
		if v > x[b] {
			b = i
		}
	}
	return b
}

// agreement runs the fp32 model m and the int8 model q on inputs: how many
// argmaxes agree and the largest |p_q - p_m|.
func agreement(t *testing.T, m, q *Model, inputs [][]float32) (agree int, worst float64) {
	t.Helper()
	for _, x := range inputs {
		a, err := m.Run(x, 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := q.Run(x, 1)
		if err != nil {
			t.Fatal(err)
		}
		if argmax(a) == argmax(b) {
			agree++
		}
		for i := range a {
			worst = max(worst, math.Abs(float64(a[i]-b[i])))
		}
	}
	return agree, worst
}

// calibratedQuarter is the built-in x0.25 (synthetic weights) with a
// table calibrated on 16 smooth inputs; it skips without oneDNN int8.
func calibratedQuarter(t *testing.T) (*Model, *Calibration) {
	t.Helper()
	if !dnn.Available() {
		t.Skip("needs oneDNN")
	}
	if ok, why := dnn.Int8Supported(); !ok {
		t.Skip(why)
	}
	m, err := BuiltIn("pplcnet_x0_25", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := m.InputShape()
	cal, err := m.Calibrate(smoothInputs(16, s[1], s[2], 1), nil)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m, cal
}

func TestQuantizeRoundTrip(t *testing.T) {
	m, cal := calibratedQuarter(t)
	defer m.Close()
	s := m.InputShape()
	if len(cal.Int8Nodes()) == 0 {
		t.Fatal("no int8 nodes")
	}
	path := filepath.Join(t.TempDir(), "m8.onnx")
	if err := m.SaveInt8(path, cal); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if on, note := q.Int8(); !on {
		t.Fatalf("loaded model does not run int8: %s", note)
	}
	// a directory holding the file alone loads the same, metadata included
	qd, err := Load(filepath.Dir(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	if on, note := qd.Int8(); !on {
		t.Errorf("model loaded from its directory does not run int8: %s", note)
	}
	qd.Close()
	n8 := 0
	for _, l := range q.Layers() {
		// the softmax ends the int8 chain in fp32 ("f32 " impl)
		if l.Backend == int8Name && !strings.HasPrefix(l.Impl, "f32 ") {
			n8++
			if !strings.Contains(l.Impl, "vnni") && !strings.Contains(l.Impl, "bf16") && !strings.Contains(l.Impl, "amx") {
				t.Logf("layer %s: impl %q", l.Name, l.Impl)
			}
		}
	}
	if n8 != len(cal.Int8Nodes()) {
		t.Errorf("%d layers run int8, table marks %d", n8, len(cal.Int8Nodes()))
	}
	// Held-out inputs: same argmax on >= 99% (here: all but at most one of
	// 64 — synthetic weights give flat, close-call distributions), and
	// max probability difference < 0.05.
	test := smoothInputs(64, s[1], s[2], 99)
	agree, worst := agreement(t, m, q, test)
	t.Logf("top-1 agreement %d/%d, max prob diff %.4f", agree, len(test), worst)
	if agree < len(test)-1 || worst >= 0.05 {
		t.Errorf("int8 vs fp32: agreement %d/%d, max prob diff %.4f", agree, len(test), worst)
	}
	out := make([]float32, q.outSize)
	x := test[0]
	if a := testing.AllocsPerRun(20, func() {
		if err := q.RunInto(x, 1, out); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%v allocs per RunInto, want 0", a)
	}
}

func TestQuantizeNoVNNI(t *testing.T) {
	if !dnn.Available() {
		t.Skip("needs oneDNN")
	}
	t.Setenv(dnn.EnvNoVNNI, "1")
	m, err := BuiltIn("pplcnet_x0_25", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.InputShape()
	cal, err := m.Calibrate(smoothInputs(2, s[1], s[2], 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := BuiltIn("pplcnet_x0_25", 1, &Options{Calibration: cal})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	on, note := q.Int8()
	if on || !strings.Contains(note, "running fp32") || !strings.Contains(note, dnn.EnvNoVNNI) {
		t.Fatalf("Int8() = %v, %q; want fp32 with a message", on, note)
	}
	for _, l := range q.Layers() {
		if l.Backend == int8Name {
			t.Fatalf("layer %s runs int8 without VNNI", l.Name)
		}
	}
	x := smoothInputs(1, s[1], s[2], 5)[0]
	a, _ := m.Run(x, 1)
	b, _ := q.Run(x, 1)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("fp32 fallback output differs at %d: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestCalibrateNoInputs(t *testing.T) {
	m, err := BuiltIn("pplcnet_x0_25", 1, &Options{Backend: Go})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Calibrate(nil, nil); !errors.Is(err, ErrCalibration) {
		t.Fatalf("Calibrate(nil) = %v, want ErrCalibration", err)
	}
}

// textlineSet renders Lines[lo:hi] in every font at several sizes and
// colour schemes, upright and rotated 180°, preprocessed for m.
func textlineSet(t *testing.T, m *Model, lo, hi int, sizes []float64) (up, rot [][]float32) {
	t.Helper()
	fonts, err := textrender.Fonts()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := m.PreprocessConfig()
	if err != nil {
		t.Fatal(err)
	}
	pp := cfg.NewPreprocessor()
	per := m.inSize
	samples := textrender.Samples(fonts)
	prep := func(img *preprocess.Image) []float32 {
		x := make([]float32, per)
		if err := pp.Into(x, img); err != nil {
			t.Fatal(err)
		}
		return x
	}
	for i := lo; i < hi; i++ {
		s := samples[i]
		for fi, f := range fonts {
			for _, size := range sizes {
				st := s.Style
				st.Size = size
				sc := samples[(i+fi)%len(samples)].Style // vary colours too
				st.FG, st.BG = sc.FG, sc.BG
				img, err := textrender.Render(f, s.Text, st)
				if err != nil {
					t.Fatal(err)
				}
				up = append(up, prep(img))
				rot = append(rot, prep(textrender.Rotate180(img)))
			}
		}
	}
	return up, rot
}

// TestQuantizeSensitivityTextline: the real text-line model quantized with
// the default settings (all eligible int8, then sensitivity with target
// 0.99 on the calibration inputs) agrees with fp32 on >= 99% of held-out
// text lines, upright and rotated.
func TestQuantizeSensitivityTextline(t *testing.T) {
	if !dnn.Available() {
		t.Skip("needs oneDNN")
	}
	if ok, why := dnn.Int8Supported(); !ok {
		t.Skip(why)
	}
	if _, err := os.Stat(quantTextlineModel); err != nil {
		t.Skipf("real model not present: %v", err)
	}
	m, err := Open(quantTextlineModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cu, cr := textlineSet(t, m, 0, 12, []float64{20, 32})
	calib := append(append([][]float32{}, cu...), cr...)
	cal, err := m.Calibrate(calib, nil)
	if err != nil {
		t.Fatal(err)
	}
	tab, rep, err := m.Sensitivity(cal, calib, &SensitivityOptions{Log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Note != "" {
		t.Fatal(rep.Note)
	}
	t.Logf("calibration set: before %v; after %v; fp32 %v; %d evals; %d of %d nodes int8",
		rep.Before, rep.After, rep.FP32, rep.Evals, len(tab.Int8Nodes()), len(tab.Nodes))
	path := filepath.Join(t.TempDir(), "tl8.onnx")
	if err := m.SaveInt8(path, tab); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if on, note := q.Int8(); !on {
		t.Fatal(note)
	}
	tu, tr := textlineSet(t, m, 12, 24, []float64{18, 24, 28, 36, 44})
	for _, set := range []struct {
		name string
		xs   [][]float32
	}{{"upright", tu}, {"rotated", tr}} {
		agree, worst := agreement(t, m, q, set.xs)
		t.Logf("held-out %s: %d/%d agree (%.1f%%), max dp %.4f", set.name, agree, len(set.xs),
			100*float64(agree)/float64(len(set.xs)), worst)
		if float64(agree) < 0.99*float64(len(set.xs)) {
			t.Errorf("held-out %s: agreement %d/%d < 99%%", set.name, agree, len(set.xs))
		}
	}
}

const quantTextlineModel = "third_party/models/pplcnet_x0_25_textline_ori/paddle"

// TestInt8MixedChain keeps some convolutions of the table in fp32: after
// the first int8 node they run in fp32 inside the int8 chain, so the whole
// network stays one segment (no NCHW fp32 boundaries), Layers says so, and
// the outputs still agree with fp32.
func TestInt8MixedChain(t *testing.T) {
	m, cal := calibratedQuarter(t)
	defer m.Close()
	// a hand-picked set, then random ones (every conv but the first may
	// be kept in fp32: the chain starts at the first int8 node)
	sets := [][]string{{"blocks3.1.dw_conv.conv", "blocks5.2.pw_conv.conv", "last_conv", "fc"}}
	r := rand.New(rand.NewPCG(5, 5))
	var convs []string
	for _, n := range m.opt.Nodes[1:] {
		if isConvOrFC(n) {
			convs = append(convs, n.Name)
		}
	}
	for range 3 {
		var set []string
		for _, c := range convs {
			if r.IntN(3) == 0 {
				set = append(set, c)
			}
		}
		sets = append(sets, set)
	}
	for k, keep := range sets {
		t.Run(fmt.Sprintf("set=%d", k), func(t *testing.T) { testMixedChain(t, m, cal, keep) })
	}
}

func testMixedChain(t *testing.T, m *Model, base *Calibration, keep []string) {
	s := m.InputShape()
	cal := copyCalibration(base)
	for _, name := range keep {
		e, ok := cal.Nodes[name]
		if !ok {
			t.Fatalf("no calibration entry %q", name)
		}
		e.Int8, e.Why = false, "test"
		cal.Nodes[name] = e
	}
	q, err := New(m.src, &Options{Calibration: cal, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if n := len(q.plan.segs); n != 1 {
		t.Errorf("%d segments, want 1 int8 chain", n)
	}
	kept := map[string]bool{}
	for _, n := range keep {
		kept[n] = true
	}
	for _, l := range q.Layers() {
		if l.Backend != int8Name {
			t.Errorf("layer %s on %s", l.Name, l.Backend)
		}
		if kept[l.Name] != strings.HasPrefix(l.Why, "fp32 inside the int8 chain") {
			t.Errorf("layer %s: why %q", l.Name, l.Why)
		}
		if kept[l.Name] && !strings.HasPrefix(l.Impl, "f32 ") {
			t.Errorf("layer %s kept in fp32 has impl %q", l.Name, l.Impl)
		}
	}
	test := smoothInputs(32, s[1], s[2], 99)
	agree, worst := agreement(t, m, q, test)
	t.Logf("top-1 agreement %d/%d, max prob diff %.4f", agree, len(test), worst)
	if agree < len(test)-1 || worst >= 0.05 {
		t.Errorf("mixed int8 vs fp32: agreement %d/%d, max prob diff %.4f", agree, len(test), worst)
	}
}

func TestAgreementMeets(t *testing.T) {
	for _, tc := range []struct {
		robust, n int
		target    float64
		want      bool
	}{
		{64, 64, 0.99, true}, {63, 64, 0.99, false},
		{192, 192, 0.99, true}, {191, 192, 0.99, false},
		{199, 200, 0.99, true}, {198, 200, 0.99, false},
		{96, 100, 0.95, true}, {95, 100, 0.95, false},
		{1, 1, 0.99, true}, {0, 1, 0.99, false}, {0, 0, 0.5, false},
	} {
		a := Agreement{Agree: tc.robust, Robust: tc.robust, N: tc.n}
		if got := a.meets(tc.target); got != tc.want {
			t.Errorf("%d/%d robust at %v: meets = %v, want %v", tc.robust, tc.n, tc.target, got, tc.want)
		}
	}
}

// TestSharedWorkerSegments: a model whose leading layers stay fp32 runs as
// an fp32 segment and an int8 one; with 2 threads their instances share one
// dnn.Worker (one OpenMP pool: two pools on 2 CPUs made every step of the
// second wait ~80 us for a sleeping thread), with 1 thread none is made.
// Both agree with the fp32 model.
func TestSharedWorkerSegments(t *testing.T) {
	m, base := calibratedQuarter(t)
	defer m.Close()
	cal := copyCalibration(base)
	first := ""
	for _, n := range m.opt.Nodes {
		if isConvOrFC(n) {
			first = n.Name
			break
		}
	}
	e := cal.Nodes[first]
	e.Int8, e.Why = false, "test"
	cal.Nodes[first] = e
	s := m.InputShape()
	test := smoothInputs(8, s[1], s[2], 5)
	for _, threads := range []int{1, 2} {
		q, err := New(m.src, &Options{Calibration: cal, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(q.plan.segs); n != 2 {
			t.Fatalf("threads=%d: %d segments, want fp32 + int8", threads, n)
		}
		agree, worst := agreement(t, m, q, test)
		if agree < len(test)-1 || worst >= 0.05 {
			t.Errorf("threads=%d: agreement %d/%d, max prob diff %.4f", threads, agree, len(test), worst)
		}
		q.cmu.Lock()
		if len(q.all) == 0 {
			t.Fatalf("threads=%d: no runner made", threads)
		}
		if got := q.all[0].worker != nil; got != (threads > 1) {
			t.Errorf("threads=%d: shared worker %v, want %v", threads, got, threads > 1)
		}
		q.cmu.Unlock()
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
