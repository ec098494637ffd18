// Package orttest checks package onnx's exports against ONNX Runtime. It is
// a separate module so that cgo and onnxruntime_go stay out of lcnet's
// import graph, and its test needs the build tag ort:
//
//	cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0
//	cd graph/onnx/internal/orttest
//	LCNET_ORT_LIB=/tmp/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
//	    go test -tags ort -v .
package orttest
