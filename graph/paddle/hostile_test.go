package paddle

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
)

// tinyFiles returns the tiny graph's PIR program, ProgramDesc and
// .pdiparams blob.
func tinyFiles(t testing.TB) (pir, prog, params []byte) {
	m := mustExport(t, tinyGraph(t), exportOpts{})
	return m.pir(exportOpts{}), m.program(exportOpts{}), m.pdiparams(false)
}

func wantErr(t *testing.T, err error, target error, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want an error mentioning %q", text)
	}
	if (target != nil && !errors.Is(err, target)) || !strings.Contains(err.Error(), text) || !strings.HasPrefix(err.Error(), "paddle: ") {
		t.Fatalf("error %q, want %v mentioning %q", err, target, text)
	}
}

func TestTruncated(t *testing.T) {
	pir, prog, params := tinyFiles(t)
	for n := 0; n < len(pir); n += 7 {
		if _, err := ReadPIR(bytes.NewReader(pir[:n]), bytes.NewReader(params), Options{}); err == nil {
			t.Fatalf("PIR truncated at %d accepted", n)
		}
	}
	for n := 0; n < len(prog)-4; n += 3 { // the last 4 bytes are the optional version
		// A protobuf cut at a field boundary can still parse; it must then
		// fail on meaning (no fetch, unknown value), never panic.
		if _, err := ReadProgram(bytes.NewReader(prog[:n]), bytes.NewReader(params), Options{}); err == nil {
			t.Fatalf("ProgramDesc truncated at %d accepted", n)
		}
	}
	for n := 0; n < len(params); n += 3 {
		if _, err := ReadPIR(bytes.NewReader(pir), bytes.NewReader(params[:n]), Options{}); err == nil {
			t.Fatalf(".pdiparams truncated at %d accepted", n)
		}
	}
}

func TestWrongMagic(t *testing.T) {
	pir, prog, params := tinyFiles(t)
	bad := bytes.Replace(pir, []byte(`"magic":"pir"`), []byte(`"magic":"pit"`), 1)
	_, err := ReadPIR(bytes.NewReader(bad), bytes.NewReader(params), Options{})
	wantErr(t, err, ErrFormat, "magic")
	_, err = ReadPIR(bytes.NewReader(prog), bytes.NewReader(params), Options{})
	wantErr(t, err, ErrFormat, "JSON")
	_, err = ReadProgram(bytes.NewReader(pir), bytes.NewReader(params), Options{})
	wantErr(t, err, ErrFormat, "ProgramDesc")
}

func TestDeepJSON(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	_, err := ReadPIR(strings.NewReader(`{"base_code":{"magic":"pir"},"x":`+deep+`}`), bytes.NewReader(nil), Options{})
	wantErr(t, err, ErrFormat, "nested")
}

