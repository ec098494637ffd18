#!/bin/bash
# measure.sh: the speed figures of README.md ("Speed"), all in one sitting.
#
#   ORT=/path/to/libonnxruntime.so.1 FLOOR=/path/to/floor cmd/lcnet-bench/measure.sh > speed.txt
#
# ORT: ONNX Runtime's CPU library (npm install --ignore-scripts onnxruntime-node@1.30.0, then
#      node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1).
# FLOOR: optional, the C floor built from ../shared/tools/dnnl-floor/pplcnet.c
#      (gcc -O2 -fopenmp -o floor pplcnet.c -ldnnl -lm -lpthread).
# CALIB: optional folder of images to calibrate the int8 model on (without it the int8
#      rows are skipped; README's figures used 64 rendered text lines).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${ORT:?set ORT to libonnxruntime.so.1}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/" ./cmd/lcnet ./cmd/lcnet-bench
go test -c -o "$out/dnn.test" ./dnn
B="$out/lcnet-bench"
CALIB=${CALIB:-}
echo "== commit $(git rev-parse --short HEAD) $(date -u)"; uptime
echo "== fp32 vs ORT, 1 thread"; $B paper --backend all --threads 1 --runs 200 --warmup 20 --peer "onnxruntime=$ORT" -q
echo "== fp32 vs ORT, 2 threads"; $B paper --backend dnnl --threads 2 --runs 200 --warmup 20 --peer "onnxruntime=$ORT" -q
if [ -n "$CALIB" ]; then
	"$out/lcnet" quantize --model pplcnet_x1_0 --calib "$CALIB" --output "$out/x1_8.onnx" --max-images 64
	echo "== int8 x1.0 vs ORT fp32, 1 thread"
	for i in 1 2 3; do $B latency -m "$out/x1_8.onnx" --threads 1 --runs 300 --peer "onnxruntime=$ORT" | grep -E 'median|ratio'; done
	echo "== int8 x1.0 vs ORT fp32, 2 threads"
	$B latency -m "$out/x1_8.onnx" --threads 2 --runs 300 --peer "onnxruntime=$ORT" | grep -E 'median|ratio'
	echo "== throughput int8 x1.0"
	for c in 1 2; do $B latency -m "$out/x1_8.onnx" --threads 1 --concurrency $c --runs 400 | grep median; done
else
	echo "== int8 rows skipped: set CALIB to a folder of images"
fi
if [ -n "${FLOOR:-}" ]; then
	echo "== C floor vs dnn, x1.0"
	for i in 1 2 3; do for t in 1 2; do
		OMP_NUM_THREADS=$t PREFER_DW=jit_dw "$FLOOR" --scale 1.0 --iters 300 --warmup 30 | grep RESULT
		"$out/dnn.test" -test.run '^$' -test.bench "Run/scale=1.0/threads=$t\$" -test.benchtime 300x | grep Bench
	done; done
	OMP_NUM_THREADS=1 PREFER_DW=jit_dw "$FLOOR" --scale 1.0 --dt int8 --iters 300 --warmup 30 | grep RESULT
fi
echo "== throughput fp32 x1.0"
for c in 1 2; do $B latency -m pplcnet_x1_0 --threads 1 --concurrency $c --runs 400 | grep median; done
for c in 1 2; do $B latency -m pplcnet_x1_0 --threads 1 --batch 8 --concurrency $c --runs 60 | grep median; done
echo "== load + plan, fresh processes (x1.0 ONNX; kernel choices from a cache filled first)"
"$out/lcnet" export -m pplcnet_x1_0 -o "$out/x1.onnx" > /dev/null
for be in dnnl go; do
	LCNET_KERNEL_CACHE="$out/kc" "$out/lcnet" info -m "$out/x1.onnx" --backend $be > /dev/null
	LCNET_KERNEL_CACHE="$out/kc" $B load -m "$out/x1.onnx" --backend $be --runs 10
done
echo "== load + plan, in one process"; go test -run '^$' -bench 'Load' -benchtime 10x . | grep Bench
go test ./graph/paddle -run '^$' -bench 'LoadPlan' -benchtime 10x | grep Bench
echo "== done $(date -u)"
