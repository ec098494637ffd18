package main

import (
	"errors"
	"slices"
	"testing"
)

func TestInterleave(t *testing.T) {
	var order []string
	mk := func(name string) *target {
		return &target{backend: name, label: name, run: func() error { order = append(order, name); return nil }}
	}
	a, b := mk("a"), mk("b")
	s := schedule{runs: 5, warmup: 2}
	if err := interleave([]*target{a, b}, s, nil); err != nil {
		t.Fatal(err)
	}
	// warm-up a a, b b; then 5 blocks of one lead-in + one timed run,
	// alternating a,b / b,a.
	want := []string{"a", "a", "b", "b", "a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"}
	if !slices.Equal(order, want) {
		t.Errorf("order %v\nwant  %v", order, want)
	}
	if len(order) != 2*s.inferences() {
		t.Errorf("%d runs, schedule says %d", len(order), 2*s.inferences())
	}
	for _, tg := range []*target{a, b} {
		if len(tg.lat) != 5 || len(tg.blocks) != 5 {
			t.Errorf("%s: %d latencies, %d blocks", tg.label, len(tg.lat), len(tg.blocks))
		}
		m := tg.summary(1)
		if m.Runs != 5 || m.MinMS > m.MedianMS || m.MedianMS > m.MaxMS {
			t.Errorf("%s: %+v", tg.label, m)
		}
	}

	// 25 runs: 10 blocks of 3,3,3,3,3,2,2,2,2,2; no warm-up, no lead-ins.
	c := mk("c")
	order = nil
	if err := interleave([]*target{c}, schedule{runs: 25}, nil); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, s := range c.blocks {
		sizes = append(sizes, s.runs)
	}
	if len(order) != 25 || !slices.Equal(sizes, []int{3, 3, 3, 3, 3, 2, 2, 2, 2, 2}) {
		t.Errorf("%d runs in blocks %v", len(order), sizes)
	}

	boom := errors.New("boom")
	bad := &target{label: "bad", run: func() error { return boom }}
	if err := interleave([]*target{bad}, schedule{runs: 1}, nil); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{"0000000000011": "12-13", "1111111111111": "1-13", "0000000000000": "none", "1010000000001": "1,3,13"} {
		if got := blockRanges(in); got != want {
			t.Errorf("blockRanges(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[float64]string{0.25: "0.25", 1: "1.0", 2.5: "2.5", 2: "2.0"} {
		if got := fmtScale(in); got != want {
			t.Errorf("fmtScale(%v) = %s", in, got)
		}
	}
	s, err := parseScales("1.0, x0.25,1")
	if err != nil || !slices.Equal(s, []float64{0.25, 1}) {
		t.Errorf("parseScales: %v, %v", s, err)
	}
	if got := slug("SE in blocks 1-2"); got != "se_in_blocks_1_2" {
		t.Errorf("slug = %s", got)
	}
	if d := relDiff([]float32{1, -4}, []float32{1, -3.996}); d < 9.9e-4 || d > 1.01e-3 {
		t.Errorf("relDiff = %v", d)
	}
}
