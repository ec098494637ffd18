package paddle

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/lcnet-go/lcnet/internal/le"
	"github.com/lcnet-go/lcnet/internal/prefault"
)

// A whitelist pickle machine: it understands the opcodes paddle.save
// writes (protocols 2 to 5) and builds plain Go values. It never imports or
// calls anything: the only globals it accepts are the handful needed to
// rebuild numpy arrays and dicts, which it implements itself; any other
// global is refused with ErrForbidden when its opcode is reached.

// Limits of the pickle machine.
const (
	maxPickleStack = 1 << 20
	maxPickleMarks = 1 << 10
	maxPickleMemo  = 1 << 20
	maxGlobalLine  = 256
	// pickleBytesPerMemo bounds the memo by the input: a pickler stores
	// each object once, and the smallest memoised object costs its own
	// opcode plus MEMOIZE (or BINPUT), so a pickle of n bytes has at most
	// n/2 memo entries. Anything more re-stores one object over and over
	// to make the memo (16 bytes or more per entry) outgrow the input.
	pickleBytesPerMemo = 2
	// pickleSlack is added to the input-relative limits so that tiny
	// pickles are not held to a fraction of an entry.
	pickleSlack = 64
	// pickleDecodeFactor bounds the bytes the machine materialises
	// (latin-1 text turned into bytes, which a memo reference can repeat)
	// to this multiple of the input, plus pickleSlack.
	pickleDecodeFactor = 2
)

// Pickle opcodes the machine understands.
const (
	opMark          = '('
	opStop          = '.'
	opPop           = '0'
	opPopMark       = '1'
	opDup           = '2'
	opBinFloat      = 'G'
	opBinInt        = 'J'
	opBinInt1       = 'K'
	opBinInt2       = 'M'
	opNone          = 'N'
	opBinUnicode    = 'X'
	opAppend        = 'a'
	opBuild         = 'b'
	opGlobal        = 'c'
	opDict          = 'd'
	opAppends       = 'e'
	opBinGet        = 'h'
	opLongBinGet    = 'j'
	opList          = 'l'
	opBinPut        = 'q'
	opLongBinPut    = 'r'
	opSetItem       = 's'
	opTuple         = 't'
	opSetItems      = 'u'
	opEmptyDict     = '}'
	opEmptyList     = ']'
	opEmptyTuple    = ')'
	opReduce        = 'R'
	opBinBytes      = 'B'
	opShortBinBytes = 'C'
	opProto         = 0x80
	opTuple1        = 0x85
	opTuple2        = 0x86
	opTuple3        = 0x87
	opNewTrue       = 0x88
	opNewFalse      = 0x89
	opLong1         = 0x8a
	opShortBinUni   = 0x8c
	opBinUnicode8   = 0x8d
	opBinBytes8     = 0x8e
	opMemoize       = 0x94
	opFrame         = 0x95
	opStackGlobal   = 0x93
)

// Python values the machine builds.
type (
	pyNone   struct{}
	pyMark   struct{}
	pyTuple  []any
	pyList   struct{ items []any }
	pyGlobal struct{ module, name string }
	// pyDict keeps string keys in insertion order.
	pyDict struct {
		keys []string
		m    map[string]any
	}
	// pyDtype is a numpy dtype such as '<f4'.
	pyDtype struct {
		kind  string // "f4", "f8", "i8", ...
		order byte   // '<', '>', '|' or '='
	}
	// pyArray is a numpy ndarray rebuilt by _reconstruct + BUILD.
	pyArray struct {
		shape   []int
		dtype   *pyDtype
		fortran bool
		data    []byte
		built   bool
	}
)

func newDict() *pyDict { return &pyDict{m: map[string]any{}} }

func (d *pyDict) set(k any, v any) error {
	s, ok := k.(string)
	if !ok {
		return fmt.Errorf("%w: pickle: a dict key of type %s", ErrUnsupported, pyType(k))
	}
	if _, dup := d.m[s]; !dup {
		d.keys = append(d.keys, s)
	}
	d.m[s] = v
	return nil
}

// The accepted globals.
const (
	gReconstruct = "reconstruct"
	gNdarray     = "ndarray"
	gDtype       = "dtype"
	gOrderedDict = "ordereddict"
	gScalar      = "scalar"
	gEncode      = "encode"
)

