package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/spf13/pflag"
)

// loadChildEnv marks a process started by "lcnet-bench load" to time one
// load: it opens the model, runs it twice and prints one line of times.
const loadChildEnv = "LCNET_BENCH_LOAD_CHILD"

// loadExe is the program "load" starts once per timed load (this one; the
// test points it at its own binary, which runs the CLI under loadChildEnv).
var loadExe = os.Executable

// runLoad times what a program pays to start using a model: Open (read,
// import, graph passes, plan, kernels) and the first Run, each in a new
// process, so that nothing is warm but the OS's file cache. A
// process-internal benchmark (go test -bench Load) loads again and again
// in one heap, reusing memory a real first load has to map in.
func runLoad(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("load", pflag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	runs := fs.Int("runs", 10, "fresh processes, one load each")
	if err := parse(fs, args); err != nil {
		return err
	}
	if os.Getenv(loadChildEnv) == "1" {
		return loadOnce(mf, stdout)
	}
	if *runs < 1 || *runs > 1000 {
		return fmt.Errorf("%w: --runs %d must be in [1, 1000]", errUsage, *runs)
	}
	exe, err := loadExe()
	if err != nil {
		return fmt.Errorf("load: finding this program: %w", err)
	}
	var open, first, second []time.Duration
	for range *runs {
		cmd := exec.Command(exe, append([]string{"load"}, args...)...)
		cmd.Env = append(os.Environ(), loadChildEnv+"=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("load: child process: %w: %s", err, bytes.TrimSpace(errb.Bytes()))
		}
		var o, f, s int64
		if _, err := fmt.Sscanf(out.String(), "lcnet-load %d %d %d", &o, &f, &s); err != nil {
			return fmt.Errorf("load: child printed %q: %w", out.String(), err)
		}
		open, first, second = append(open, time.Duration(o)), append(first, time.Duration(f)), append(second, time.Duration(s))
	}
	fmt.Fprintf(stdout, "%s backend=%s threads=%d, %d fresh processes: median (min-max) ms\n", mf.model, mf.backend, mf.threads, *runs)
	for _, r := range []struct {
		what string
		d    []time.Duration
	}{{"open (read, import, plan)", open}, {"first run", first}, {"second run", second}} {
		med, lo, hi := summarize(r.d)
		fmt.Fprintf(stdout, "  %-26s %8.2f (%.2f-%.2f)\n", r.what, med, lo, hi)
	}
	sum := make([]time.Duration, len(open))
	for i := range open {
		sum[i] = open[i] + first[i]
	}
	med, lo, hi := summarize(sum)
	fmt.Fprintf(stdout, "  %-26s %8.2f (%.2f-%.2f)\n", "open + first run", med, lo, hi)
	return nil
}

// loadOnce is the child's part: one Open and two runs on a zero image.
func loadOnce(mf modelFlags, stdout io.Writer) error {
	t0 := time.Now()
	m, err := mf.open(1)
	if err != nil {
		return err
	}
	defer m.Close()
	t1 := time.Now()
	n := graph.Numel(m.InputShape()) // one sample
	if n <= 0 {
		return errors.New("load: the model's input shape is not fixed")
	}
	in := make([]float32, n)
	if _, err := m.Run(in, 1); err != nil {
		return err
	}
	t2 := time.Now()
	if _, err := m.Run(in, 1); err != nil {
		return err
	}
	t3 := time.Now()
	_, err = fmt.Fprintf(stdout, "lcnet-load %d %d %d\n", t1.Sub(t0), t2.Sub(t1), t3.Sub(t2))
	return err
}
