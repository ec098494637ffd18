package paddle

import (
	"fmt"
	"math"
)

// attrKind is the kind of a decoded op attribute.
type attrKind uint8

const (
	aBool attrKind = iota + 1
	aInt
	aFloat
	aString
	aList
)

func (k attrKind) String() string {
	switch k {
	case aBool:
		return "bool"
	case aInt:
		return "int"
	case aFloat:
		return "float"
	case aString:
		return "string"
	case aList:
		return "list"
	}
	return "none"
}

// attr is an op attribute of either program format.
type attr struct {
	kind attrKind
	b    bool
	i    int64
	f    float64
	s    string
	list []attr
}

// clone is a with its own list (and theirs).
func (a attr) clone() attr {
	if a.list != nil {
		l := make([]attr, len(a.list))
		for i, e := range a.list {
			l[i] = e.clone()
		}
		a.list = l
	}
	return a
}

// attrs are an op's attributes by name.
type attrs map[string]attr

func (a attrs) get(name string, want attrKind) (attr, bool, error) {
	v, ok := a[name]
	if !ok {
		return attr{}, false, nil
	}
	if v.kind != want && !(want == aFloat && v.kind == aInt) {
		return attr{}, false, fmt.Errorf("%w: attribute %q is a %s, want a %s", ErrFormat, name, v.kind, want)
	}
	return v, true, nil
}

// Int returns an int attribute, or def when absent.
func (a attrs) Int(name string, def int64) (int64, error) {
	v, ok, err := a.get(name, aInt)
	if err != nil || !ok {
		return def, err
	}
	return v.i, nil
}

// Float returns a float attribute (an int is accepted), or def when absent.
func (a attrs) Float(name string, def float64) (float64, error) {
	v, ok, err := a.get(name, aFloat)
	if err != nil || !ok {
		return def, err
	}
	if v.kind == aInt {
		return float64(v.i), nil
	}
	if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
		return 0, fmt.Errorf("%w: attribute %q is %g", ErrFormat, name, v.f)
	}
	return v.f, nil
}

// Bool returns a bool attribute, or def when absent.
func (a attrs) Bool(name string, def bool) (bool, error) {
	v, ok, err := a.get(name, aBool)
	if err != nil || !ok {
		return def, err
	}
	return v.b, nil
}

// String returns a string attribute, or def when absent.
func (a attrs) String(name, def string) (string, error) {
	v, ok, err := a.get(name, aString)
	if err != nil || !ok {
		return def, err
	}
	return v.s, nil
}

// Ints returns a list-of-ints attribute; ok is false when absent.
func (a attrs) Ints(name string) ([]int64, bool, error) {
	v, ok, err := a.get(name, aList)
	if err != nil || !ok {
		return nil, false, err
	}
	out := make([]int64, len(v.list))
	for i, e := range v.list {
		if e.kind != aInt {
			return nil, false, fmt.Errorf("%w: attribute %q holds a %s, want ints", ErrFormat, name, e.kind)
		}
		out[i] = e.i
	}
	return out, true, nil
}
