package paddle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

// pickler writes the pickles paddle.save makes: a dict of numpy float32
// arrays (and the StructuredToParameterName@@ dict), protocol 2 (GLOBAL,
// BINPUT, bytes as _codecs.encode of latin-1 text) or 4 (STACK_GLOBAL,
// MEMOIZE, FRAME, BINBYTES).
type pickler struct {
	proto int
	b     bytes.Buffer
	memo  int
}

func (p *pickler) op(b ...byte) { p.b.Write(b) }

func (p *pickler) u32(v uint32) { _ = binary.Write(&p.b, binary.LittleEndian, v) }

func (p *pickler) put() {
	if p.proto >= 4 {
		p.op(opMemoize)
	} else if p.memo < 256 {
		p.op(opBinPut, byte(p.memo))
	} else {
		p.op(opLongBinPut)
		p.u32(uint32(p.memo))
	}
	p.memo++
}

func (p *pickler) str(s string) {
	if p.proto >= 4 && len(s) < 256 {
		p.op(opShortBinUni, byte(len(s)))
	} else {
		p.op(opBinUnicode)
		p.u32(uint32(len(s)))
	}
	p.b.WriteString(s)
	p.put()
}

func (p *pickler) global(mod, name string) {
	if p.proto >= 4 {
		p.str(mod)
		p.str(name)
		p.op(opStackGlobal)
	} else {
		p.op(opGlobal)
		p.b.WriteString(mod + "\n" + name + "\n")
	}
	p.put()
}

func (p *pickler) int(v int) {
	switch {
	case v >= 0 && v < 256:
		p.op(opBinInt1, byte(v))
	case v >= 0 && v < 65536:
		p.op(opBinInt2, byte(v), byte(v>>8))
	default:
		p.op(opBinInt)
		p.u32(uint32(int32(v)))
	}
}

func (p *pickler) bytes(b []byte) {
	if p.proto >= 3 {
		if len(b) < 256 {
			p.op(opShortBinBytes, byte(len(b)))
		} else {
			p.op(opBinBytes)
			p.u32(uint32(len(b)))
		}
		p.b.Write(b)
		p.put()
		return
	}
	// Protocol 2: _codecs.encode(latin-1 text, "latin1").
	p.global("_codecs", "encode")
	var s strings.Builder
	for _, c := range b {
		s.WriteRune(rune(c))
	}
	p.str(s.String())
	p.str("latin1")
	p.op(opTuple2)
	p.put()
	p.op(opReduce)
	p.put()
}

// array writes numpy's ndarray.__reduce_ex__ for a float32 C-order array.
func (p *pickler) array(shape []int, data []float32) {
	p.global("numpy.core.multiarray", "_reconstruct")
	p.global("numpy", "ndarray")
	p.int(0)
	p.op(opTuple1)
	p.put()
	p.bytes([]byte("b"))
	p.op(opTuple3)
	p.put()
	p.op(opReduce)
	p.put()
	p.op(opMark)
	p.int(1)
	p.op(opMark)
	for _, d := range shape {
		p.int(d)
	}
	p.op(opTuple)
	p.put()
	p.global("numpy", "dtype")
	p.str("f4")
	p.op(opNewFalse, opNewTrue, opTuple3)
	p.put()
	p.op(opReduce)
	p.put()
	p.op(opMark)
	p.int(3)
	p.str("<")
	p.op(opNone, opNone, opNone)
	p.int(-1)
	p.int(-1)
	p.int(0)
	p.op(opTuple)
	p.put()
	p.op(opBuild)
	p.op(opNewFalse)
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	p.bytes(raw)
	p.op(opTuple)
	p.put()
	p.op(opBuild)
}

// pickleStateDict writes sd (keys in sorted order) as paddle.save would,
// with fc.weight given in Paddle's [in, out] layout by the caller.
func pickleStateDict(sd map[string]*graph.Tensor, proto int, prefix string) []byte {
	p := &pickler{proto: proto}
	p.op(opProto, byte(proto))
	p.op(opEmptyDict)
	p.put()
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p.op(opMark)
	for _, k := range keys {
		p.str(prefix + k)
		p.array(sd[k].Shape, sd[k].Data)
	}
	p.str(structuredKey)
	p.op(opEmptyDict)
	p.put()
	p.op(opMark)
	for i, k := range keys {
		p.str(prefix + k)
		p.str("param_" + string(rune('a'+i%26)))
	}
	p.op(opSetItems)
	p.op(opSetItems)
	p.op(opStop)
	return p.b.Bytes()
}