func TestProgramTooLarge(t *testing.T) {
	_, err := ReadPIR(bytes.NewReader(make([]byte, 100)), bytes.NewReader(nil), Options{MaxBytes: 10})
	wantErr(t, err, ErrTooLarge, "limit")
	pir, _, _ := tinyFiles(t)
	dir := t.TempDir()
	j, p := filepath.Join(dir, "inference.json"), filepath.Join(dir, "big.pdiparams")
	if err := os.WriteFile(j, pir, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, len(pir)+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadPIR(j, p, Options{MaxBytes: int64(len(pir))})
	wantErr(t, err, ErrTooLarge, "over the")
}

// pirOpsEdit decodes the tiny PIR program, lets f change its ops and
// encodes it again.
func pirEdit(t *testing.T, pir []byte, f func(ops []any) []any) []byte {
	t.Helper()
	var doc map[string]any
	if err := jsonUnmarshal(pir, &doc); err != nil {
		t.Fatal(err)
	}
	blk := doc["program"].(map[string]any)["regions"].([]any)[0].(map[string]any)["blocks"].([]any)[0].(map[string]any)
	blk["ops"] = f(blk["ops"].([]any))
	return jsonMarshal(t, doc)
}

func findOp(ops []any, id string) map[string]any {
	for _, o := range ops {
		if m := o.(map[string]any); m["#"] == id {
			return m
		}
	}
	return nil
}

func TestPIRBadOps(t *testing.T) {
	pir, _, params := tinyFiles(t)
	run := func(f func(ops []any) []any) error {
		_, err := ReadPIR(bytes.NewReader(pirEdit(t, pir, f)), bytes.NewReader(params), Options{})
		return err
	}
	// An unknown op is named with its position.
	err := run(func(ops []any) []any {
		findOp(ops, "1.relu")["#"] = "1.gelu"
		return ops
	})
	wantErr(t, err, ErrUnsupported, `"gelu"`)
	if !strings.Contains(err.Error(), "(1.gelu)") || !strings.Contains(err.Error(), "op ") {
		t.Fatalf("error %q does not give the op position", err)
	}
	// An unknown attribute type.
	err = run(func(ops []any) []any {
		a := findOp(ops, "1.softmax")["A"].([]any)[0].(map[string]any)
		a["AT"].(map[string]any)["#"] = "0.a_complex"
		return ops
	})
	wantErr(t, err, ErrUnsupported, "0.a_complex")
	// A residual add of two computed tensors.
	err = run(func(ops []any) []any {
		mul := findOp(ops, "1.multiply")
		mul["#"] = "1.add"
		return ops
	})
	wantErr(t, err, ErrUnsupported, "residual")
	// A value used before it is defined.
	err = run(func(ops []any) []any {
		findOp(ops, "1.softmax")["I"] = []any{map[string]any{"%": 99999}}
		return ops
	})
	wantErr(t, err, ErrFormat, "before it is defined")
	// A declared shape that disagrees with the computed one.
	err = run(func(ops []any) []any {
		o := findOp(ops, "1.hardswish")["O"].([]any)[0].(map[string]any)
		o["TT"].(map[string]any)["D"].([]any)[1] = []any{-1, 4, 4, 9}
		return ops
	})
	wantErr(t, err, ErrFormat, "declared")
	// Attribute of the wrong kind.
	err = run(func(ops []any) []any {
		for _, a := range findOp(ops, "1.hardsigmoid")["A"].([]any) {
			if m := a.(map[string]any); m["N"] == "slope" {
				m["AT"] = map[string]any{"#": "0.a_str", "D": "x"}
			}
		}
		return ops
	})
	wantErr(t, err, ErrFormat, `"slope"`)
	// Two fetches.
	err = run(func(ops []any) []any {
		return append(ops, findOp(ops, "1.fetch"))
	})
	wantErr(t, err, ErrUnsupported, "second output")
}

func TestProgramUnknownOp(t *testing.T) {
	_, prog, params := tinyFiles(t)
	bad := bytes.Replace(prog, []byte("\x1a\x07softmax"), []byte("\x1a\x07softmix"), 1)
	if bytes.Equal(bad, prog) {
		t.Fatal("no softmax op type found")
	}
	_, err := ReadProgram(bytes.NewReader(bad), bytes.NewReader(params), Options{})
	wantErr(t, err, ErrUnsupported, `"softmix"`)
}

// record makes one .pdiparams record with a raw descriptor.
func record(desc []byte, data []byte) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
	b = append(b, desc...)
	return append(b, data...)
}

