package lcnet

// Hostile input: every file of testdata/hostile (made by
// testdata/hostile/gen.go), plus truncations of the real model made here,
// goes through the reader that owns its kind. Each must give a clean error
// (or, for files named mut_*, load cleanly): no panic, no hang, bounded
// allocation, nothing executed.

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/onnx"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/graph/safetensors"
	"github.com/lcnet-go/lcnet/internal/npy"
	"github.com/lcnet-go/lcnet/preprocess"
	"google.golang.org/protobuf/encoding/protowire"
)

const (
	corpusDir = "testdata/hostile"
	// sentinelEnv is read by the corpus' pickle payloads: they run
	// `touch "$LCNET_HOSTILE_SENTINEL"` if anything executes them.
	sentinelEnv = "LCNET_HOSTILE_SENTINEL"
	realModel   = "third_party/models/pplcnet_x0_25_textline_ori"
)

// Allocation budget of one hostile load: allocFactor × the bytes of the
// files involved + allocSlack.
//
// Why these numbers: a valid load holds each weight a few times over (the
// decoded tensor, the graph's copy, the optimizer's folded copy, the Go
// backend's packed copy), and a PIR program is decoded as generic JSON
// values, about 10-20 bytes per byte of text. Measured on the real
// text-line model (1.1 MB of files) a full load with both backends
// allocates about 12 MB, so 32× leaves room while still catching a header
// that makes a reader allocate what it declares rather than what is there:
// the corpus' lies are 2^31 and more. The slack covers fixed costs (the
// planner, oneDNN's plan descriptions, error strings, the test's own
// goroutine and file reads). Images are bounded by their pixel limit
// instead: a legitimate PNG compresses a blank 100-megapixel picture into
// 100 KB, so no bound in file size can hold for them.
const (
	allocFactor = 32
	allocSlack  = 64 << 20
)

// imageLimits keeps the image bound cheap: decoding may allocate about
// 8 bytes per pixel (the decoder's RGBA or YCbCr image, our RGB copy).
var imageLimits = preprocess.Limits{MaxPixels: 4 << 20}

const imageAllocBudget = 8*(4<<20) + allocSlack

// raceEnabled reports whether the test binary was built with -race.
var raceEnabled = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}()

// perFileTimeout is how long one hostile file may take.
func perFileTimeout() time.Duration {
	if raceEnabled {
		return 30 * time.Second
	}
	return 5 * time.Second
}

// outcome is what one guarded call did.
type outcome struct {
	err      error
	panicked any
	stack    []byte
	timedOut bool
	alloc    uint64
	elapsed  time.Duration
}

// guard runs f on its own goroutine with a deadline, recovering a panic and
// measuring the bytes allocated meanwhile. The hostile tests run serially,
// so TotalAlloc is (nearly) f's alone.
func guard(f func() error) outcome {
	var o outcome
	done := make(chan struct{})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				o.panicked, o.stack = p, debug.Stack()
			}
		}()
		o.err = f()
	}()
	select {
	case <-done:
	case <-time.After(perFileTimeout()):
		o.timedOut = true
		return o // the goroutine is leaked; the test fails anyway
	}
	o.elapsed = time.Since(t0)
	runtime.ReadMemStats(&m1)
	o.alloc = m1.TotalAlloc - m0.TotalAlloc
	return o
}

// hostileCase is one input and the reader it goes through.
type hostileCase struct {
	name    string // for messages: the corpus path or a description
	bytes   int64  // the size of the files involved, for the budget
	mayLoad bool   // success is acceptable too (mut_*: data, not structure)
	image   bool
	run     func() error
}

// knownBugs are failures of readers this package does not own, reported
// to their owners: the case still runs, and its failure is logged instead
// of failing the test (a fix shows up as "no longer reproduces").
var knownBugs = map[string]string{}

// check applies the rules to one case.
func check(t *testing.T, c hostileCase, stats *corpusStats) {
	t.Helper()
	o := guard(c.run)
	budget := uint64(allocFactor*c.bytes + allocSlack)
	if c.image {
		budget = imageAllocBudget
	}
	stats.add(c, o)
	var fails []string
	switch {
	case o.timedOut:
		fails = append(fails, fmt.Sprintf("no result after %v (a hang?)", perFileTimeout()))
	case o.panicked != nil:
		fails = append(fails, fmt.Sprintf("panic: %v\n%s", o.panicked, o.stack))
	case errors.Is(o.err, ErrInternal):
		fails = append(fails, fmt.Sprintf("an importer or the planner panicked (recovered by Load): %v", o.err))
	case o.err == nil && !c.mayLoad:
		fails = append(fails, "accepted, want an error")
	case o.err != nil && !cleanError(o.err):
		fails = append(fails, fmt.Sprintf("unclean error %q", o.err))
	}
	if o.alloc > budget {
		fails = append(fails, fmt.Sprintf("allocated %d MB for %d bytes of input (budget %d MB)", o.alloc>>20, c.bytes, budget>>20))
	}
	bug, known := knownBugs[strings.TrimSuffix(strings.TrimSuffix(c.name, goSuffix), " (parser)")]
	switch {
	case known && len(fails) > 0:
		t.Logf("KNOWN BUG %s: %s [%s; %v]", c.name, strings.Join(fails, "; "), bug, o.elapsed.Round(time.Millisecond))
	case known:
		t.Logf("%s: the known bug no longer reproduces (%s): remove it from knownBugs", c.name, bug)
	case len(fails) > 0:
		t.Errorf("%s: %s", c.name, strings.Join(fails, "; "))
	}
}

