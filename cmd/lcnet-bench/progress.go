package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a measurement is: a progress bar when w is a
// terminal, a plain line every few seconds otherwise (logs, CI). A nil
// *progress shows nothing.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	total int
	done  int
	desc  string
	start time.Time
	last  time.Time
}

// plainEvery is how often the plain display writes a line.
const plainEvery = 5 * time.Second

// newProgress counts total inferences.
func newProgress(w io.Writer, total int, quiet bool) *progress {
	if quiet || w == nil {
		return nil
	}
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("inferences"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) describe(s string) {
	if p == nil || s == p.desc {
		return
	}
	p.desc = s
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%-28s", s))
	}
}

func (p *progress) add(n int) {
	if p == nil {
		return
	}
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= plainEvery {
		p.last = now
		fmt.Fprintf(p.w, "lcnet-bench: %3.0f%% %d/%d inferences, %s, %s elapsed\n",
			100*float64(p.done)/float64(max(p.total, 1)), p.done, p.total, p.desc, time.Since(p.start).Round(time.Second))
	}
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
		return
	}
	if time.Since(p.start) >= plainEvery {
		fmt.Fprintf(p.w, "lcnet-bench: done, %d inferences in %s\n", p.done, time.Since(p.start).Round(time.Second))
	}
}
