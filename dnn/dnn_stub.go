//go:build !cgo || purego

package dnn

// Available reports whether the package was built with oneDNN.
func Available() bool { return false }

// LiveHandles returns the number of C objects alive: always 0 here.
func LiveHandles() int64 { return 0 }

// LeakedHandles returns how many Plans and Instances the garbage-collector
// cleanup had to free: always 0 here.
func LeakedHandles() int64 { return 0 }

// ISA returns "" when built without oneDNN.
func ISA() string { return "" }

// KernelISA returns "" when built without oneDNN.
func KernelISA(kernel string) string { return "" }

// Version returns "" when built without oneDNN.
func Version() string { return "" }

// KernelsID identifies the build of the engine's own C kernels ("" without
// cgo).
func KernelsID() string { return "" }

// Plan is a compiled network. Without oneDNN none can be made.
type Plan struct{}

// Compile validates net and returns ErrUnavailable.
func Compile(net *Net, opt Options) (*Plan, error) {
	if _, err := validate(net, opt); err != nil {
		return nil, err
	}
	return nil, ErrUnavailable
}

// InputShape returns nil.
func (p *Plan) InputShape() []int { return nil }

// OutputShape returns nil.
func (p *Plan) OutputShape() []int { return nil }

// Threads returns 0.
func (p *Plan) Threads() int { return 0 }

// LayerImpls returns nil.
func (p *Plan) LayerImpls() []string { return nil }

// NewInstance returns ErrUnavailable.
func (p *Plan) NewInstance() (*Instance, error) { return nil, ErrUnavailable }

// NewInstanceOn returns ErrUnavailable.
func (p *Plan) NewInstanceOn(*Worker) (*Instance, error) { return nil, ErrUnavailable }

// Worker runs instances on one OS thread; without oneDNN there are none.
type Worker struct{}

// NewWorker returns a worker that runs nothing.
func NewWorker() *Worker { return &Worker{} }

// Close does nothing.
func (w *Worker) Close() {}

// Close does nothing.
func (p *Plan) Close() error { return nil }

// Instance is the running state of a Plan. Without oneDNN none can be made.
type Instance struct{}

// Run returns ErrUnavailable.
func (inst *Instance) Run(in []float32, batch int, out []float32) error { return ErrUnavailable }

// SetProfiling returns ErrUnavailable.
func (inst *Instance) SetProfiling(on bool) error { return ErrUnavailable }

// Profile returns ErrUnavailable.
func (inst *Instance) Profile(batch int) ([]StepTime, error) { return nil, ErrUnavailable }

// Close does nothing.
func (inst *Instance) Close() error { return nil }