// cleanError reports whether err reads as a diagnosis rather than a crash.
func cleanError(err error) bool {
	s := err.Error()
	if s == "" {
		return false
	}
	for _, bad := range []string{"runtime error", "goroutine ", "invalid memory address", "index out of range", "nil pointer"} {
		if strings.Contains(s, bad) {
			return false
		}
	}
	return true
}

type corpusStats struct {
	files, loaded map[string]int
	maxAlloc      uint64
	maxAllocName  string
	slowest       time.Duration
	slowestName   string
}

func (s *corpusStats) add(c hostileCase, o outcome) {
	if s.files == nil {
		s.files, s.loaded = map[string]int{}, map[string]int{}
	}
	kind := strings.SplitN(strings.TrimPrefix(c.name, corpusDir+"/"), "/", 2)[0]
	if strings.HasSuffix(c.name, goSuffix) {
		kind += "(go)"
	}
	s.files[kind]++
	if o.err == nil && o.panicked == nil && !o.timedOut {
		s.loaded[kind]++
	}
	if !c.image && o.alloc > s.maxAlloc {
		s.maxAlloc, s.maxAllocName = o.alloc, c.name
	}
	if o.elapsed > s.slowest {
		s.slowest, s.slowestName = o.elapsed, c.name
	}
}

func (s *corpusStats) log(t *testing.T) {
	var kinds []string
	for k := range s.files {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("%-12s %4d inputs, %3d loaded", k, s.files[k], s.loaded[k])
	}
	t.Logf("largest allocation (models): %.1f MB (%s); slowest: %v (%s)", float64(s.maxAlloc)/(1<<20), s.maxAllocName, s.slowest, s.slowestName)
}

func fileSize(t *testing.T, paths ...string) int64 {
	var n int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		n += st.Size()
	}
	return n
}

// goSuffix marks a case loaded with the Go backend alone.
const goSuffix = " (go backend)"

var goOnly = &OpenOptions{Options: Options{Backend: Go}}

// loadAndRun loads a model and, when it loads, runs one zero sample
// through it (a model that loads must also run, or fail cleanly).
func loadAndRun(path string, o *OpenOptions) error {
	m, err := Load(path, o)
	if err != nil {
		return err
	}
	defer m.Close()
	n := graph.Numel(m.InputShape())
	if n <= 0 || n > 1<<22 {
		return nil
	}
	_, err = m.Run(make([]float32, n), 1)
	return err
}

