package paddle

import (
	"encoding/json"
	"testing"
)

// TestPIRMemo: a remembered type or attribute comes back equal to a fresh
// parse and as a copy of its own (changing one op's list or dims leaves
// the next op's untouched); a bad one is an error every time.
func TestPIRMemo(t *testing.T) {
	m := newPIRMemo()
	typ := json.RawMessage(`{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[-1,16,112,112],"NCHW",[],0]}`)
	a1, err := m.parseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	a1.dims[1] = 99
	for i := 2; i <= 3; i++ { // the miss's copy, then a hit's
		a, err := m.parseType(typ)
		if err != nil || a.dtype != "float32" || len(a.dims) != 4 || a.dims[1] != 16 {
			t.Fatalf("parse %d: %+v, %v; want float32 [-1 16 112 112]", i, a, err)
		}
		a.dims[1] = 99
	}
	at := json.RawMessage(`{"N":"strides","AT":{"#":"0.a_array","D":[{"#":"0.a_i32","D":2},{"#":"0.a_i32","D":2}]}}`)
	n1, v1, err := m.attr(at)
	if err != nil || n1 != "strides" || len(v1.list) != 2 {
		t.Fatalf("attr %q %+v, %v", n1, v1, err)
	}
	v1.list[0].i = 7
	for i := 2; i <= 3; i++ {
		_, v, err := m.attr(at)
		if err != nil || v.list[0].i != 2 || v.list[1].i != 2 {
			t.Fatalf("attr %d: %+v, %v; want [2 2]", i, v, err)
		}
		v.list[0].i = 7
	}
	bad := json.RawMessage(`{"N":"x","AT":{"#":"0.a_i32","D":"two"}}`)
	for range 2 {
		if _, _, err := m.attr(bad); err == nil {
			t.Fatal("a string for an i32 accepted")
		}
	}
}
