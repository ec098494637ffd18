package preprocess

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseClassIDMap parses a PaddleClas class_id_map_file: one "id name"
// per line (e.g. "0 tench, Tinca tinca"), the name being the rest of the
// line. It returns the names indexed by id; ids must be 0..n-1, each once.
func ParseClassIDMap(b []byte) ([]string, error) {
	var labels []string
	seen := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		idStr, name, _ := strings.Cut(s, " ")
		id, err := strconv.Atoi(idStr)
		if err != nil || id < 0 || id > 1<<20 {
			return nil, fmt.Errorf("preprocess: class id map line %d: bad id %q: %w", line, idStr, ErrConfig)
		}
		if seen[id] {
			return nil, fmt.Errorf("preprocess: class id map line %d: id %d repeated: %w", line, id, ErrConfig)
		}
		seen[id] = true
		for len(labels) <= id {
			labels = append(labels, "")
		}
		labels[id] = strings.TrimSpace(name)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("preprocess: class id map: %w", err)
	}
	if len(seen) != len(labels) {
		return nil, fmt.Errorf("preprocess: class id map has %d entries for ids 0..%d: %w", len(seen), len(labels)-1, ErrConfig)
	}
	return labels, nil
}

// LoadClassIDMap reads a class_id_map_file; see ParseClassIDMap.
func LoadClassIDMap(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("preprocess: %w", err)
	}
	return ParseClassIDMap(b)
}
