//go:build cgo && !purego

package dnn

import (
	"fmt"
	"testing"
)

func BenchmarkScratchTiny(b *testing.B) {
	for _, thr := range []int{1, 2} {
		b.Run(fmt.Sprint(thr), func(b *testing.B) {
			p, err := Compile(&Net{InC: 3, InH: 2, InW: 2, Layers: []Layer{{Kind: LayerScale, Factor: 2}}}, Options{Threads: thr})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			inst, _ := p.NewInstance()
			defer inst.Close()
			in, out := make([]float32, 12), make([]float32, 12)
			for b.Loop() {
				inst.Run(in, 1, out)
			}
		})
	}
}
