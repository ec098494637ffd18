package main

// paperRow is one row of the paper's main table (ImageNet-1k, Intel Xeon
// Gold 6148, Paddle Inference with MKLDNN, FP32, batch 1, 10 threads).
type paperRow struct {
	Scale     float64
	ParamsM   float64
	FLOPsM    float64
	Top1      float64
	Top5      float64
	LatencyMS float64
}

// paperHardware names the machine behind the paper's latency column.
const paperHardware = "Intel Xeon Gold 6148, Paddle Inference + MKLDNN, FP32, batch 1, 10 threads"

var paperTable = []paperRow{
	{0.25, 1.5, 18, 51.86, 75.65, 1.74},
	{0.35, 1.6, 29, 58.09, 80.83, 1.92},
	{0.5, 1.9, 47, 63.14, 84.66, 2.05},
	{0.75, 2.4, 99, 68.18, 88.30, 2.29},
	{1.0, 3.0, 161, 71.32, 90.03, 2.46},
	{1.5, 4.5, 342, 73.71, 91.53, 3.19},
	{2.0, 6.5, 590, 75.18, 92.27, 4.27},
	{2.5, 9.0, 906, 76.60, 93.00, 5.39},
}
