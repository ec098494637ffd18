package prefault

import (
	"syscall"
	"testing"
	"unsafe"
)

// resident counts the pages of [start, end) that are mapped in (mincore).
func resident(t *testing.T, start, end uintptr) (in, all int) {
	t.Helper()
	vec := make([]byte, (end-start)/pageSize)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, start, end-start, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Skipf("mincore: %v", e)
	}
	for _, v := range vec {
		in += int(v & 1)
	}
	return in, len(vec)
}

// TestSlicePopulates checks that the whole pages of a large fresh buffer are
// mapped in after Slice, before anything writes them (a wrong advice
// number or range leaves them out: madvise's error is ignored by design).
func TestSlicePopulates(t *testing.T) {
	if off {
		t.Skip("LCNET_NO_PREFAULT is set")
	}
	var probe [1]byte
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(&probe))&^(pageSize-1), pageSize, madvPopulateWrite); e == syscall.EINVAL {
		t.Skip("kernel without MADV_POPULATE_WRITE (Linux < 5.14)")
	}
	for _, n := range []int{Min + 12345, 3 << 20, 9 << 20} {
		s := make([]byte, n) // large: a fresh span, not written by make
		Slice(s)
		p := uintptr(unsafe.Pointer(&s[0]))
		start, end := (p+pageSize-1)&^(pageSize-1), (p+uintptr(n))&^(pageSize-1)
		if in, all := resident(t, start, end); in != all {
			t.Errorf("%d bytes: %d of %d whole pages resident after Slice", n, in, all)
		}
	}
}
