package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// checkPlotPath rejects a --plot file whose format we do not write, before
// anything is measured.
func checkPlotPath(path string) error {
	if path == "" {
		return nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".svg":
		return nil
	}
	return fmt.Errorf("%w: --plot %q: want a .png or .svg file", errUsage, path)
}

// writePlot draws the paper's Figure 1 shape for the measured scales:
// x = latency (ms), y = the paper's ImageNet top-1, one line per backend
// and thread count measured here plus the paper's own line.
func writePlot(path string, rows []paperResult) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("PP-LCNet: latency vs ImageNet top-1, batch 1\non %s (%d logical CPUs)", cpuName(), runtime.NumCPU())
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = "latency (ms, median)"
	p.Y.Label.Text = "ImageNet top-1 (%, from the paper)"
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(4)
	p.Legend.YOffs = vg.Points(4)
	p.Add(plotter.NewGrid())

	lo, hi := math.Inf(1), 0.0
	add := func(name string, xys plotter.XYs, c color.Color, shape draw.GlyphDrawer, dashed bool) error {
		if len(xys) == 0 {
			return nil
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, vg.Points(1.5)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		s.Color, s.Shape, s.Radius = c, shape, vg.Points(3)
		p.Add(l, s)
		p.Legend.Add(name, l, s)
		for _, xy := range xys {
			lo, hi = math.Min(lo, xy.X), math.Max(hi, xy.X)
		}
		return nil
	}

	var paperXY plotter.XYs
	var labels []string
	for _, r := range rows {
		paperXY = append(paperXY, plotter.XY{X: r.PaperMS, Y: r.PaperTop1})
		labels = append(labels, "x"+fmtScale(r.Scale))
	}
	if err := add("paper (Xeon Gold 6148, 10 threads)", paperXY, color.Gray{Y: 90}, draw.SquareGlyph{}, true); err != nil {
		return err
	}
	var sets [][]measurement
	for _, r := range rows {
		sets = append(sets, r.Measurements)
	}
	for i, k := range columns(sets) {
		var xys plotter.XYs
		for _, r := range rows {
			if m, ok := find(r.Measurements, k); ok {
				xys = append(xys, plotter.XY{X: m.MedianMS, Y: r.PaperTop1})
			}
		}
		name := "lcnet " + k.backend
		if k.backend == peerName {
			name = "ONNX Runtime"
		}
		name += " " + plural(k.threads, "thread")
		if err := add(name, xys, plotutil.Color(i), plotutil.Shape(i), false); err != nil {
			return err
		}
	}
	// Scale names beside the paper's points.
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: paperXY, Labels: labels})
	if err != nil {
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font.Size = vg.Points(9)
		lab.TextStyle[i].XAlign = draw.XLeft
	}
	lab.Offset = vg.Point{X: vg.Points(5), Y: -vg.Points(3)}
	p.Add(lab)

	if hi/lo > 20 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Label.Text += ", log scale"
		p.X.Min, p.X.Max = lo/1.3, hi*1.3
	} else {
		p.X.Tick.Marker = linearTicks{}
		p.X.Min, p.X.Max = 0, hi*1.1
	}
	p.Y.Tick.Marker = linearTicks{}
	p.Y.Min, p.Y.Max = 50, 78
	return savePlot(p, path)
}

// savePlot writes p as SVG, or as a 150-dpi PNG.
func savePlot(p *plot.Plot, path string) error {
	const w, h = 16 * vg.Centimeter, 11 * vg.Centimeter
	if strings.ToLower(filepath.Ext(path)) != ".png" {
		if err := p.Save(w, h, path); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		return nil
	}
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))}
	p.Draw(draw.New(c))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

// linearTicks puts about six labelled ticks at a 1, 2 or 5 step.
type linearTicks struct{}

func (linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return nil
	}
	raw := (max - min) / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+step*1e-9; v += step {
		v = math.Round(v/step) * step
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		for k := 1; k < 5; k++ { // unlabelled minor ticks
			if mv := v + float64(k)*step/5; mv <= max {
				ts = append(ts, plot.Tick{Value: mv})
			}
		}
	}
	return ts
}

// logTicks labels 1, 2 and 5 times each power of ten.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v < min || v > max {
				continue
			}
			ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
	}
	return ts
}