func TestPdiparamsHostile(t *testing.T) {
	specs := []paramSpec{{name: "b", dims: []int64{2}}, {name: "a", dims: []int64{1, 2}}}
	first := record(tensorDesc(dtFP32, []int{1, 2}, false), make([]byte, 8))
	good := append(append([]byte(nil), first...), record(tensorDesc(dtFP32, []int{2}, true), make([]byte, 8))...)
	if m, err := readPdiparams(good, specs); err != nil || len(m) != 2 || !graph.SameShape(m["a"].Shape, []int{1, 2}) {
		t.Fatalf("good blob: %v", err)
	}
	huge := tensorDesc(dtFP32, []int{1 << 20, 1 << 20, 1 << 20}, false)
	cases := []struct {
		name   string
		data   []byte
		specs  []paramSpec
		target error
		text   string
	}{
		{"fewer records", first, specs, ErrFormat, "ends after 1 records"},
		{"more records", append(append([]byte(nil), good...), good[:30]...), specs, ErrFormat, "more records than parameters"},
		{"shape disagrees", good, []paramSpec{{name: "a", dims: []int64{2, 1}}, {name: "b", dims: []int64{2}}}, ErrFormat, "declares"},
		{"FP16", record(tensorDesc(4, []int{2}, false), make([]byte, 4)), []paramSpec{{name: "a", dims: []int64{2}}}, ErrUnsupported, "FP16"},
		{"huge dims, tiny file", record(huge, make([]byte, 8)), []paramSpec{{name: "a", dims: []int64{-1, -1, -1}}}, ErrFormat, "more than the 8 bytes left"},
		{"negative dim", record(tensorDesc(dtFP32, []int{-2}, false), nil), []paramSpec{{name: "a", dims: []int64{-1}}}, ErrFormat, "negative"},
		{"lod level", append(binary.LittleEndian.AppendUint32(nil, 0), binary.LittleEndian.AppendUint64(nil, 1<<40)...), []paramSpec{{name: "a"}}, ErrFormat, "lod level"},
		{"lod bytes", append(append(binary.LittleEndian.AppendUint32(nil, 0), binary.LittleEndian.AppendUint64(nil, 1)...), binary.LittleEndian.AppendUint64(nil, 1<<50)...), []paramSpec{{name: "a"}}, ErrFormat, "lod level 0 has"},
		{"desc size", append(make([]byte, 16), 0xff, 0xff, 0xff, 0x7f), []paramSpec{{name: "a"}}, ErrFormat, "descriptor size"},
		{"version", append([]byte{1, 0, 0, 0}, good[4:]...), specs, ErrFormat, "version 1"},
		{"bad descriptor", record([]byte{0x08}, nil), []paramSpec{{name: "a"}}, ErrFormat, "descriptor"},
		{"duplicate names", good, []paramSpec{{name: "a", dims: []int64{1, 2}}, {name: "a", dims: []int64{2}}}, ErrFormat, "twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readPdiparams(c.data, c.specs)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("error %q, want %v mentioning %q", err, c.target, c.text)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Fatalf("allocated %d bytes before refusing", grew)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	pir, prog, params := tinyFiles(t)
	pickle := pickleStateDict(map[string]*graph.Tensor{"a": {Shape: []int{1}, Data: []float32{1}}}, 4, "")
	for _, c := range []struct {
		head []byte
		want Format
	}{
		{pir, FormatPIR}, {append([]byte("\xef\xbb\xbf \n"), pir...), FormatPIR}, {prog, FormatProgram},
		{params, FormatPdiparams}, {pickle, FormatPdparams}, {nil, FormatUnknown}, {[]byte("PK\x03\x04"), FormatUnknown},
		{[]byte("\x08\x07\x12\x00"), FormatUnknown},
	} {
		head := c.head
		if len(head) > 64 {
			head = head[:64]
		}
		if got := Sniff(head); got != c.want {
			t.Errorf("Sniff(%q) = %v, want %v", head, got, c.want)
		}
	}
}

func TestLoadDir(t *testing.T) {
	g, err := LoadDir(realDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "PPLCNet" || !graph.SameShape(g.OutputShape(), []int{2}) {
		t.Fatalf("real dir: %s %v", g.Name, g.OutputShape())
	}
	// A Paddle 2 directory.
	_, prog, params := tinyFiles(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "inference.pdmodel"), prog, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inference.pdiparams"), params, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	// Content decides: a pickle named inference.json is refused.
	if err := os.WriteFile(filepath.Join(dir, "inference.json"), []byte("\x80\x04."), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadDir(dir, Options{})
	wantErr(t, err, ErrFormat, "neither")
	_, err = LoadDir(t.TempDir(), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty dir: %v", err)
	}
}

func jsonUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func jsonMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParamsFile: a .pdiparams file is read as the import goes
// (withParams); truncated at any point, or with bytes after the last
// record, it is an ErrFormat error, and whole it gives the same graph as
// the in-memory path.
func TestParamsFile(t *testing.T) {
	pir, prog, params := tinyFiles(t)
	dir := t.TempDir()
	j, pm, pp := filepath.Join(dir, "inference.json"), filepath.Join(dir, "inference.pdmodel"), filepath.Join(dir, "inference.pdiparams")
	if err := os.WriteFile(j, pir, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pm, prog, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(pp, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(params)
	want, err := ReadPIR(bytes.NewReader(pir), bytes.NewReader(params), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func() (*graph.Graph, error){
		"pir":     func() (*graph.Graph, error) { return LoadPIR(j, pp, Options{}) },
		"program": func() (*graph.Graph, error) { return LoadProgram(pm, pp, Options{}) },
	} {
		t.Run(name, func(t *testing.T) {
			write(params)
			got, err := load()
			if err != nil {
				t.Fatal(err)
			}
			sameGraph(t, want, got)
			for n := 0; n < len(params); n += 5 {
				write(params[:n])
				if _, err := load(); !errors.Is(err, ErrFormat) {
					t.Fatalf("params cut at %d of %d: %v, want ErrFormat", n, len(params), err)
				}
			}
			write(append(append([]byte(nil), params...), 0, 0, 0, 0))
			_, err = load()
			wantErr(t, err, ErrFormat, "after the last")
		})
	}
	// A file that shrinks after its size was taken: the reader ends early.
	for _, n := range []int{3, 20, len(params) - 1} {
		_, err := readParams(bytes.NewReader(params[:n]), int64(len(params)), tinySpecs(t))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "ended early") {
			t.Fatalf("input ending at %d of %d bytes: %v, want ErrFormat (ended early)", n, len(params), err)
		}
	}
}

// tinySpecs are the parameter declarations of tinyGraph's export.
func tinySpecs(t testing.TB) []paramSpec {
	m := mustExport(t, tinyGraph(t), exportOpts{})
	var specs []paramSpec
	for _, p := range m.params {
		dims := make([]int64, len(p.t.Shape))
		for i, d := range p.t.Shape {
			dims[i] = int64(d)
		}
		specs = append(specs, paramSpec{name: p.name, ref: p.name, dims: dims})
	}
	return specs
}