// paddleStateDict is g's state dict as PaddleClas saves it (fc.weight
// [in, out]).
func paddleStateDict(g *graph.Graph) map[string]*graph.Tensor {
	sd := g.StateDict()
	if w, ok := sd["fc.weight"]; ok {
		out, in := w.Shape[0], w.Shape[1]
		t := graph.NewTensor(in, out)
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				t.Data[i*out+o] = w.Data[o*in+i]
			}
		}
		sd["fc.weight"] = t
	}
	return sd
}

func TestPdparamsRoundTrip(t *testing.T) {
	x1 := pplcnet.Default(1.0)
	x1.Classes = 100
	noLast := pplcnet.Default(0.5)
	noLast.UseLastConv, noLast.Classes, noLast.InputH, noLast.InputW = false, 10, 96, 96
	odd := pplcnet.Default(0.6) // not a paper scale
	odd.Classes, odd.InputH, odd.InputW = 5, 64, 64
	odd.Kernels[0], odd.SE[3] = 5, true
	cases := []struct {
		name string
		cfg  pplcnet.Config
		opt  Options
	}{
		{"x0_25", pplcnet.Default(0.25), Options{}},
		{"textline", pplcnet.TextLine(0.25), Options{TextLine: true}},
		{"x1_0_c100", x1, Options{}},
		{"x0_5_nolast_96", noLast, Options{InputH: 96, InputW: 96}},
		{"x0_6_kernels_se", odd, Options{InputH: 64, InputW: 64}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := buildConfig(t, c.cfg)
			type variant struct {
				proto  int
				prefix string
			}
			variants := []variant{{4, ""}}
			if c.name == "x0_25" || c.name == "textline" {
				variants = append(variants, variant{2, ""}, variant{4, "backbone."})
			}
			for _, v := range variants {
				b := pickleStateDict(paddleStateDict(g), v.proto, v.prefix)
				if Sniff(b) != FormatPdparams {
					t.Fatalf("Sniff = %v", Sniff(b))
				}
				got, err := ReadPdparams(bytes.NewReader(b), c.opt)
				if err != nil {
					t.Fatalf("protocol %d prefix %q: %v", v.proto, v.prefix, err)
				}
				sameGraph(t, g, got)
			}
		})
	}
}