func corpusFiles(t testing.TB, dir string) []string {
	var out []string
	err := filepath.WalkDir(filepath.Join(corpusDir, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func mayLoad(path string) bool { return strings.HasPrefix(filepath.Base(path), "mut_") }

// withSentinel points the pickle payloads at a file in a temporary
// directory and returns a check that it was never created.
func withSentinel(t *testing.T) (check func(after string)) {
	sentinel := filepath.Join(t.TempDir(), "pwned")
	t.Setenv(sentinelEnv, sentinel)
	return func(after string) {
		t.Helper()
		if _, err := os.Stat(sentinel); err == nil {
			t.Fatalf("%s: the sentinel %s exists: a payload was executed", after, sentinel)
		}
	}
}

// copyTo writes files (name -> source path) into a fresh directory.
func copyTo(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hostileCases lists every corpus file as a case.
func hostileCases(t *testing.T) []hostileCase {
	var cases []hostileCase
	model := func(dir, ext string) {
		for _, p := range corpusFiles(t, dir) {
			if ext != "" && filepath.Ext(p) != ext {
				continue
			}
			size := fileSize(t, p)
			if dir == "pir" || dir == "pdmodel" { // the parameters beside it are read too
				if st, err := os.Stat(strings.TrimSuffix(p, ext) + ".pdiparams"); err == nil {
					size += st.Size()
				} else {
					size += fileSize(t, filepath.Join(filepath.Dir(p), "inference.pdiparams"))
				}
			}
			cases = append(cases, hostileCase{name: p, bytes: size, mayLoad: mayLoad(p), run: func() error { return loadAndRun(p, nil) }})
			if dnnAvailable() {
				// The Go backend accepts what oneDNN refuses; run that path too.
				cases = append(cases, hostileCase{name: p + goSuffix, bytes: size, mayLoad: mayLoad(p), run: func() error { return loadAndRun(p, goOnly) }})
			}
		}
	}
	model("pir", ".json")
	model("pdmodel", ".pdmodel")
	model("onnx", ".onnx")
	model("pdparams", ".pdparams")
	model("safetensors", ".safetensors")
	model("sniff", "")
	okPIR := filepath.Join(corpusDir, "ok", "pir", "inference.json")
	okProg := filepath.Join(corpusDir, "ok", "pdmodel", "inference.pdmodel")
	for _, p := range corpusFiles(t, "pdiparams") {
		for _, prog := range []string{okPIR, okProg} {
			dir := copyTo(t, map[string]string{filepath.Base(prog): prog, "inference.pdiparams": p})
			cases = append(cases, hostileCase{name: p + " with " + filepath.Base(prog), bytes: fileSize(t, p, prog), mayLoad: mayLoad(p),
				run: func() error { return loadAndRun(dir, nil) }})
		}
	}
	for _, p := range corpusFiles(t, "yml") {
		dir := copyTo(t, map[string]string{"inference.json": okPIR, "inference.pdiparams": filepath.Join(corpusDir, "ok", "pir", "inference.pdiparams"), "inference.yml": p})
		cases = append(cases, hostileCase{name: p, bytes: fileSize(t, p, okPIR), mayLoad: mayLoad(p), run: func() error { return loadAndRun(dir, nil) }})
	}
	for _, p := range corpusFiles(t, "safetensors") {
		// Straight to the parser too: Load refuses many of these at sniffing.
		cases = append(cases, hostileCase{name: p + " (parser)", bytes: fileSize(t, p), mayLoad: mayLoad(p), run: func() error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = safetensors.Read(b, safetensors.Options{})
			return err
		}})
	}
	for _, p := range corpusFiles(t, "npy") {
		cases = append(cases, hostileCase{name: p, bytes: fileSize(t, p), mayLoad: mayLoad(p), run: func() error {
			_, err := npy.ReadFile(p)
			return err
		}})
	}
	for _, p := range corpusFiles(t, "images") {
		cases = append(cases, hostileCase{name: p, bytes: fileSize(t, p), mayLoad: mayLoad(p), image: true, run: func() error {
			img, err := preprocess.DecodeFile(p, imageLimits)
			if err != nil {
				return err
			}
			// What decodes must also preprocess.
			_, err = preprocess.ImageNetDefault().Preprocess(img)
			return err
		}})
	}
	return cases
}

// TestHostileCorpus runs every corpus file through its reader.
func TestHostileCorpus(t *testing.T) {
	noSentinel := withSentinel(t)
	var stats corpusStats
	for _, c := range hostileCases(t) {
		check(t, c, &stats)
		noSentinel(c.name)
	}
	stats.log(t)
}

// TestHostileBaseFilesLoad checks that the valid files every hostile
// variant is derived from do load: the variants fail for their lie, not
// because the base was broken.
func TestHostileBaseFilesLoad(t *testing.T) {
	ok := func(path string) {
		t.Helper()
		m, err := Load(path, nil)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		defer m.Close()
		if _, err := m.Run(make([]float32, graph.Numel(m.InputShape())), 1); err != nil {
			t.Errorf("%s: run: %v", path, err)
		}
	}
	base := filepath.Join(corpusDir, "ok")
	for _, p := range []string{"pir", "pir/inference.json", "pdmodel", "pdmodel/inference.pdmodel", "tiny.onnx", "tiny_p4.pdparams", "tiny_p2.pdparams", "tiny.safetensors", "sniff/onnx_named.pdparams"} {
		ok(filepath.Join(base, p))
	}
	dir := copyTo(t, map[string]string{"inference.json": filepath.Join(base, "pir", "inference.json"), "inference.pdiparams": filepath.Join(base, "pir", "inference.pdiparams"), "inference.yml": filepath.Join(base, "pir_yml", "inference.yml")})
	ok(dir)
	if m, err := Load(dir, nil); err == nil {
		if m.Preprocess == nil || len(m.Labels) != 2 {
			t.Errorf("inference.yml not applied: %+v %v", m.Preprocess, m.Labels)
		}
		m.Close()
	}
	if _, err := npy.ReadFile(filepath.Join(base, "tiny.npy")); err != nil {
		t.Error(err)
	}
	for _, ext := range []string{"png", "jpg", "gif", "bmp"} {
		if _, err := preprocess.DecodeFile(filepath.Join(base, "tiny."+ext), preprocess.Limits{}); err != nil {
			t.Errorf("tiny.%s: %v", ext, err)
		}
	}
}

// TestHostileRealModel cuts the real text-line model (its PIR program,
// parameter blob and ONNX export) at evenly spaced offsets and flips bytes
// in its headers; made here rather than committed, since each cut is up to
// a megabyte.
func TestHostileRealModel(t *testing.T) {
	dir := filepath.Join(realModel, "paddle")
	prog, err := os.ReadFile(filepath.Join(dir, "inference.json"))
	if err != nil {
		t.Skip("real model not present:", err)
	}
	blob, err := os.ReadFile(filepath.Join(dir, "inference.pdiparams"))
	if err != nil {
		t.Fatal(err)
	}
	onnxFile, err := os.ReadFile(filepath.Join(realModel, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	n := 24
	if testing.Short() {
		n = 6
	}
	noSentinel := withSentinel(t)
	var stats corpusStats
	tmp := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := rand.New(rand.NewPCG(1, 2))
	// The valid model loads, and sets the scale of the budget.
	vdir := filepath.Join(tmp, "valid")
	os.Mkdir(vdir, 0o755)
	os.WriteFile(filepath.Join(vdir, "inference.json"), prog, 0o644)
	os.WriteFile(filepath.Join(vdir, "inference.pdiparams"), blob, 0o644)
	o := guard(func() error { return loadAndRun(vdir, nil) })
	if o.err != nil || o.panicked != nil {
		t.Fatalf("the real model does not load: %v %v", o.err, o.panicked)
	}
	t.Logf("valid real model: %.1f MB allocated for %.1f MB of files", float64(o.alloc)/(1<<20), float64(len(prog)+len(blob))/(1<<20))
	for i := range n {
		cut := len(prog) * i / n
		d := filepath.Join(tmp, fmt.Sprintf("prog%d", i))
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "inference.json"), prog[:cut], 0o644)
		os.WriteFile(filepath.Join(d, "inference.pdiparams"), blob, 0o644)
		check(t, hostileCase{name: fmt.Sprintf("real/inference.json cut at %d", cut), bytes: int64(cut + len(blob)), run: func() error { return loadAndRun(d, nil) }}, &stats)
	}
	for i := range 2 * n {
		cut := len(blob) * i / (2 * n)
		if i == 0 {
			cut = 5
		}
		d := filepath.Join(tmp, fmt.Sprintf("blob%d", i))
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "inference.json"), prog, 0o644)
		os.WriteFile(filepath.Join(d, "inference.pdiparams"), blob[:cut], 0o644)
		check(t, hostileCase{name: fmt.Sprintf("real/inference.pdiparams cut at %d", cut), bytes: int64(len(prog) + cut), run: func() error { return loadAndRun(d, nil) }}, &stats)
	}
	for i := range 2 * n {
		cut := len(onnxFile) * i / (2 * n)
		p := write(fmt.Sprintf("cut%d.onnx", i), onnxFile[:cut])
		check(t, hostileCase{name: fmt.Sprintf("real/model.onnx cut at %d", cut), bytes: int64(cut), run: func() error { return loadAndRun(p, nil) }}, &stats)
	}
	// Flipped bytes in the first records' headers and in the ONNX file:
	// these may load (a flip in weight data is still a model).
	for i := range n {
		b := append([]byte(nil), blob...)
		for range 1 + i%3 {
			b[r.IntN(200)] ^= byte(1 + r.IntN(255))
		}
		d := filepath.Join(tmp, fmt.Sprintf("flip%d", i))
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "inference.json"), prog, 0o644)
		os.WriteFile(filepath.Join(d, "inference.pdiparams"), b, 0o644)
		check(t, hostileCase{name: fmt.Sprintf("real/inference.pdiparams flip %d", i), bytes: int64(len(prog) + len(b)), mayLoad: true, run: func() error { return loadAndRun(d, nil) }}, &stats)
		ob := append([]byte(nil), onnxFile...)
		for range 1 + i%4 {
			ob[r.IntN(len(ob))] ^= byte(1 + r.IntN(255))
		}
		p := write(fmt.Sprintf("flip%d.onnx", i), ob)
		check(t, hostileCase{name: fmt.Sprintf("real/model.onnx flip %d", i), bytes: int64(len(ob)), mayLoad: true, run: func() error { return loadAndRun(p, nil) }}, &stats)
	}
	// An lcnet ONNX export of a small PP-LCNet, cut short.
	cfg := pplcnet.Default(0.25)
	cfg.InputH, cfg.InputW, cfg.ClassExpand, cfg.Classes = 16, 16, 16, 3
	g, err := pplcnet.Build(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	if err := onnx.Export(g, &exp, onnx.ExportOptions{Opset: 11}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		cut := exp.Len() * i / n
		p := write(fmt.Sprintf("export%d.onnx", i), exp.Bytes()[:cut])
		check(t, hostileCase{name: fmt.Sprintf("export/x0_25.onnx cut at %d", cut), bytes: int64(cut), run: func() error { return loadAndRun(p, nil) }}, &stats)
	}
	noSentinel("real model cases")
	stats.log(t)
}

