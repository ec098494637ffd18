package lcnet

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/lcnet-go/lcnet/dnn"
)

// EnvKernelCache names a directory for the oneDNN kernel choices when
// Options.KernelCache is empty (see Options.KernelCache).
const EnvKernelCache = "LCNET_KERNEL_CACHE"

// Limits of a kernel cache file: it is read back with care, as any file.
const (
	kernelCacheMaxBytes = 1 << 20
	kernelCacheMaxLines = 2048 // as many as dnn keeps
)

var kernelCache struct {
	sync.Mutex
	loaded map[string]bool // files read in this process
}

// kernelCacheFile is the cache file of dir for this oneDNN build and CPU
// ("" when no directory is set).
func kernelCacheFile(o *Options) string {
	dir := o.KernelCache
	if dir == "" {
		dir = os.Getenv(EnvKernelCache)
	}
	if dir == "" {
		return ""
	}
	id := sha256.Sum256([]byte(dnn.Version() + "\x00" + dnn.ISA() + "\x00" + cpuModel() + "\x00" + dnn.KernelsID() +
		"\x00" + dnn.KernelISA("lcn_dwpw")))
	return filepath.Join(dir, "lcnet-kernels-"+hex.EncodeToString(id[:6])+".tsv")
}

// cpuModel is the first "model name" of /proc/cpuinfo ("" elsewhere):
// kernel timings of one CPU model do not carry over to another.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadKernelCache reads path's choices into this process once. A missing,
// unreadable or malformed file (or line) is skipped: the cache only saves
// plan-time timing, and a choice only selects among kernels that support a
// layer.
func loadKernelCache(path string) {
	kernelCache.Lock()
	defer kernelCache.Unlock()
	if kernelCache.loaded == nil {
		kernelCache.loaded = map[string]bool{}
	}
	if kernelCache.loaded[path] {
		return
	}
	kernelCache.loaded[path] = true
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var cs []dnn.Choice
	sc := bufio.NewScanner(io.LimitReader(f, kernelCacheMaxBytes))
	for sc.Scan() && len(cs) < kernelCacheMaxLines {
		if c, ok := parseChoice(sc.Text()); ok {
			cs = append(cs, c)
		}
	}
	_ = dnn.PutChoices(cs)
}

// parseChoice reads one "key\tchoice\ta\tb\tname" line.
func parseChoice(line string) (dnn.Choice, bool) {
	f := strings.Split(line, "\t")
	if len(f) != 5 || f[0] == "" || len(f[0]) >= 128 || len(f[4]) >= 64 {
		return dnn.Choice{}, false
	}
	ch, err1 := strconv.Atoi(f[1])
	a, err2 := strconv.ParseFloat(f[2], 32)
	b, err3 := strconv.ParseFloat(f[3], 32)
	if err1 != nil || err2 != nil || err3 != nil || ch < 0 || ch > 1<<20 {
		return dnn.Choice{}, false
	}
	return dnn.Choice{Key: f[0], Choice: ch, A: float32(a), B: float32(b), Name: f[4]}, true
}

// saveKernelCache writes this process's choices to path (through a
// temporary file and a rename, so that readers never see half a file).
func saveKernelCache(path string) error {
	kernelCache.Lock()
	defer kernelCache.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lcnet-kernels-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	for _, c := range dnn.Choices() {
		fmt.Fprintf(w, "%s\t%d\t%g\t%g\t%s\n", c.Key, c.Choice, c.A, c.B, c.Name)
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
