package lcnet

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lcnet-go/lcnet/dnn"
)

// TestModelProfile checks Model.Profile on every backend: steps in
// execution order that name the model's nodes, per-run means that add up
// to no more than the measured run, and clear errors for bad arguments.
func TestModelProfile(t *testing.T) {
	backends := []Backend{Go}
	if dnn.Available() {
		backends = append(backends, DNNL)
	}
	for _, be := range backends {
		t.Run(string(be), func(t *testing.T) {
			m, err := BuiltIn("pplcnet_x0_25", 1, &Options{Backend: be, MaxInstances: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			checkProfile(t, m, string(be))
		})
	}
	t.Run("int8", func(t *testing.T) {
		m, cal := calibratedQuarter(t)
		defer m.Close()
		q, err := New(m.Graph(), &Options{Calibration: cal, MaxInstances: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		checkProfile(t, q, int8Name)
	})
}

func checkProfile(t *testing.T, m *Model, backend string) {
	t.Helper()
	s := m.InputShape()
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]float32, 2*s[0]*s[1]*s[2])
	for i := range in {
		in[i] = r.Float32()
	}
	steps, wall, err := m.Profile(context.Background(), in, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) == 0 || wall <= 0 {
		t.Fatalf("%d steps, run %v", len(steps), wall)
	}
	nodes := map[string]bool{"": true}
	for _, n := range m.Graph().Nodes {
		nodes[n.Name] = true
	}
	var sum, named = 0.0, 0
	seen := false
	for i, st := range steps {
		if !nodes[st.Node] || st.What == "" || st.Mean < 0 {
			t.Errorf("step %d: %+v", i, st)
		}
		if st.Node != "" {
			named++
		}
		seen = seen || st.Backend == backend
		sum += st.Mean.Seconds()
	}
	if !seen {
		t.Errorf("no step on backend %s: %+v", backend, steps)
	}
	if named == 0 || sum <= 0 || sum > wall.Seconds()*1.05 {
		t.Errorf("%d named steps, sum %.3g s, run %v", named, sum, wall)
	}
	// the model still runs, unprofiled
	out := make([]float32, 2*m.OutputShape()[0])
	if err := m.RunInto(in, 2, out); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		in          []float32
		batch, runs int
	}{{in, 2, 0}, {in, 3, 1}, {in[:len(in)-1], 2, 1}, {in, 0, 1}, {in, -1, 1}} {
		if _, _, err := m.Profile(context.Background(), bad.in, bad.batch, bad.runs); err == nil {
			t.Errorf("Profile(len %d, batch %d, runs %d): no error", len(bad.in), bad.batch, bad.runs)
		}
	}
	in[3] = float32(math.NaN())
	if _, _, err := m.Profile(context.Background(), in, 2, 1); !errors.Is(err, ErrInput) {
		t.Errorf("Profile of a NaN input: %v, want ErrInput", err)
	}
}
