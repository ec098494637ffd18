package fallback

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// TestTuneTimes prints min/median single-inference times; it runs only with
// LCNET_TUNE=1 (the shared machine makes averages noisy; minima are not).
func TestTuneTimes(t *testing.T) {
	if os.Getenv("LCNET_TUNE") == "" {
		t.Skip("set LCNET_TUNE=1")
	}
	for _, s := range supported {
		if os.Getenv("LCNET_TUNE") == s.String() {
			defer func(old isa) { useISA = old }(useISA)
			useISA = s
		}
	}
	for _, scale := range []float64{0.25, 1.0} {
		_, opt := buildNet(t, pplcnet.Default(scale))
		p, err := Compile(opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 4} {
			inst := p.NewInstance()
			in := randSlice(rand.New(rand.NewPCG(1, 1)), batch*graph.Numel(p.InputShape()))
			out := make([]float32, batch*graph.Numel(p.OutputShape()))
			var ds []time.Duration
			for range 40 {
				t0 := time.Now()
				_ = inst.Run(in, batch, out)
				ds = append(ds, time.Since(t0)/time.Duration(batch))
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			fmt.Printf("scale=%s batch=%d per image: min %v median %v\n", scaleName(scale), batch, ds[0], ds[len(ds)/2])
		}
	}
}

// TestTuneSteps prints the minimum time of each step of x1.0 at batch 1.
func TestTuneSteps(t *testing.T) {
	if os.Getenv("LCNET_TUNE") == "" {
		t.Skip("set LCNET_TUNE=1")
	}
	_, opt := buildNet(t, pplcnet.Default(1.0))
	p, err := Compile(opt)
	if err != nil {
		t.Fatal(err)
	}
	inst := p.NewInstance()
	in := randSlice(rand.New(rand.NewPCG(1, 1)), graph.Numel(p.InputShape()))
	out := make([]float32, graph.Numel(p.OutputShape()))
	_ = inst.Run(in, 1, out)
	best := make([]time.Duration, len(p.steps)+1)
	for i := range best {
		best[i] = time.Hour
	}
	for range 40 {
		t0 := time.Now()
		toChannelsLast(inst.slots[p.inSlot][:p.inSize], in, 1, p.inC, p.inS)
		best[len(p.steps)] = min(best[len(p.steps)], time.Since(t0))
		for i := range p.steps {
			st := &p.steps[i]
			var x1 []float32
			if st.x1 >= 0 {
				x1 = inst.slots[st.x1][:st.n1]
			}
			t0 := time.Now()
			st.k.run(inst.slots[st.y][:st.ny], inst.slots[st.x0][:st.n0], x1, 1, inst.scratch[:p.scratchPerSample])
			best[i] = min(best[i], time.Since(t0))
		}
	}
	var total time.Duration
	for i, st := range p.steps {
		fmt.Printf("%-28s %T %v\n", st.name, st.k, best[i])
		total += best[i]
	}
	fmt.Printf("input transpose %v\ntotal %v\n", best[len(p.steps)], total+best[len(p.steps)])
}
