package preprocess_test

import (
	"fmt"
	"log"
	"os"

	"github.com/lcnet-go/lcnet/preprocess"
)

// A model's inference.yml drives the preprocessing; a Preprocessor and a
// Decoder reuse their memory from one image to the next.
func Example() {
	cfg, err := preprocess.LoadConfig("/work/shared/models/pplcnet_x0_25_textline_ori/paddle/inference.yml")
	if err != nil {
		log.Fatal(err)
	}
	cfg.Formula = preprocess.PaddleXFormula // this is a PaddleX model

	data, err := os.ReadFile("testdata/inputs/rgb_333x251.png")
	if err != nil {
		log.Fatal(err)
	}
	var dec preprocess.Decoder // zero Limits: 100 megapixels, 256 MiB
	img, err := dec.Decode(data)
	if err != nil {
		log.Fatal(err)
	}
	p := cfg.NewPreprocessor()
	n, err := p.Len(img.W, img.H)
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, n) // one [3, 80, 160] CHW image; batches are consecutive
	if err := p.Into(x, img); err != nil {
		log.Fatal(err)
	}
	h, w := cfg.InputSize()
	fmt.Println(cfg.ModelName, h, w, len(x), cfg.Labels)
	// Output: PP-LCNet_x0_25_textline_ori 80 160 38400 [0_degree 180_degree]
}
