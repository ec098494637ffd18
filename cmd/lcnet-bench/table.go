package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/graph/pplcnet"
	"github.com/spf13/pflag"
)

type tableRow struct {
	Scale       float64 `json:"scale"`
	Model       string  `json:"model"`
	Params      int64   `json:"params"`
	MACs        int64   `json:"macs"`
	FLOPs       int64   `json:"flops"`
	PaperParams float64 `json:"paper_params"` // millions, as printed
	PaperFLOPs  float64 `json:"paper_flops"`  // millions, as printed
	PaperTop1   float64 `json:"paper_top1"`
	PaperTop5   float64 `json:"paper_top5"`
	PaperMS     float64 `json:"paper_latency_ms"`
}

func countRows() ([]tableRow, error) {
	var rows []tableRow
	for _, p := range paperTable {
		r, _, err := buildPaperRow(p, 1)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// buildPaperRow builds the network of a paper row with weights from seed
// and counts it.
func buildPaperRow(p paperRow, seed uint64) (tableRow, *graph.Graph, error) {
	g, err := pplcnet.Build(pplcnet.Default(p.Scale), seed)
	if err != nil {
		return tableRow{}, nil, err
	}
	c := graph.Count(g)
	return tableRow{Scale: p.Scale, Model: pplcnet.NameOf(p.Scale), Params: c.Params, MACs: c.MACs, FLOPs: c.FLOPs,
		PaperParams: p.ParamsM, PaperFLOPs: p.FLOPsM, PaperTop1: p.Top1, PaperTop5: p.Top5, PaperMS: p.LatencyMS}, g, nil
}

func runTable(args []string, stdout, _ io.Writer) error {
	fs := pflag.NewFlagSet("table", pflag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	rows, err := countRows()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scale\tparams (M)\tpaper\tMACs (M)\tFLOPs (M)\tpaper\ttop-1\ttop-5\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%g\t%.3f\t%.1f\t%.2f\t%.2f\t%.0f\t%.2f\t%.2f\t\n", r.Scale, float64(r.Params)/1e6, r.PaperParams,
			float64(r.MACs)/1e6, float64(r.FLOPs)/1e6, r.PaperFLOPs, r.PaperTop1, r.PaperTop5)
	}
	tw.Flush()
	ok := true
	for _, r := range rows {
		if math.Round(float64(r.FLOPs)/1e6) != r.PaperFLOPs {
			ok = false
		}
	}
	fmt.Fprintf(stdout, "\nFLOPs by Paddle's counting rule (convs, FC, BN, pooling) at 224x224; they round to the paper's column: %v\n", ok)
	return nil
}