// TestHostileLarge covers inputs too large to commit: a pickle stack and a
// memo of a million entries, and a PNG whose IDAT inflates to 1 GiB.
func TestHostileLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	noSentinel := withSentinel(t)
	var stats corpusStats
	tmp := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dup := append([]byte{0x80, 4, '}'}, bytes.Repeat([]byte{'2'}, 1100000)...) // DUP a dict 1.1M times
	dup = append(dup, '.')
	memo := append([]byte{0x80, 4, '}'}, bytes.Repeat([]byte{0x94}, 1100000)...) // MEMOIZE 1.1M times
	memo = append(memo, '.')
	marks := append([]byte{0x80, 4}, bytes.Repeat([]byte{'(', 'N'}, 600000)...)
	marks = append(marks, '.')
	for name, b := range map[string][]byte{"dup.pdparams": dup, "memo.pdparams": memo, "marks.pdparams": marks} {
		p := write(name, b)
		check(t, hostileCase{name: "large/" + name, bytes: int64(len(b)), run: func() error {
			err := loadAndRun(p, nil)
			if name == "memo.pdparams" && !errors.Is(err, ErrTooLarge) {
				t.Errorf("large/memo.pdparams: %v, want ErrTooLarge (the memo is bounded by the pickle's size)", err)
			}
			return err
		}}, &stats)
	}
	// A 1x1 PNG whose IDAT is 1 GiB of zeros (1 MiB compressed): a
	// deflate stream of one flushed 1 MiB block, repeated.
	var blk bytes.Buffer
	z, _ := zlib.NewWriterLevel(&blk, zlib.BestCompression)
	z.Write(make([]byte, 1<<20))
	z.Flush()
	stream := blk.Bytes()
	head, body := stream[:2], stream[2:]
	idat := append([]byte(nil), head...)
	for range 1024 {
		idat = append(idat, body...)
	}
	idat = append(idat, 0x03, 0x00, 0, 0, 0, 1) // final empty block, adler32 (wrong; never reached)
	png := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		png = binary.BigEndian.AppendUint32(png, uint32(len(data)))
		td := append([]byte(typ), data...)
		png = append(png, td...)
		png = binary.BigEndian.AppendUint32(png, crc32.ChecksumIEEE(td))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, 1)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 1)
	chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0))
	chunk("IDAT", idat)
	chunk("IEND", nil)
	p := write("gib.png", png)
	check(t, hostileCase{name: fmt.Sprintf("large/png 1x1 with a 1 GiB IDAT (%d KB)", len(png)>>10), bytes: int64(len(png)), image: true, run: func() error {
		_, err := preprocess.DecodeFile(p, imageLimits)
		return err
	}}, &stats)
	// One weight shared by a thousand nodes: a few hundred kilobytes of
	// file that every backend would materialise a thousand times.
	p = write("shared.onnx", sharedWeightONNX(64, 1000))
	check(t, hostileCase{name: "large/onnx: 1000 convs sharing one 64x64x3x3 weight", bytes: fileSize(t, p), run: func() error {
		err := loadAndRun(p, nil)
		if err != nil && !errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("want ErrTooLarge, got %w", err)
		}
		return err
	}}, &stats)
	prog, blob := sharedWeightPIR(256, 1000)
	d := filepath.Join(tmp, "shared")
	os.Mkdir(d, 0o755)
	os.WriteFile(filepath.Join(d, "inference.json"), prog, 0o644)
	os.WriteFile(filepath.Join(d, "inference.pdiparams"), blob, 0o644)
	check(t, hostileCase{name: "large/pir: 1000 convs sharing one 256x256 weight", bytes: int64(len(prog) + len(blob)), run: func() error {
		err := loadAndRun(d, nil)
		if err != nil && !errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("want ErrTooLarge, got %w", err)
		}
		return err
	}}, &stats)
	noSentinel("large cases")
	stats.log(t)
}

