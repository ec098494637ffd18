package onnx

import (
	"fmt"
	"os"
)

// ReadMetadata returns the metadata_props of an encoded ModelProto (key ->
// value; a later duplicate key wins). It decodes nothing else.
func ReadMetadata(b []byte) (map[string]string, error) {
	md := map[string]string{}
	d := &decoder{b: b, msg: "model"}
	for {
		num, typ, err := d.next()
		if err != nil {
			return nil, err
		}
		switch num {
		case 0:
			return md, nil
		case 14:
			eb, err := d.bytes(num, typ)
			if err != nil {
				return nil, err
			}
			var k, v string
			e := &decoder{b: eb, msg: "metadata_props"}
			for {
				n, t, err := e.next()
				if err != nil {
					return nil, err
				}
				if n == 0 {
					break
				}
				switch n {
				case 1:
					k, err = e.str(n, t)
				case 2:
					v, err = e.str(n, t)
				default:
					err = e.skip(n, t)
				}
				if err != nil {
					return nil, err
				}
			}
			md[k] = v
		default:
			if err := d.skip(num, typ); err != nil {
				return nil, err
			}
		}
	}
}

// LoadMetadata reads the metadata_props of the ONNX model file at path.
func LoadMetadata(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return ReadMetadata(b)
}
