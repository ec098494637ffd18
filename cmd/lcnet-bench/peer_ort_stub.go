//go:build !cgo || purego

package main

import "errors"

// errPeerNoCgo is what --peer gives in a build without cgo.
var errPeerNoCgo = errors.New(peerName + ": this lcnet-bench was built without cgo (CGO_ENABLED=0 or -tags purego), so it cannot load ONNX Runtime; rebuild with cgo to use --peer")

func initPeer(peerSpec) (string, error) { return "", errPeerNoCgo }

func newORTSession([]byte, string, string, []float32, []int64, []int64, int) (peerSession, error) {
	return nil, errPeerNoCgo
}

func profileORT([]byte, string, string, []float32, []int64, []int64, int, int) ([]byte, error) {
	return nil, errPeerNoCgo
}
