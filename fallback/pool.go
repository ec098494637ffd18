package fallback

// avgPool is a global average pool of a channels-last [S, C] value to [C].
type avgPool struct{ c, s int }

func (k *avgPool) run(y, x, _ []float32, batch int, _ []float32) {
	c, n := k.c, k.c*k.s
	for b := range batch {
		poolSample(y[b*c:(b+1)*c], x[b*n:(b+1)*n], c)
	}
}
func (*avgPool) scratch() int  { return 0 }
func (*avgPool) inPlace() bool { return false }

// poolSample writes the mean over pixels of x ([S, C]) to y ([C]).
func poolSample(y, x []float32, c int) {
	y = y[:c]
	clear(y)
	for i := 0; i+c <= len(x); i += c {
		xr := x[i : i+c]
		for j, v := range xr {
			y[j] += v
		}
	}
	inv := 1 / float32(len(x)/c)
	for j := range y {
		y[j] *= inv
	}
}
