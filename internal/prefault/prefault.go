// Package prefault maps in the pages of a freshly allocated large buffer
// with one system call, before the code that fills it touches them one
// page at a time.
//
// Loading a model writes tens of megabytes of new memory (the tensors as
// read, the folded weights, the kernels' packed copies). Each first write
// to a 4 KiB page is a page fault; on some virtual machines a fault costs
// 10 µs or more (measured on a 2-vCPU AMD EPYC VM: 11.5 µs per page, 180 ms
// for 64 MB touched page by page), while madvise(MADV_POPULATE_WRITE) maps
// the same 12 MB in ~2 ms. On Linux 5.14 and later Slice asks for that; on
// older kernels and other systems it does nothing and the pages fault in as
// before. The contents are not changed. LCNET_NO_PREFAULT=1 turns it off
// (for measuring; the C side reads the same variable).
package prefault

import (
	"os"
	"unsafe"
)

// off is LCNET_NO_PREFAULT, read once.
var off = func() bool { v := os.Getenv("LCNET_NO_PREFAULT"); return v != "" && v != "0" }()

// Min is the smallest buffer, in bytes, worth a system call: below it the
// faults cost less than the call.
const Min = 64 << 10

// Slice populates the whole pages inside s's memory (when s spans at least
// Min bytes) and returns s, so that a call can wrap a make:
//
//	w := prefault.Slice(make([]float32, n))
func Slice[T any](s []T) []T {
	if len(s) == 0 {
		return s
	}
	n := uintptr(len(s)) * unsafe.Sizeof(s[0])
	if n >= Min && !off {
		populate(unsafe.Pointer(unsafe.SliceData(s)), n)
	}
	return s
}