// sharedWeightONNX is x[1,c,8,8] -> n Convs c->c 3x3 (pad 1) all reading
// the one initializer W -> GlobalAveragePool.
func sharedWeightONNX(c, n int) []byte {
	bs := func(b []byte, num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
	}
	vi := func(b []byte, num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	var g []byte
	prev := "x"
	pads := bs(nil, 1, []byte("pads"))
	for range 4 {
		pads = vi(pads, 8, 1)
	}
	pads = vi(pads, 20, 7)
	for i := range n {
		out := fmt.Sprintf("c%d", i)
		node := bs(bs(bs(bs(nil, 1, []byte(prev)), 1, []byte("W")), 2, []byte(out)), 4, []byte("Conv"))
		g = bs(g, 1, bs(node, 5, pads))
		prev = out
	}
	g = bs(g, 1, bs(bs(bs(nil, 1, []byte(prev)), 2, []byte("y")), 4, []byte("GlobalAveragePool")))
	var w []byte
	for _, d := range []int{c, c, 3, 3} {
		w = vi(w, 1, uint64(d))
	}
	w = bs(bs(vi(w, 2, 1), 8, []byte("W")), 9, make([]byte, 4*c*c*9))
	g = bs(g, 5, w)
	vinfo := func(name string, dims ...int) []byte {
		var shape []byte
		for _, d := range dims {
			shape = bs(shape, 1, vi(nil, 1, uint64(d)))
		}
		return bs(bs(nil, 1, []byte(name)), 2, bs(nil, 1, bs(vi(nil, 1, 1), 2, shape)))
	}
	g = bs(g, 11, vinfo("x", 1, c, 8, 8))
	g = bs(g, 12, vinfo("y", 1, c, 1, 1))
	return bs(bs(vi(nil, 1, 7), 7, g), 8, vi(nil, 2, 13))
}

// sharedWeightPIR is x[N,c,2,2] -> n conv2d 1x1 c->c all reading the one
// parameter w, as a PIR program and its blob.
func sharedWeightPIR(c, n int) (prog, blob []byte) {
	var ops []string
	ops = append(ops, fmt.Sprintf(`{"#":"p","A":[0,1,1,"w"],"O":{"%%":1,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[%d,%d,1,1],"NCHW",[],0]}},"OA":[1,0,1]}`, c, c))
	ops = append(ops, fmt.Sprintf(`{"#":"1.data","A":[{"N":"name","AT":{"#":"0.a_str","D":"x"}},{"N":"shape","AT":{"#":"1.a_intarray","D":[-1,%d,2,2]}}],"I":[],"O":[{"%%":2,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[-1,%d,2,2],"NCHW",[],0]}}]}`, c, c))
	prev := 2
	for i := range n {
		ops = append(ops, fmt.Sprintf(`{"#":"1.conv2d","A":[],"I":[{"%%":%d},{"%%":1}],"O":[{"%%":%d}]}`, prev, 100+i))
		prev = 100 + i
	}
	ops = append(ops, fmt.Sprintf(`{"#":"1.fetch","A":[{"N":"name","AT":{"#":"0.a_str","D":"y"}}],"I":[{"%%":%d}],"O":[{"%%":99999}]}`, prev))
	prog = []byte(`{"base_code":{"magic":"pir","version":1},"program":{"regions":[{"blocks":[{"ops":[` + strings.Join(ops, ",") + `]}]}]}}`)
	desc := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)
	for _, d := range []int{c, c, 1, 1} {
		desc = protowire.AppendVarint(protowire.AppendTag(desc, 2, protowire.VarintType), uint64(d))
	}
	blob = binary.LittleEndian.AppendUint32(nil, 0)
	blob = binary.LittleEndian.AppendUint64(blob, 0)
	blob = binary.LittleEndian.AppendUint32(blob, 0)
	blob = binary.LittleEndian.AppendUint32(blob, uint32(len(desc)))
	blob = append(blob, desc...)
	return prog, append(blob, make([]byte, 4*c*c)...)
}

// TestHostilePicklesAreLive proves the exec_* payloads are real: plain
// Python (no numpy needed for most) runs them and the sentinel appears.
// lcnet refusing them (TestHostileCorpus) therefore means something.
func TestHostilePicklesAreLive(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns python3")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	if exec.Command(py, "-c", "import pickle, os, subprocess").Run() != nil {
		t.Skip("python3 cannot import pickle")
	}
	hasNumpy := exec.Command(py, "-c", "import numpy").Run() == nil
	live := 0
	for _, p := range corpusFiles(t, "pdparams") {
		if !strings.HasPrefix(filepath.Base(p), "exec_") {
			continue
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("numpy")) && !hasNumpy {
			continue
		}
		sentinel := filepath.Join(t.TempDir(), "touched")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, py, "-c", "import pickle, sys\ntry:\n    pickle.load(open(sys.argv[1], 'rb'))\nexcept Exception as e:\n    print(type(e).__name__, e)\n", p)
		cmd.Env = append(os.Environ(), sentinelEnv+"="+sentinel)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("%s: python3: %v\n%s", p, err, out)
			continue
		}
		// Popen'd children may still be running: wait a little.
		found := false
		for range 100 {
			if _, err := os.Stat(sentinel); err == nil {
				found = true
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !found {
			t.Errorf("%s: Python unpickled it without touching the sentinel: the payload is dead\n%s", p, out)
		}
		live++
	}
	t.Logf("%d pickle payloads verified live under python3 (numpy available: %v)", live, hasNumpy)
}

