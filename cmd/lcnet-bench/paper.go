package main

import (
	"strings"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
)

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

// paperRowOf returns the main-table row of a scale.
func paperRowOf(scale float64) (paperRow, bool) {
	for _, p := range paperTable {
		if p.Scale == scale {
			return p, true
		}
	}
	return paperRow{}, false
}

// ablationScale is the width of every ablation network in the paper.
const ablationScale = 0.5

// ablationRow is one row of the paper's ablation tables (x0.5, same
// hardware as the main table). Change edits pplcnet.Default(0.5) into the
// row's network; a nil Change is the full PP-LCNet x0.5.
type ablationRow struct {
	Group     string // "SE position", "5x5 kernels", "components"
	Name      string
	Top1      float64
	LatencyMS float64
	Change    func(c *pplcnet.Config)
}

// fullAblationMS is the paper's latency of the full x0.5 network, the
// reference of every ablation ratio.
const fullAblationMS = 2.05

// blocks sets a per-block flag from 1-based inclusive block ranges.
func blocks(ranges ...[2]int) [pplcnet.NumBlocks]bool {
	var b [pplcnet.NumBlocks]bool
	for _, r := range ranges {
		for i := r[0]; i <= r[1]; i++ {
			b[i-1] = true
		}
	}
	return b
}

func setSE(mask [pplcnet.NumBlocks]bool) func(*pplcnet.Config) {
	return func(c *pplcnet.Config) { c.SE = mask }
}

// setLarge puts 5×5 depthwise kernels where mask is set and 3×3 elsewhere.
func setLarge(mask [pplcnet.NumBlocks]bool) func(*pplcnet.Config) {
	return func(c *pplcnet.Config) {
		for i, big := range mask {
			c.Kernels[i] = 3
			if big {
				c.Kernels[i] = 5
			}
		}
	}
}

// ablationTable is the paper's ablations in the paper's order: the SE
// position table, the 5×5 position table and the component table (each
// component removed from the full network on its own).
var ablationTable = []ablationRow{
	{"SE position", "SE in blocks 1-2", 61.73, 2.06, setSE(blocks([2]int{1, 2}))},
	{"SE position", "SE in blocks 7-8", 62.17, 2.03, setSE(blocks([2]int{7, 8}))},
	{"SE position", "SE in the last two blocks (PP-LCNet)", 63.14, 2.05, nil},
	{"SE position", "SE in all blocks", 64.27, 3.80, setSE(blocks([2]int{1, 13}))},
	{"5x5 position", "5x5 in all blocks", 63.22, 2.08, setLarge(blocks([2]int{1, 13}))},
	{"5x5 position", "5x5 in the first seven blocks", 62.70, 2.07, setLarge(blocks([2]int{1, 7}))},
	{"5x5 position", "5x5 in the last seven blocks (PP-LCNet)", 63.14, 2.05, nil},
	{"components", "without H-Swish (ReLU)", 61.93, 1.94, func(c *pplcnet.Config) { c.Act = graph.ActReLU }},
	{"components", "without SE", 62.51, 1.87, setSE(blocks())},
	{"components", "without large kernels (all 3x3)", 62.44, 2.01, setLarge(blocks())},
	{"components", "without the 1280 conv after GAP", 59.91, 1.85, func(c *pplcnet.Config) { c.UseLastConv = false }},
}

// config returns the row's network configuration.
func (r ablationRow) config() pplcnet.Config {
	c := pplcnet.Default(ablationScale)
	if r.Change != nil {
		r.Change(&c)
	}
	return c
}

// describeConfig summarises the knobs of c that the ablations turn: SE and
// 5×5 masks as 13-character strings (block 1 first), the activation and
// whether the head conv is there.
func describeConfig(c pplcnet.Config) (se, large string) {
	var s, k strings.Builder
	for i := range pplcnet.NumBlocks {
		s.WriteByte("01"[b2i(c.SE[i])])
		k.WriteByte("01"[b2i(c.Kernels[i] >= 5)])
	}
	return s.String(), k.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
