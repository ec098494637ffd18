package prefault

import (
	"os"
	"syscall"
	"unsafe"
)

// The madvise advice values the syscall package does not name, and the
// x86-64 transparent huge page size.
const (
	// MADV_POPULATE_WRITE, Linux 5.14
	madvPopulateWrite = 23
	madvHugepage      = 14 // MADV_HUGEPAGE
	hugePage          = 2 << 20
)

var pageSize = uintptr(os.Getpagesize())

// populate asks the kernel to map the whole pages of [p, p+n) writable, as
// transparent huge pages where it can (the kernel's "madvise" mode,
// Debian's default, gives none otherwise): on the VM above even a populated
// 4 KiB page is slow on its first write (12 MB: 5 ms to populate, then
// 17-21 ms to write, against 3 + 0.5 ms in huge pages). The advice covers
// the 2 MiB pages the buffer touches, not only those inside it: most
// weight tensors are smaller than 2 MiB, and the Go heap places them next
// to each other, so the first populates a whole huge page that the next
// ones then find mapped. The neighbours in those 2 MiB pages are the Go
// heap's own (its arenas are 64 MiB-aligned). A fresh process loading x1.0
// from a Paddle directory (lcnet-bench load, open + first run, medians of
// 10 processes): 100-113 ms with the advice inside the buffers only, 66-68
// with it around them; its peak RSS did not grow. An error (an older
// kernel's EINVAL, ENOMEM under memory pressure or for a range reaching
// past the mapping, no THP) is ignored: the pages then fault in when
// written, as without the calls.
//
// The huge-page advice stays on the range after the buffer dies and the Go
// runtime returns its pages: khugepaged may then refill whole 2 MiB pages
// there, as it would everywhere with THP "always" (the Go runtime stopped
// advising huge pages itself for that reason). It is bounded by the large
// buffers a load allocates (tens of MB for x1.0), and the Go backend's
// activations only when they are 2 MiB or more.
func populate(p unsafe.Pointer, n uintptr) {
	start := (uintptr(p) + pageSize - 1) &^ (pageSize - 1)
	end := (uintptr(p) + n) &^ (pageSize - 1)
	if end <= start {
		return
	}
	if hs, he := uintptr(p)&^(hugePage-1), (uintptr(p)+n+hugePage-1)&^(hugePage-1); he > hs {
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, hs, he-hs, madvHugepage)
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPopulateWrite)
}
