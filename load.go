package lcnet

import "fmt"

// Load reads a model file or directory.
func Load(path string, o *OpenOptions) (*Model, error) {
	return nil, fmt.Errorf("lcnet: %s: model files are not supported yet", path)
}