var pickleWhitelist = map[[2]string]string{
	{"numpy.core.multiarray", "_reconstruct"}:  gReconstruct,
	{"numpy._core.multiarray", "_reconstruct"}: gReconstruct,
	{"numpy", "ndarray"}:                       gNdarray,
	{"numpy", "dtype"}:                         gDtype,
	{"collections", "OrderedDict"}:             gOrderedDict,
	{"numpy.core.multiarray", "scalar"}:        gScalar,
	{"numpy._core.multiarray", "scalar"}:       gScalar,
	// Protocol 2 pickles bytes as _codecs.encode(latin-1 text, "latin1").
	{"_codecs", "encode"}: gEncode,
}

func pyType(v any) string {
	switch v.(type) {
	case pyNone:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case *pyArray:
		return "numpy.ndarray"
	case *pyDtype:
		return "numpy.dtype"
	case pyGlobal:
		return "global"
	case pyMark:
		return "mark"
	}
	return fmt.Sprintf("%T", v)
}

type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int
	// The memo: indices written in order (MEMOIZE always, BINPUT from
	// every real pickler) live in memo; others in sparse. memoN counts
	// the entries of both, bounded by memoMax.
	memo    []*[memoChunk]any
	memoLen int // indices below memoLen are in memo
	sparse  map[uint32]any
	memoN   int
	memoMax int
	// budget is what the machine may still materialise beyond the input
	// itself (see pickleDecodeFactor).
	budget int64
}

func pickleErr(format string, args ...any) error {
	return fmt.Errorf("%w: pickle: "+format, append([]any{ErrFormat}, args...)...)
}

func (u *unpickler) need(n uint64, what string) ([]byte, error) {
	if n > uint64(len(u.data)-u.pos) {
		return nil, pickleErr("truncated %s at offset %d: need %d bytes, %d left", what, u.pos, n, len(u.data)-u.pos)
	}
	b := u.data[u.pos : u.pos+int(n)]
	u.pos += int(n)
	return b, nil
}

func (u *unpickler) push(v any) error {
	if len(u.stack) >= maxPickleStack {
		return fmt.Errorf("%w: pickle stack over %d entries", ErrTooLarge, maxPickleStack)
	}
	u.stack = append(u.stack, v)
	return nil
}