// TestCorpusUpToDate regenerates the corpus into a temporary directory and
// compares: the committed files are exactly what gen.go makes.
func TestCorpusUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and runs the generator")
	}
	goTool, err := goCommand()
	if err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	cmd := exec.Command(goTool, "run", "./testdata/hostile/gen.go", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, b)
	}
	want := map[string][]byte{}
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			want[rel], _ = os.ReadFile(p)
		}
		return nil
	})
	have := map[string]bool{}
	var total int64
	filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, p)
		if rel == "gen.go" {
			return nil
		}
		have[rel] = true
		b, _ := os.ReadFile(p)
		total += int64(len(b))
		if w, ok := want[rel]; !ok {
			t.Errorf("%s: not made by gen.go (stale file?)", rel)
		} else if !bytes.Equal(b, w) {
			t.Errorf("%s: differs from what gen.go makes: run go run ./testdata/hostile/gen.go", rel)
		}
		return nil
	})
	for rel := range want {
		if !have[rel] {
			t.Errorf("%s: made by gen.go but not committed", rel)
		}
	}
	if total >= 2_000_000 {
		t.Errorf("corpus is %d bytes, over the 2 MB budget", total)
	}
}

// goCommand finds the go tool that built this test.
func goCommand() (string, error) {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p, nil
	}
	return exec.LookPath("go")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// --- The CLI: bad input gives a message and exit status 1 or 2, never a
// Go stack trace.

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
	cliDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

// buildCLI builds cmd/lcnet once per test binary.
func buildCLI(t *testing.T) string {
	cliOnce.Do(func() {
		goTool, err := goCommand()
		if err != nil {
			cliErr = err
			return
		}
		if cliDir, err = os.MkdirTemp("", "lcnet-cli-"); err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(cliDir, "lcnet")
		args := []string{"build", "-o", cliPath}
		if !dnnAvailable() {
			args = append(args, "-tags", "purego")
		}
		b, err := exec.Command(goTool, append(args, "./cmd/lcnet")...).CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build ./cmd/lcnet: %v\n%s", err, b)
		}
	})
	if cliErr != nil {
		t.Skip(cliErr)
	}
	return cliPath
}

func dnnAvailable() bool { return DNNLISA() != "" }

func TestCLIHostile(t *testing.T) {
	bin := buildCLI(t)
	input := filepath.Join(corpusDir, "ok", "tiny.npy")
	okModel := filepath.Join(corpusDir, "ok", "pir")
	type run struct {
		args    []string
		mayPass bool
	}
	var runs []run
	every := 1
	if testing.Short() || raceEnabled {
		every = 7
	}
	k := 0
	for _, dir := range []string{"pir", "pdmodel", "onnx", "pdparams", "safetensors", "sniff"} {
		for _, p := range corpusFiles(t, dir) {
			if strings.HasSuffix(p, ".pdiparams") && dir != "sniff" {
				continue
			}
			if k++; k%every != 0 {
				continue
			}
			runs = append(runs, run{[]string{"infer", "--model", p, "--input", input}, mayLoad(p)})
			runs = append(runs, run{[]string{"info", "--model", p}, mayLoad(p)})
		}
	}
	for _, p := range corpusFiles(t, "npy") {
		runs = append(runs, run{[]string{"infer", "--model", okModel, "--input", p}, mayLoad(p)})
	}
	// classify walks the image folder (some images decode, most do not:
	// exit 1, every failure reported) and takes images one by one.
	runs = append(runs, run{[]string{"classify", "--model", okModel, filepath.Join(corpusDir, "images")}, false})
	for i, p := range corpusFiles(t, "images") {
		if _, known := knownBugs[p]; i%every == 0 {
			runs = append(runs, run{[]string{"classify", "--model", okModel, p}, mayLoad(p) || known})
		}
	}
	runs = append(runs,
		run{[]string{"infer", "--model", filepath.Join(corpusDir, "nowhere"), "--input", input}, false},
		run{[]string{"infer", "--model", okModel, "--input", filepath.Join(corpusDir, "nowhere.npy")}, false},
		run{[]string{"infer", "--model", okModel}, false},
		run{[]string{"infer", "--bogus-flag"}, false},
		run{[]string{"no-such-command"}, false},
		run{[]string{"infer", "--model", "pplcnet_x9_9", "--input", input}, false},
	)
	noSentinel := withSentinel(t)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, r := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, r.args...)
			cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Stdout = new(bytes.Buffer)
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			msg := stderr.String()
			var fail string
			switch {
			case ctx.Err() != nil:
				fail = "timed out"
			case strings.Contains(msg, "goroutine ") || strings.Contains(msg, "panic:") || strings.Contains(msg, "SIGSEGV"):
				fail = "Go stack trace or panic on stderr"
			case code == 0 && !r.mayPass:
				fail = "exit status 0 for bad input"
			case code != 0 && code != 1 && code != 2:
				fail = fmt.Sprintf("exit status %d (%v)", code, err)
			case code != 0 && strings.TrimSpace(msg) == "":
				fail = "no message"
			}
			if fail != "" {
				mu.Lock()
				t.Errorf("lcnet %s: %s\n%s", strings.Join(r.args, " "), fail, msg)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	noSentinel("CLI runs")
	t.Logf("%d CLI runs", len(runs))
}

