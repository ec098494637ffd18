//go:build cgo && !purego

package dnn

/*
#include <stdlib.h>
#include "lcn.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Choices returns the kernel choices this process has made by timing
// (which implementation or fused kernel a layer shape gets), to be kept
// across processes with PutChoices: a plan whose layers all have a
// remembered choice compiles without timing anything. The process keeps the
// latest 2048 (a new choice then replaces the oldest).
func Choices() []Choice {
	var n C.int
	if C.lcn_choices_count(&n) != C.LCN_OK {
		return nil
	}
	var key [128]C.char
	var name [64]C.char
	out := make([]Choice, 0, int(n))
	for i := 0; i < int(n); i++ {
		var ch C.int
		var a, b C.float
		if C.lcn_choice_at(C.int(i), &key[0], C.size_t(len(key)), &ch, &a, &b, &name[0], C.size_t(len(name))) != C.LCN_OK {
			break
		}
		out = append(out, Choice{Key: C.GoString(&key[0]), Choice: int(ch), A: float32(a), B: float32(b), Name: C.GoString(&name[0])})
	}
	return out
}

// PutChoices adds remembered choices (e.g. read back from a file written
// from Choices). A choice only selects among kernels that support the
// layer, so a stale or foreign entry costs speed, never correctness.
func PutChoices(cs []Choice) error {
	for _, c := range cs {
		if err := c.valid(); err != nil {
			return err
		}
		key, name := C.CString(c.Key), C.CString(c.Name)
		rc := C.lcn_choice_put(key, C.int(c.Choice), C.float(c.A), C.float(c.B), name)
		C.free(unsafe.Pointer(key))
		C.free(unsafe.Pointer(name))
		if rc != C.LCN_OK {
			return fmt.Errorf("dnn: choice %q refused", c.Key)
		}
	}
	return nil
}

// ResetChoices forgets every remembered choice: the next plans time their
// kernels again (tests; or after moving a process to other hardware).
func ResetChoices() { C.lcn_choices_reset() }

func (c Choice) valid() error {
	if c.Key == "" || len(c.Key) >= 128 || len(c.Name) >= 64 ||
		strings.ContainsAny(c.Key, "\x00\t\n") || strings.ContainsAny(c.Name, "\x00\t\n") {
		return fmt.Errorf("dnn: invalid choice %q / %q", c.Key, c.Name)
	}
	return nil
}