// TestPdparamsOtherFixtures writes the reference weights of the fixtures
// that come without a .pdparams as pickles and checks the outputs.
func TestPdparamsOtherFixtures(t *testing.T) {
	for _, c := range []struct {
		npz string
		opt Options
	}{
		{"x0_5_nolastconv_96.npz", Options{InputH: 96, InputW: 96}},
		{"x1_0_224_c100.npz", Options{}},
	} {
		t.Run(c.npz, func(t *testing.T) {
			ref := readNPZ(t, filepath.Join(refDir, c.npz))
			sd := map[string]*graph.Tensor{}
			for k, a := range ref {
				if !strings.HasPrefix(k, "input_") && !strings.HasPrefix(k, "output_") && !strings.HasPrefix(k, "logits_") {
					sd[k] = &graph.Tensor{Shape: a.Shape, Data: a.Data}
				}
			}
			g, err := ReadPdparams(bytes.NewReader(pickleStateDict(sd, 4, "")), c.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkOutputs(t, g, ref)
		})
	}
}

func hostilePickle(f func(p *pickler)) []byte {
	p := &pickler{proto: 4}
	p.op(opProto, 4)
	f(p)
	return p.b.Bytes()
}

func TestPickleHostile(t *testing.T) {
	valid := pickleStateDict(map[string]*graph.Tensor{"a": {Shape: []int{2}, Data: []float32{1, 2}}}, 4, "")
	valid2 := pickleStateDict(map[string]*graph.Tensor{"a": {Shape: []int{2}, Data: []float32{1, 2}}}, 2, "")
	if v, err := unpickle(valid); err != nil || v.(*pyDict).m["a"].(*pyArray).shape[0] != 2 {
		t.Fatalf("valid pickle: %v", err)
	}
	cases := []struct {
		name string
		data []byte
		want error
		text string
	}{
		{"GLOBAL os.system", []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03."), ErrForbidden, "os.system"},
		{"STACK_GLOBAL builtins.eval", hostilePickle(func(p *pickler) {
			p.global("builtins", "eval")
			p.str("1+1")
			p.op(opTuple1, opReduce, opStop)
		}), ErrForbidden, "builtins.eval"},
		{"posix.system first", hostilePickle(func(p *pickler) { p.global("posix", "system"); p.op(opStop) }), ErrForbidden, "posix.system"},
		{"subprocess inside a dict", hostilePickle(func(p *pickler) {
			p.op(opEmptyDict, opMark)
			p.str("k")
			p.global("subprocess", "Popen")
			p.op(opSetItems, opStop)
		}), ErrForbidden, "subprocess.Popen"},
		{"huge memo get", hostilePickle(func(p *pickler) { p.op(opLongBinGet, 0xff, 0xff, 0xff, 0xff, opStop) }), ErrFormat, "never stored"},
		{"huge memo put on empty stack", hostilePickle(func(p *pickler) { p.op(opLongBinPut, 0xff, 0xff, 0xff, 0xff, opStop) }), ErrFormat, "underflow"},
		{"array shape beyond its data", hostilePickle(func(p *pickler) {
			p.global("numpy.core.multiarray", "_reconstruct")
			p.global("numpy", "ndarray")
			p.int(0)
			p.op(opTuple1)
			p.bytes([]byte("b"))
			p.op(opTuple3, opReduce, opMark)
			p.int(1)
			p.op(opMark)
			p.int(1 << 30)
			p.int(1 << 30)
			p.op(opTuple)
			p.global("numpy", "dtype")
			p.str("f4")
			p.op(opNewFalse, opNewTrue, opTuple3, opReduce, opNewFalse)
			p.bytes(make([]byte, 16))
			p.op(opTuple, opBuild, opStop)
		}), ErrFormat, "needs more than"},
		{"float64 array", hostilePickle(func(p *pickler) {
			p.op(opEmptyDict)
			p.str("w")
			p.global("numpy.core.multiarray", "_reconstruct")
			p.global("numpy", "ndarray")
			p.int(0)
			p.op(opTuple1)
			p.bytes([]byte("b"))
			p.op(opTuple3, opReduce, opMark)
			p.int(1)
			p.int(2)
			p.op(opTuple1)
			p.global("numpy", "dtype")
			p.str("f8")
			p.op(opNewFalse, opNewTrue, opTuple3, opReduce, opNewFalse)
			p.bytes(make([]byte, 16))
			p.op(opTuple, opBuild, opSetItem, opStop)
		}), ErrUnsupported, "float32"},
		{"no STOP", valid[:len(valid)-1], ErrFormat, "no STOP"},
		{"protocol 0", []byte("(dp0\n."), ErrUnsupported, "opcode"},
		{"deep marks", hostilePickle(func(p *pickler) { p.b.Write(bytes.Repeat([]byte{opMark}, 5000)) }), ErrTooLarge, "marks"},
		{"stack overflow", hostilePickle(func(p *pickler) { p.b.Write(bytes.Repeat([]byte{opNone}, maxPickleStack+1)) }), ErrTooLarge, "stack"},
		{"huge bytes length", hostilePickle(func(p *pickler) {
			p.op(opBinBytes8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
		}), ErrFormat, "truncated"},
		{"not a dict", hostilePickle(func(p *pickler) { p.op(opEmptyList, opStop) }), ErrFormat, "not a state dict"},
		{"reduce a string", hostilePickle(func(p *pickler) { p.str("x"); p.op(opEmptyTuple, opReduce, opStop) }), ErrFormat, "REDUCE"},
		{"codecs other encoding", hostilePickle(func(p *pickler) {
			p.global("_codecs", "encode")
			p.str("x")
			p.str("rot13")
			p.op(opTuple2, opReduce, opStop)
		}), ErrUnsupported, "latin1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadPdparams(bytes.NewReader(c.data), Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || !strings.HasPrefix(err.Error(), "paddle: ") {
				t.Fatalf("error %q, want %v mentioning %q", err, c.want, c.text)
			}
		})
	}
	// Every truncation of valid pickles fails cleanly.
	for _, v := range [][]byte{valid, valid2} {
		for n := 0; n < len(v)-1; n++ {
			if _, err := unpickle(v[:n]); err == nil {
				t.Fatalf("truncated at %d of %d: accepted", n, len(v))
			}
		}
	}
}