func (u *unpickler) pop() (any, error) {
	base := 0
	if len(u.marks) > 0 {
		base = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= base {
		return nil, pickleErr("stack underflow at offset %d", u.pos)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	base := 0
	if len(u.marks) > 0 {
		base = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= base {
		return nil, pickleErr("stack underflow at offset %d", u.pos)
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark returns the items above the last mark and removes them and it.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, pickleErr("no mark at offset %d", u.pos)
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

// memoChunk is the size of the memo's blocks: the memo grows a block at a
// time, so that it never copies itself as a growing slice would.
const memoChunk = 1024

func (u *unpickler) memoPut(idx uint32) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	if slot := u.memoSlot(idx); slot != nil && *slot != nil {
		*slot = v // overwriting an entry adds none
		return nil
	}
	if u.sparse[idx] != nil {
		u.sparse[idx] = v
		return nil
	}
	if u.memoN >= u.memoMax {
		return fmt.Errorf("%w: pickle memo over %d entries for %d bytes of pickle (at most one per %d bytes, and never over %d)",
			ErrTooLarge, u.memoMax, len(u.data), pickleBytesPerMemo, maxPickleMemo)
	}
	u.memoN++
	if uint64(idx) == uint64(u.memoLen) { // the next index: the usual case
		if u.memoLen%memoChunk == 0 {
			u.memo = append(u.memo, new([memoChunk]any))
		}
		u.memoLen++
	}
	if slot := u.memoSlot(idx); slot != nil {
		*slot = v
		return nil
	}
	if u.sparse == nil {
		u.sparse = map[uint32]any{}
	}
	u.sparse[idx] = v
	return nil
}

// memoSlot returns the dense memo's slot idx, or nil beyond it.
func (u *unpickler) memoSlot(idx uint32) *any {
	if uint64(idx) >= uint64(u.memoLen) {
		return nil
	}
	return &u.memo[idx/memoChunk][idx%memoChunk]
}

func (u *unpickler) memoGet(idx uint32) error {
	var v any
	if slot := u.memoSlot(idx); slot != nil {
		v = *slot
	} else {
		v = u.sparse[idx]
	}
	if v == nil {
		return pickleErr("memo index %d at offset %d was never stored", idx, u.pos)
	}
	return u.push(v)
}

// charge counts n bytes the machine is about to materialise against its
// budget, a multiple of the input's size.
func (u *unpickler) charge(n int) error {
	u.budget -= int64(n)
	if u.budget < 0 {
		return fmt.Errorf("%w: pickle materialises more than %d times its %d bytes (the same data decoded over and over)",
			ErrTooLarge, pickleDecodeFactor, len(u.data))
	}
	return nil
}

// unpickle runs the machine over data and returns the pickled value.
func unpickle(data []byte) (any, error) {
	u := &unpickler{data: data,
		memoMax: min(maxPickleMemo, len(data)/pickleBytesPerMemo+pickleSlack),
		budget:  pickleDecodeFactor*int64(len(data)) + pickleSlack}
	for {
		if u.pos >= len(u.data) {
			return nil, pickleErr("truncated: no STOP opcode")
		}
		at := u.pos
		op := u.data[u.pos]
		u.pos++
		done, err := u.step(op)
		if err != nil {
			return nil, err
		}
		if done {
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if _, isMark := v.(pyMark); isMark {
				return nil, pickleErr("STOP on a mark at offset %d", at)
			}
			return v, nil
		}
	}
}

func (u *unpickler) str(n uint64) error {
	b, err := u.need(n, "string")
	if err != nil {
		return err
	}
	if !utf8.Valid(b) {
		return pickleErr("invalid UTF-8 string at offset %d", u.pos-len(b))
	}
	return u.push(string(b))
}

func (u *unpickler) uint(n int, what string) (uint64, error) {
	b, err := u.need(uint64(n), what)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) step(op byte) (stop bool, err error) {
	switch op {
	case opProto:
		v, err := u.uint(1, "protocol")
		if err != nil {
			return false, err
		}
		if v < 2 || v > 5 {
			return false, fmt.Errorf("%w: pickle protocol %d (2 to 5 are read)", ErrUnsupported, v)
		}
	case opFrame:
		n, err := u.uint(8, "frame length")
		if err != nil {
			return false, err
		}
		if n > uint64(len(u.data)-u.pos) {
			return false, pickleErr("frame of %d bytes with %d left", n, len(u.data)-u.pos)
		}
	case opStop:
		return true, nil
	case opMark:
		if len(u.marks) >= maxPickleMarks {
			return false, fmt.Errorf("%w: pickle nested over %d marks", ErrTooLarge, maxPickleMarks)
		}
		u.marks = append(u.marks, len(u.stack))
	case opPop:
		_, err = u.pop()
	case opPopMark:
		_, err = u.popMark()
	case opDup:
		var v any
		if v, err = u.top(); err == nil {
			err = u.push(v)
		}
	case opNone:
		err = u.push(pyNone{})
	case opNewTrue:
		err = u.push(true)
	case opNewFalse:
		err = u.push(false)
	case opBinInt:
		var v uint64
		if v, err = u.uint(4, "int"); err == nil {
			err = u.push(int64(int32(uint32(v))))
		}
	case opBinInt1:
		var v uint64
		if v, err = u.uint(1, "int"); err == nil {
			err = u.push(int64(v))
		}
	case opBinInt2:
		var v uint64
		if v, err = u.uint(2, "int"); err == nil {
			err = u.push(int64(v))
		}
	case opLong1:
		var n uint64
		if n, err = u.uint(1, "long length"); err != nil {
			return false, err
		}
		if n > 8 {
			return false, fmt.Errorf("%w: pickle: an integer of %d bytes", ErrUnsupported, n)
		}
		var v uint64
		if v, err = u.uint(int(n), "long"); err != nil {
			return false, err
		}
		if n > 0 && n < 8 && v&(1<<(8*n-1)) != 0 { // sign-extend
			v |= ^uint64(0) << (8 * n)
		}
		err = u.push(int64(v))
	case opBinFloat:
		var b []byte
		if b, err = u.need(8, "float"); err == nil {
			err = u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		}
	case opShortBinUni:
		var n uint64
		if n, err = u.uint(1, "string length"); err == nil {
			err = u.str(n)
		}
	case opBinUnicode:
		var n uint64
		if n, err = u.uint(4, "string length"); err == nil {
			err = u.str(n)
		}
	case opBinUnicode8:
		var n uint64
		if n, err = u.uint(8, "string length"); err == nil {
			err = u.str(n)
		}
	case opShortBinBytes, opBinBytes, opBinBytes8:
		size := 1
		switch op {
		case opBinBytes:
			size = 4
		case opBinBytes8:
			size = 8
		}
		var n uint64
		if n, err = u.uint(size, "bytes length"); err != nil {
			return false, err
		}
		var b []byte
		if b, err = u.need(n, "bytes"); err == nil {
			err = u.push(b)
		}
	case opEmptyDict:
		err = u.push(newDict())
	case opEmptyList:
		err = u.push(&pyList{})
	case opEmptyTuple:
		err = u.push(pyTuple{})
	case opTuple1, opTuple2, opTuple3:
		n := int(op - opTuple1 + 1)
		t := make(pyTuple, n)
		for i := n - 1; i >= 0; i-- {
			if t[i], err = u.pop(); err != nil {
				return false, err
			}
		}
		err = u.push(t)
	case opTuple:
		var items []any
		if items, err = u.popMark(); err == nil {
			err = u.push(pyTuple(items))
		}
	case opList:
		var items []any
		if items, err = u.popMark(); err == nil {
			err = u.push(&pyList{items: items})
		}
	case opDict:
		var items []any
		if items, err = u.popMark(); err != nil {
			return false, err
		}
		d := newDict()
		if err = setItems(d, items); err == nil {
			err = u.push(d)
		}
	case opAppend:
		var v, l any
		if v, err = u.pop(); err != nil {
			return false, err
		}
		if l, err = u.top(); err != nil {
			return false, err
		}
		pl, ok := l.(*pyList)
		if !ok {
			return false, pickleErr("APPEND to a %s", pyType(l))
		}
		pl.items = append(pl.items, v)
	case opAppends:
		var items []any
		if items, err = u.popMark(); err != nil {
			return false, err
		}
		var l any
		if l, err = u.top(); err != nil {
			return false, err
		}
		pl, ok := l.(*pyList)
		if !ok {
			return false, pickleErr("APPENDS to a %s", pyType(l))
		}
		pl.items = append(pl.items, items...)
	case opSetItem:
		var k, v, d any
		if v, err = u.pop(); err != nil {
			return false, err
		}
		if k, err = u.pop(); err != nil {
			return false, err
		}
		if d, err = u.top(); err != nil {
			return false, err
		}
		pd, ok := d.(*pyDict)
		if !ok {
			return false, pickleErr("SETITEM on a %s", pyType(d))
		}
		err = pd.set(k, v)
	case opSetItems:
		var items []any
		if items, err = u.popMark(); err != nil {
			return false, err
		}
		var d any
		if d, err = u.top(); err != nil {
			return false, err
		}
		pd, ok := d.(*pyDict)
		if !ok {
			return false, pickleErr("SETITEMS on a %s", pyType(d))
		}
		err = setItems(pd, items)
	case opMemoize:
		// MEMOIZE stores at the memo's size, as Python does.
		err = u.memoPut(uint32(u.memoN))
	case opBinPut, opLongBinPut, opBinGet, opLongBinGet:
		size := 1
		if op == opLongBinPut || op == opLongBinGet {
			size = 4
		}
		var idx uint64
		if idx, err = u.uint(size, "memo index"); err != nil {
			return false, err
		}
		if op == opBinPut || op == opLongBinPut {
			err = u.memoPut(uint32(idx))
		} else {
			err = u.memoGet(uint32(idx))
		}
	case opGlobal:
		var mod, name string
		if mod, err = u.line(); err != nil {
			return false, err
		}
		if name, err = u.line(); err != nil {
			return false, err
		}
		err = u.global(mod, name)
	case opStackGlobal:
		var n, m any
		if n, err = u.pop(); err != nil {
			return false, err
		}
		if m, err = u.pop(); err != nil {
			return false, err
		}
		mod, ok1 := m.(string)
		name, ok2 := n.(string)
		if !ok1 || !ok2 {
			return false, pickleErr("STACK_GLOBAL on a %s and a %s", pyType(m), pyType(n))
		}
		err = u.global(mod, name)
	case opReduce:
		var args, fn any
		if args, err = u.pop(); err != nil {
			return false, err
		}
		if fn, err = u.pop(); err != nil {
			return false, err
		}
		var v any
		if v, err = u.reduce(fn, args); err == nil {
			err = u.push(v)
		}
	case opBuild:
		var state, obj any
		if state, err = u.pop(); err != nil {
			return false, err
		}
		if obj, err = u.top(); err != nil {
			return false, err
		}
		err = u.build(obj, state)
	default:
		return false, fmt.Errorf("%w: pickle opcode 0x%02x at offset %d", ErrUnsupported, op, u.pos-1)
	}
	return false, err
}

func setItems(d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return pickleErr("SETITEMS with an odd number of items")
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// line reads a GLOBAL operand: text up to a newline.
func (u *unpickler) line() (string, error) {
	for i := u.pos; i < len(u.data) && i-u.pos <= maxGlobalLine; i++ {
		if u.data[i] == '\n' {
			s := string(u.data[u.pos:i])
			u.pos = i + 1
			return s, nil
		}
	}
	return "", pickleErr("GLOBAL operand without a newline at offset %d", u.pos)
}

// global pushes a whitelisted global or refuses the pickle.
func (u *unpickler) global(mod, name string) error {
	g, ok := pickleWhitelist[[2]string{mod, name}]
	if !ok {
		return fmt.Errorf("%w: %s.%s (only numpy array and dict reconstruction is allowed; nothing is executed)", ErrForbidden, mod, name)
	}
	return u.push(pyGlobal{module: mod, name: g})
}

// reduce applies a whitelisted global to its arguments, by reimplementing
// it; nothing is called.
func (u *unpickler) reduce(fn, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, pickleErr("REDUCE on a %s", pyType(fn))
	}
	a, ok := args.(pyTuple)
	if !ok {
		return nil, pickleErr("REDUCE with %s arguments", pyType(args))
	}
	switch g.name {
	case gReconstruct: // _reconstruct(ndarray, (0,), b'b'): an empty array
		if len(a) != 3 {
			return nil, pickleErr("_reconstruct with %d arguments", len(a))
		}
		if c, ok := a[0].(pyGlobal); !ok || c.name != gNdarray {
			return nil, fmt.Errorf("%w: pickle: _reconstruct of a %s (only numpy.ndarray)", ErrUnsupported, pyType(a[0]))
		}
		return &pyArray{}, nil
	case gDtype: // dtype('f4', False, True)
		if len(a) < 1 {
			return nil, pickleErr("dtype without arguments")
		}
		s, ok := a[0].(string)
		if !ok || len(s) > 16 {
			return nil, pickleErr("dtype of a %s", pyType(a[0]))
		}
		order := byte('=')
		if len(s) > 0 && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=') {
			order, s = s[0], s[1:]
		}
		return &pyDtype{kind: s, order: order}, nil
	case gOrderedDict:
		if len(a) != 0 {
			return nil, fmt.Errorf("%w: pickle: OrderedDict with arguments", ErrUnsupported)
		}
		return newDict(), nil
	case gEncode: // _codecs.encode(text, "latin1")
		if len(a) != 2 {
			return nil, pickleErr("_codecs.encode with %d arguments", len(a))
		}
		s, ok1 := a[0].(string)
		enc, ok2 := a[1].(string)
		if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
			return nil, fmt.Errorf("%w: pickle: _codecs.encode(%s, %v) (only latin1 text)", ErrUnsupported, pyType(a[0]), a[1])
		}
		// A memoised text can be encoded again and again for a few
		// bytes each time: count what is materialised.
		if err := u.charge(len(s)); err != nil {
			return nil, err
		}
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, pickleErr("latin1 text with the character %U", r)
			}
			b = append(b, byte(r))
		}
		return b, nil
	case gScalar: // scalar(dtype, raw bytes)
		if len(a) != 2 {
			return nil, pickleErr("scalar with %d arguments", len(a))
		}
		dt, ok1 := a[0].(*pyDtype)
		raw, ok2 := a[1].([]byte)
		if !ok1 || !ok2 {
			return nil, pickleErr("scalar of a %s and a %s", pyType(a[0]), pyType(a[1]))
		}
		f, err := decodeFloats(dt, raw, 1)
		if err != nil {
			return nil, err
		}
		return float64(f[0]), nil
	}
	return nil, fmt.Errorf("%w: pickle: calling %s", ErrUnsupported, g.name)
}

