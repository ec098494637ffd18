package fallback

import "math"

// softmax normalises each sample's n values: exp(x - max) / sum, with the
// exponentials and the sum in float64.
type softmax struct{ n int }

func (k *softmax) run(y, x, _ []float32, batch int, _ []float32) {
	n := k.n
	for b := range batch {
		softmaxRow(y[b*n:(b+1)*n], x[b*n:(b+1)*n])
	}
}
func (*softmax) scratch() int  { return 0 }
func (*softmax) inPlace() bool { return true }

func softmaxRow(y, x []float32) {
	y = y[:len(x)]
	m := x[0]
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		sum += e
		y[i] = float32(e)
	}
	inv := 1 / sum
	for i, v := range y {
		y[i] = float32(float64(v) * inv)
	}
}
