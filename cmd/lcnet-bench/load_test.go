package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for lcnet-bench in the child
// processes "load" starts (loadExe is os.Executable: this binary).
func TestMain(m *testing.M) {
	if os.Getenv(loadChildEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestLoad times two fresh-process loads of a built-in model on each
// backend this build has and checks the report: four rows of positive
// medians, open + first run at least open's median.
func TestLoad(t *testing.T) {
	row := regexp.MustCompile(`(?m)^  (open \(read, import, plan\)|first run|second run|open \+ first run) +([0-9.]+) \(([0-9.]+)-([0-9.]+)\)$`)
	for _, be := range []string{"go", "dnnl"} {
		t.Run("backend="+be, func(t *testing.T) {
			code, out, errOut := lcnetBench(t, "load", "-m", "pplcnet_x0_25", "--backend", be, "--runs", "2")
			if code != 0 {
				if be == "dnnl" && strings.Contains(errOut, "oneDNN") {
					t.Skip(errOut)
				}
				t.Fatalf("exit %d: %s", code, errOut)
			}
			rows := row.FindAllStringSubmatch(out, -1)
			if len(rows) != 4 || !strings.Contains(out, "2 fresh processes") {
				t.Fatalf("want 4 rows over 2 processes, got:\n%s", out)
			}
			med := map[string]float64{}
			for _, r := range rows {
				m, _ := strconv.ParseFloat(r[2], 64)
				lo, _ := strconv.ParseFloat(r[3], 64)
				hi, _ := strconv.ParseFloat(r[4], 64)
				if !(m > 0 && lo <= m && m <= hi) {
					t.Errorf("row %q: median %v outside (%v-%v) or not positive", r[1], m, lo, hi)
				}
				med[r[1]] = m
			}
			if med["open + first run"] < med["open (read, import, plan)"] {
				t.Errorf("open + first run %v < open %v", med["open + first run"], med["open (read, import, plan)"])
			}
		})
	}
	if code, _, errOut := lcnetBench(t, "load", "--runs", "0"); code == 0 || !strings.Contains(errOut, "--runs 0") {
		t.Errorf("--runs 0: exit %d, %q", code, errOut)
	}
	if code, _, errOut := lcnetBench(t, "load", "-m", "no/such/model.onnx", "--runs", "1"); code == 0 || !strings.Contains(errOut, "child process") {
		t.Errorf("missing model: exit %d, %q", code, errOut)
	}
}