// --- Panics inside a model never cross the API.

// panicProgram wraps a segment's program: its instances panic on run.
type panicProgram struct{ program }

func (p panicProgram) newInstance() (instance, error) {
	i, err := p.program.newInstance()
	return panicInstance{i}, err
}

type panicInstance struct{ instance }

func (panicInstance) run(context.Context, []float32, int, []float32) error {
	var s []float32
	_ = s[7] // an index out of range, as a kernel bug would make
	return nil
}

// TestRecoveredPanicNamesNodes breaks a model the only way the public API
// cannot (kernels copy their weights at compile time, and Validate checks
// every tensor, so no graph built through the API makes a kernel panic):
// by replacing its last segment's instances with ones that panic. Run
// must return ErrInternal naming the segment's nodes, keep working for
// the next caller (the slot is refilled, waiters are not stranded), and
// Close must free everything.
func TestRecoveredPanicNamesNodes(t *testing.T) {
	for _, be := range testBackends() {
		t.Run(string(be), func(t *testing.T) {
			c := pplcnet.Default(0.25)
			c.InputH, c.InputW, c.Classes = 32, 32, 10
			m, err := Build(c, 1, &Options{Backend: be, MaxInstances: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			segs := m.plan.segs
			last := segs[len(segs)-1]
			good := last.prog
			last.prog = panicProgram{good}
			in := make([]float32, graph.Numel(m.InputShape()))
			_, err = m.Run(in, 1)
			if !errors.Is(err, ErrInternal) {
				t.Fatalf("got %v, want ErrInternal", err)
			}
			first := m.opt.Nodes[last.nodes[0]].Name
			lastName := m.opt.Nodes[last.nodes[len(last.nodes)-1]].Name
			for _, want := range []string{first, lastName, "index out of range", last.backend + " segment"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			t.Logf("recovered: %v", err)
			// Callers waiting for the only instance while it panics must
			// get a fresh one, not wait forever.
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					errs <- m.RunContext(ctx, in, 1, make([]float32, graph.Numel(m.OutputShape())))
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, ErrInternal) {
					t.Errorf("concurrent caller: %v, want ErrInternal", err)
				}
			}
			last.prog = good
			if _, err := m.Run(in, 1); err != nil {
				t.Fatalf("after the bug is gone: %v", err)
			}
			m.cmu.Lock()
			n := len(m.all)
			m.cmu.Unlock()
			if n != 1 {
				t.Errorf("%d runners kept, want 1 (dropped ones must be forgotten)", n)
			}
		})
	}
}

func testBackends() []Backend {
	bs := []Backend{Go}
	if dnnAvailable() {
		bs = append(bs, DNNL)
	}
	return bs
}

// TestPlannerFallsBackForWhatDNNLRejects: a hardsigmoid of slope 0 is a
// valid graph (a constant) that the Go backend runs but oneDNN's validator
// refuses; the planner must then place the node on Go, not fail the load.
func TestPlannerFallsBackForWhatDNNLRejects(t *testing.T) {
	if !dnnAvailable() {
		t.Skip("built without oneDNN")
	}
	g := graph.New("hs0", "x", 3, 4, 4)
	v, err := g.Add("conv", &graph.Conv2D{InC: 3, OutC: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Groups: 1,
		Weight: graph.NewTensor(4, 3, 1, 1), Act: graph.HardSigmoid(0, 0.5)}, g.Input)
	if err != nil {
		t.Fatal(err)
	}
	_ = v
	for _, be := range []Backend{Go, Auto, DNNL} {
		m, err := New(g, &Options{Backend: be})
		if err != nil {
			t.Fatalf("backend %s: %v", be, err)
		}
		ls := m.Layers()
		if be != Go && (ls[0].Backend != "go" || ls[0].Why == "") {
			t.Errorf("backend %s: conv placed on %q (why %q), want go with a reason", be, ls[0].Backend, ls[0].Why)
		}
		if _, err := m.Run(make([]float32, 3*4*4), 1); err != nil {
			t.Errorf("backend %s: %v", be, err)
		}
		m.Close()
	}
}

// TestMaxBytes: a file over OpenOptions.MaxBytes is refused before it is
// read, with an error matching ErrTooLarge, for every format; the
// parameter file beside a program counts too.
func TestMaxBytes(t *testing.T) {
	base := filepath.Join(corpusDir, "ok")
	for _, p := range []string{"tiny.onnx", "tiny_p4.pdparams", "pir/inference.json", "pdmodel/inference.pdmodel", "pir"} {
		path := filepath.Join(base, p)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		_, err := Load(path, &OpenOptions{MaxBytes: 100})
		runtime.ReadMemStats(&m1)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limit") {
			t.Errorf("%s with MaxBytes 100: %v, want ErrTooLarge", p, err)
		}
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 1<<20 {
			t.Errorf("%s: refusing allocated %d bytes", p, a)
		}
	}
	// The real model loads under a limit equal to its largest file, and
	// not one byte below; with the program inside the limit and the
	// parameters beside it over, it is the parameters that are refused.
	blob := filepath.Join(realModel, "paddle", "inference.pdiparams")
	if st, err := os.Stat(blob); err == nil {
		dir := filepath.Dir(blob)
		m, err := Load(dir, &OpenOptions{MaxBytes: st.Size()})
		if err != nil {
			t.Errorf("real model at its own size: %v", err)
		} else {
			m.Close()
		}
		_, err = Load(dir, &OpenOptions{MaxBytes: st.Size() - 1})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "inference.pdiparams") {
			t.Errorf("real model one byte over: %v", err)
		}
		t.Logf("message: %v", err)
		_, err = Load(filepath.Join(dir, "inference.json"), &OpenOptions{MaxBytes: 200 << 10})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "inference.pdiparams") {
			t.Errorf("parameters over the limit: %v", err)
		}
	}
	prog := filepath.Join(base, "pir", "inference.json")
	// inference.yml has a limit of its own.
	dir := copyTo(t, map[string]string{"inference.json": prog, "inference.pdiparams": filepath.Join(base, "pir", "inference.pdiparams")})
	if err := os.WriteFile(filepath.Join(dir, "inference.yml"), bytes.Repeat([]byte("#\n"), maxConfigBytes/2+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a %d MB inference.yml: %v", maxConfigBytes>>20, err)
	}
}

