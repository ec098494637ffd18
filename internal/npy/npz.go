package npy

import (
	"archive/zip"
	"fmt"
	"strings"
)

// ReadNPZ reads the float32 arrays of a NumPy .npz archive (np.savez,
// stored or deflated). Entries for which skip returns true are not decoded.
func ReadNPZ(path string, skip func(name string) bool) (map[string]*Array, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer zr.Close()
	out := make(map[string]*Array, len(zr.File))
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		if skip != nil && skip(name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("npy: %s: %w", f.Name, err)
		}
		a, err := Read(rc, int64(f.UncompressedSize64))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		out[name] = a
	}
	return out, nil
}
