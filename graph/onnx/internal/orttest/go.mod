module github.com/lcnet-go/lcnet/graph/onnx/internal/orttest

go 1.26.0

require github.com/lcnet-go/lcnet v0.0.0

require (
	github.com/yalue/onnxruntime_go v1.27.0
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/lcnet-go/lcnet => ../../../..
