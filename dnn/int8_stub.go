//go:build !cgo || purego

package dnn

// Int8Plan is a compiled int8 chain. Without oneDNN none can be made.
type Int8Plan struct{}

// CompileInt8 validates net and returns ErrUnavailable.
func CompileInt8(net *Int8Net, opt Options) (*Int8Plan, error) {
	if _, err := validateInt8(net, opt); err != nil {
		return nil, err
	}
	return nil, ErrUnavailable
}

// InputShape returns nil.
func (p *Int8Plan) InputShape() []int { return nil }

// OutputShape returns nil.
func (p *Int8Plan) OutputShape() []int { return nil }

// LayerImpls returns nil.
func (p *Int8Plan) LayerImpls() []string { return nil }

// NewInstance returns ErrUnavailable.
func (p *Int8Plan) NewInstance() (*Int8Instance, error) { return nil, ErrUnavailable }

// NewInstanceOn returns ErrUnavailable.
func (p *Int8Plan) NewInstanceOn(*Worker) (*Int8Instance, error) { return nil, ErrUnavailable }

// Close does nothing.
func (p *Int8Plan) Close() error { return nil }

// Int8Instance runs an Int8Plan. Without oneDNN none can be made.
type Int8Instance struct{}

// Run returns ErrUnavailable.
func (inst *Int8Instance) Run(in []float32, batch int, out []float32) error { return ErrUnavailable }

// Close does nothing.
// SetProfiling turns the timing of every step of every Run on or off and
// zeroes what was measured.
func (inst *Int8Instance) SetProfiling(on bool) error { return ErrUnavailable }

// Profile returns ErrUnavailable.
func (inst *Int8Instance) Profile(batch int) ([]StepTime, error) { return nil, ErrUnavailable }

func (inst *Int8Instance) Close() error { return nil }
