//go:build cgo && !purego

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ortEnv is the process's one ONNX Runtime environment.
var ortEnv struct {
	mu  sync.Mutex
	lib string
}

// initPeer loads ONNX Runtime from lib (once per process and path) and
// returns its version.
func initPeer(p peerSpec) (string, error) {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ort.IsInitialized() {
		if ortEnv.lib == p.lib {
			return ort.GetVersion(), nil
		}
		if err := ort.DestroyEnvironment(); err != nil {
			return "", fmt.Errorf("%s: unloading %s: %w", peerName, ortEnv.lib, err)
		}
	}
	if _, err := os.Stat(p.lib); err != nil {
		return "", fmt.Errorf("%s: cannot load the library: %w", peerName, err)
	}
	ort.SetSharedLibraryPath(p.lib)
	if err := ort.InitializeEnvironment(); err != nil {
		hint := "onnxruntime_go v1.27.0 needs ONNX Runtime 1.24 or newer (C API version 24), e.g. npm's onnxruntime-node@1.30.0"
		if strings.Contains(err.Error(), "Error loading ONNX shared library") {
			hint = "want ONNX Runtime's libonnxruntime.so.1, 1.24 or newer, e.g. from npm's onnxruntime-node@1.30.0"
		}
		return "", fmt.Errorf("%s: cannot load %s: %v (%s)", peerName, p.lib, err, hint)
	}
	ortEnv.lib = p.lib
	return ort.GetVersion(), nil
}

type ortSession struct {
	s    *ort.AdvancedSession
	in   *ort.Tensor[float32]
	out  *ort.Tensor[float32]
	opts *ort.SessionOptions
}

func newORTSession(model []byte, inName, outName string, in []float32, inShape, outShape []int64, threads int) (peerSession, error) {
	s, err := openORT(model, inName, outName, in, inShape, outShape, threads, "")
	if err != nil {
		return nil, err
	}
	return s, nil
}

// profileORT runs the model warmup + runs times in a session with ONNX
// Runtime's profiler on (its JSON file under a temporary directory, removed
// after) and returns the profile's bytes.
func profileORT(model []byte, inName, outName string, in []float32, inShape, outShape []int64, threads, runs int) ([]byte, error) {
	dir, err := os.MkdirTemp("", "lcnet-bench-ort")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", peerName, err)
	}
	defer os.RemoveAll(dir)
	s, err := openORT(model, inName, outName, in, inShape, outShape, threads, filepath.Join(dir, "profile"))
	if err != nil {
		return nil, err
	}
	for range runs {
		if err := s.run(); err != nil {
			s.close()
			return nil, fmt.Errorf("%s: %w", peerName, err)
		}
	}
	if err := s.close(); err != nil { // writes the profile
		return nil, fmt.Errorf("%s: %w", peerName, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "profile*.json"))
	if err != nil || len(files) != 1 {
		return nil, fmt.Errorf("%s: profiler wrote %d files, want 1", peerName, len(files))
	}
	return os.ReadFile(files[0])
}

// openORT is newORTSession with the profiler writing to profile*.json when
// profile is not empty.
func openORT(model []byte, inName, outName string, in []float32, inShape, outShape []int64, threads int, profile string) (_ *ortSession, err error) {
	s := &ortSession{}
	defer func() {
		if err != nil {
			s.close()
			err = fmt.Errorf("%s: %w", peerName, err)
		}
	}()
	if s.in, err = ort.NewTensor(ort.NewShape(inShape...), in); err != nil {
		return nil, err
	}
	if s.out, err = ort.NewEmptyTensor[float32](ort.NewShape(outShape...)); err != nil {
		return nil, err
	}
	if s.opts, err = ort.NewSessionOptions(); err != nil {
		return nil, err
	}
	if err = s.opts.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err = s.opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	if profile != "" {
		if err = s.opts.EnableProfiling(profile); err != nil {
			return nil, err
		}
	}
	s.s, err = ort.NewAdvancedSessionWithONNXData(model, []string{inName}, []string{outName},
		[]ort.Value{s.in}, []ort.Value{s.out}, s.opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *ortSession) run() error { return s.s.Run() }

func (s *ortSession) output() []float32 { return s.out.GetData() }

func (s *ortSession) close() error {
	var err error
	if s.s != nil {
		err = s.s.Destroy()
		s.s = nil
	}
	if s.in != nil {
		s.in.Destroy()
	}
	if s.out != nil {
		s.out.Destroy()
	}
	if s.opts != nil {
		s.opts.Destroy()
	}
	s.in, s.out, s.opts = nil, nil, nil
	return err
}
