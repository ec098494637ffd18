package lcnet_test

import (
	"fmt"
	"log"

	"github.com/lcnet-go/lcnet"
)

// Run a built-in PP-LCNet on a batch of one image.
func Example() {
	m, err := lcnet.Open("pplcnet_x0_25", &lcnet.OpenOptions{Options: lcnet.Options{Backend: lcnet.Go}})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	in := make([]float32, 3*224*224) // NCHW, already normalised
	probs, err := m.Run(in, 1)
	if err != nil {
		log.Fatal(err)
	}
	var sum float32
	for _, p := range probs {
		sum += p
	}
	fmt.Println(m.InputShape(), len(probs), sum > 0.999 && sum < 1.001)
	// Output: [3 224 224] 1000 true
}
