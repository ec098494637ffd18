//go:build cgo && !purego

package dnn_test

import (
	"fmt"
	"log"

	"github.com/lcnet-go/lcnet/dnn"
)

// A 2x2 image with one channel: a 1x1 convolution doubling it plus 1, ReLU,
// global average pooling, then softmax over the two resulting channels.
func Example() {
	net := &dnn.Net{
		InC: 1, InH: 2, InW: 2,
		Layers: []dnn.Layer{
			{Kind: dnn.LayerConv, Name: "conv", InC: 1, OutC: 2, KH: 1, KW: 1,
				Weight: []float32{2, -1}, Bias: []float32{1, 0}, Act: dnn.Act{Kind: dnn.ActReLU}},
			{Kind: dnn.LayerGlobalAvgPool, Name: "gap"},
			{Kind: dnn.LayerSoftmax, Name: "softmax"},
		},
	}
	plan, err := dnn.Compile(net, dnn.Options{Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer plan.Close()
	inst, err := plan.NewInstance()
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Close()

	in := []float32{0, 1, 2, 3}
	out := make([]float32, 2)
	if err := inst.Run(in, 1, out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(plan.OutputShape())
	fmt.Printf("%.4f %.4f\n", out[0], out[1])
	// Output:
	// [2 1 1]
	// 0.9820 0.0180
}