// build applies BUILD's state to an array or a dtype.
func (u *unpickler) build(obj, state any) error {
	st, ok := state.(pyTuple)
	switch o := obj.(type) {
	case *pyDtype: // (3, '<', None, None, None, -1, -1, 0)
		if !ok || len(st) < 2 {
			return pickleErr("dtype state of a %s", pyType(state))
		}
		if s, ok := st[1].(string); ok && len(s) == 1 {
			o.order = s[0]
		}
		return nil
	case *pyArray: // (version, shape, dtype, is_fortran, raw data)
		if !ok || len(st) != 5 {
			return pickleErr("ndarray state of a %s", pyType(state))
		}
		if o.built {
			return pickleErr("ndarray built twice")
		}
		shape, ok := st[1].(pyTuple)
		if !ok || len(shape) > maxRank {
			return pickleErr("ndarray shape of a %s", pyType(st[1]))
		}
		dt, ok := st[2].(*pyDtype)
		if !ok {
			return pickleErr("ndarray dtype of a %s", pyType(st[2]))
		}
		fortran, _ := st[3].(bool)
		var data []byte
		switch d := st[4].(type) {
		case []byte:
			data = d
		case string: // protocol 0/1 style: latin-1 text
			v, err := u.reduce(pyGlobal{name: gEncode}, pyTuple{d, "latin1"})
			if err != nil {
				return err
			}
			data = v.([]byte)
		default:
			return fmt.Errorf("%w: pickle: ndarray data of a %s (object arrays are not read)", ErrUnsupported, pyType(st[4]))
		}
		size := itemSize(dt.kind)
		if size == 0 {
			return fmt.Errorf("%w: pickle: numpy dtype %q", ErrUnsupported, dt.kind)
		}
		o.shape = make([]int, len(shape))
		zero := false
		for i, d := range shape {
			n, ok := d.(int64)
			if !ok || n < 0 || n > math.MaxInt32 {
				return pickleErr("ndarray dimension %v", d)
			}
			o.shape[i] = int(n)
			zero = zero || n == 0
		}
		numel := uint64(0)
		if !zero {
			numel = 1
			for _, n := range o.shape {
				numel *= uint64(n)
				if numel > uint64(len(data)) {
					return pickleErr("ndarray shape %v needs more than the %d data bytes present", o.shape, len(data))
				}
			}
		}
		if numel*uint64(size) != uint64(len(data)) {
			return pickleErr("ndarray of shape %v and dtype %s has %d data bytes, want %d", o.shape, dt.kind, len(data), numel*uint64(size))
		}
		o.dtype, o.fortran, o.data, o.built = dt, fortran, data, true
		return nil
	}
	return fmt.Errorf("%w: pickle: BUILD on a %s", ErrUnsupported, pyType(obj))
}

// itemSize is the byte size of a numpy dtype kind, or 0 if unknown.
func itemSize(kind string) int {
	switch kind {
	case "f2", "i2", "u2":
		return 2
	case "f4", "i4", "u4":
		return 4
	case "f8", "i8", "u8":
		return 8
	case "b1", "i1", "u1", "?":
		return 1
	}
	return 0
}

// decodeFloats converts n float32 values of dtype dt from raw.
func decodeFloats(dt *pyDtype, raw []byte, n int) ([]float32, error) {
	if dt.kind != "f4" {
		return nil, fmt.Errorf("%w: numpy dtype %s (only float32)", ErrUnsupported, dt.kind)
	}
	if len(raw) != 4*n {
		return nil, pickleErr("%d bytes for %d float32 values", len(raw), n)
	}
	out := prefault.Slice(make([]float32, n))
	if dt.order != '>' {
		le.Float32s(out, raw)
		return out, nil
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.BigEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}
