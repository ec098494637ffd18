package lcnet

import (
	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/lcnet-go/lcnet/graph/safetensors"
)

func sniffSafetensors(head []byte) bool { return safetensors.Sniff(head) }

// loadSafetensors reads timm lcnet_* weights; TextLine selects the PULC
// text-line strides and input size, which a weights file cannot record.
func loadSafetensors(path string, o *OpenOptions) (*graph.Graph, error) {
	opt := safetensors.Options{InputH: o.InputH, InputW: o.InputW, MaxBytes: o.maxBytes()}
	if o.TextLine {
		tl := pplcnet.TextLine(1)
		opt.Strides = tl.Strides
		if opt.InputH == 0 && opt.InputW == 0 {
			opt.InputH, opt.InputW = tl.InputH, tl.InputW
		}
	}
	return safetensors.Load(path, opt)
}
