package dnn

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestInvalidNet runs in every build: validation happens before oneDNN.
func TestInvalidNet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	p1 := [4]int{1, 1, 1, 1}
	good := func() Layer { return conv(r, "c", 3, 8, 3, 3, 1, 1, p1, 1, true, relu) }
	with := func(f func(l *Layer)) []Layer {
		l := good()
		f(&l)
		return []Layer{l}
	}
	in := func(ls ...Layer) *Net { return &Net{InC: 3, InH: 8, InW: 8, Layers: ls} }
	cases := []struct {
		name string
		net  *Net
		opt  Options
		want string // substring of the error
	}{
		{"nil-net", nil, Options{}, "nil Net"},
		{"no-layers", in(), Options{}, "no layers"},
		{"bad-input", &Net{InC: 0, InH: 8, InW: 8, Layers: []Layer{good()}}, Options{}, "input shape"},
		{"threads", in(good()), Options{Threads: -1}, "Threads"},
		{"kind0", in(Layer{Name: "zero"}), Options{}, `"zero"`},
		{"conv-inc", in(with(func(l *Layer) { l.InC = 4 })...), Options{}, "InC = 4"},
		{"conv-weight-len", in(with(func(l *Layer) { l.Weight = l.Weight[1:] })...), Options{}, "len(Weight)"},
		{"conv-nil-weight", in(with(func(l *Layer) { l.Weight = nil })...), Options{}, "len(Weight) = 0"},
		{"conv-bias-len", in(with(func(l *Layer) { l.Bias = l.Bias[:3] })...), Options{}, "len(Bias)"},
		{"conv-groups", in(with(func(l *Layer) { l.Groups = 2 })...), Options{}, "divisible"},
		{"conv-kernel", in(with(func(l *Layer) { l.KH, l.PadTop, l.PadBottom = 11, 0, 0 })...), Options{}, "larger than"},
		{"conv-neg-pad", in(with(func(l *Layer) { l.PadLeft = -1 })...), Options{}, "negative"},
		{"conv-neg-stride", in(with(func(l *Layer) { l.StrideW = -2 })...), Options{}, "negative"},
		{"conv-outc", in(with(func(l *Layer) { l.OutC = 0 })...), Options{}, "positive"},
		{"act-kind", in(with(func(l *Layer) { l.Act.Kind = 42 })...), Options{}, "activation kind"},
		{"hardsigmoid-alpha0", in(with(func(l *Layer) { l.Act = Act{Kind: ActHardSigmoid, Beta: 0.5} })...), Options{}, "Alpha"},
		{"hardsigmoid-nan", in(with(func(l *Layer) { l.Act = Act{Kind: ActHardSigmoid, Alpha: float32(math.NaN())} })...), Options{}, "Alpha"},
		{"se-channels", in(good(), se(r, "se", 7, 2, hsig6, true)), Options{}, `"se"`},
		{"se-w2", in(good(), func() Layer { l := se(r, "se", 8, 2, hsig6, true); l.W2 = l.W2[:5]; return l }()), Options{}, "len(W2)"},
		{"se-reduce", in(good(), func() Layer { l := se(r, "se", 8, 2, hsig6, true); l.SEReduce = 0; return l }()), Options{}, "SEReduce"},
		{"fc-inc", in(good(), fc(r, "fc", 8, 10, true, Act{})), Options{}, "InC = 8"},
		{"fc-weight", in(Layer{Kind: LayerGlobalAvgPool}, func() Layer { l := fc(r, "fc", 3, 10, true, Act{}); l.Weight = nil; return l }()), Options{}, "len(Weight)"},
		{"scale-inf", in(Layer{Kind: LayerScale, Factor: float32(math.Inf(1))}), Options{}, "Factor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.net, tc.opt)
			if err == nil {
				p.Close()
				t.Fatal("Compile succeeded")
			}
			var ne *NetError
			if !errors.Is(err, ErrInvalidNet) || !errors.As(err, &ne) {
				t.Fatalf("err = %v, want a *NetError", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "dnn: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("err = %q, want it to contain %q", msg, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	l := conv(r, "c", 3, 8, 3, 3, 1, 1, [4]int{1, 1, 1, 1}, 1, true, relu)
	l.InC, l.StrideH, l.StrideW, l.Groups = 0, 0, 0, 0
	f := fc(r, "fc", 8, 2, false, Act{})
	f.InC = 0
	v, err := validate(&Net{InC: 3, InH: 5, InW: 4, Layers: []Layer{l, {Kind: LayerGlobalAvgPool}, f}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.layers[0]; got.InC != 3 || got.StrideH != 1 || got.StrideW != 1 || got.Groups != 1 {
		t.Errorf("defaults not filled: %+v", got)
	}
	if v.layers[2].InC != 8 || v.out != (shape{2, 1, 1}) || v.thr != 1 {
		t.Errorf("fc InC %d, out %v, threads %d", v.layers[2].InC, v.out, v.thr)
	}
}

func TestAvailable(t *testing.T) {
	p, err := Compile(&Net{InC: 1, InH: 1, InW: 1, Layers: []Layer{{Kind: LayerSoftmax}}}, Options{})
	if err == nil {
		p.Close()
	}
	if Available() != (err == nil) {
		t.Fatalf("Available() = %v but Compile: %v", Available(), err)
	}
	if !Available() && !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