// FuzzLoad writes the fuzzer's bytes as a model file (beside the tiny
// model's valid parameters, so that program formats get past their first
// step) and loads it: every importer, chosen by content, then the weight
// bound and the planner. A panic recovered by Load (ErrInternal) is a
// failure; a model that loads must run.
func FuzzLoad(f *testing.F) {
	base := filepath.Join(corpusDir, "ok")
	for _, p := range []string{"pir/inference.json", "pdmodel/inference.pdmodel", "tiny.onnx", "tiny_p4.pdparams", "tiny_p2.pdparams", "tiny.safetensors"} {
		if b, err := os.ReadFile(filepath.Join(base, p)); err == nil {
			f.Add(b)
		}
	}
	for _, p := range []string{"pdparams/exec_os_system_p2.pdparams", "safetensors/mut_valid_not_a_model.safetensors", "pir/deep_attr.json"} {
		if b, err := os.ReadFile(filepath.Join(corpusDir, p)); err == nil {
			f.Add(b)
		}
	}
	params, err := os.ReadFile(filepath.Join(base, "pir", "inference.pdiparams"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "model")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "inference.pdiparams"), params, 0o644); err != nil {
			t.Fatal(err)
		}
		o := guard(func() error {
			m, err := Load(path, &OpenOptions{Options: Options{Backend: Go}, MaxBytes: 1 << 20})
			if err != nil {
				return err
			}
			defer m.Close()
			if n := graph.Numel(m.InputShape()); n <= 1<<16 {
				if _, err := m.Run(make([]float32, n), 1); err != nil {
					return fmt.Errorf("loads but does not run: %w", err)
				}
			}
			return nil
		})
		switch {
		case o.timedOut:
			t.Fatalf("no result after %v", perFileTimeout())
		case o.panicked != nil:
			t.Fatalf("panic: %v\n%s", o.panicked, o.stack)
		case errors.Is(o.err, ErrInternal):
			t.Fatal(o.err)
		case o.err != nil && strings.Contains(o.err.Error(), "loads but does not run"):
			t.Fatal(o.err)
		case o.err != nil && !cleanError(o.err):
			t.Fatalf("unclean error %q", o.err)
		}
	})
}

// FuzzInferenceYML parses the fuzzer's bytes as a model's inference.yml
// (untrusted: it comes with the model) and, when it parses, preprocesses
// an image with it.
func FuzzInferenceYML(f *testing.F) {
	for _, p := range append(corpusFiles(f, "yml"), filepath.Join(corpusDir, "ok", "pir_yml", "inference.yml")) {
		if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	img := preprocess.NewImage(17, 11)
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := preprocess.ParseConfig(data)
		if err != nil {
			return
		}
		c.InputSize()
		c.Channels()
		if oh, ow, err := c.OutputSize(img.W, img.H); err != nil || oh*ow > 1<<20 {
			return
		}
		if _, err := c.Preprocess(img); err != nil && !cleanError(err) {
			t.Fatalf("unclean error %q", err)
		}
	})
}

// TestValueSizeLimit: a network whose declared shapes need an activation
// of hundreds of gigabytes (a padding of 65535 around an 8x8 input) is
// refused by New with ErrTooLarge on every backend. Before the limit the
// Go backend accepted it and its first Run died with "fatal error:
// runtime: out of memory", which no recover can catch.
func TestValueSizeLimit(t *testing.T) {
	g := graph.New("pad", "x", 3, 8, 8)
	v, err := g.Add("conv", &graph.Conv2D{InC: 3, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadT: 65535, PadL: 65535, PadB: 65535, PadR: 65535, Groups: 1, Weight: graph.NewTensor(4, 3, 3, 3)}, g.Input)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Add("pool", &graph.GlobalAvgPool{}, v); err != nil {
		t.Fatal(err)
	}
	for _, be := range append(testBackends(), Auto) {
		m, err := New(g, &Options{Backend: be})
		if err == nil {
			m.Close()
			t.Fatalf("%s: a %v activation was accepted", be, g.Values[v].Shape)
		}
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", be, err)
		}
	}
	// Shapes whose element count overflows int64 are refused too.
	g2 := graph.New("overflow", "x", 3, 8, 8)
	if _, err := g2.Add("conv", &graph.Conv2D{InC: 3, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadT: 1 << 30, PadL: 1 << 30, PadB: 1 << 30, PadR: 1 << 30, Groups: 1, Weight: graph.NewTensor(4, 3, 3, 3)}, g2.Input); err == nil {
		if _, err := New(g2, &Options{Backend: Go}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("2^31 x 2^31 activation: %v, want ErrTooLarge", err)
		}
	}
}
