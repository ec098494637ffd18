package dnn

// Choice is one remembered kernel choice: for the layer shape Key, the
// option taken (Choice, or the implementation Name) and the two times
// measured when it was decided (µs; informative).
type Choice struct {
	Key    string
	Choice int
	A, B   float32
	Name   string
}
