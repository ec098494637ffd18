package lcnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/lcnet-go/lcnet/graph"
	"github.com/lcnet-go/lcnet/labels"
	"github.com/lcnet-go/lcnet/preprocess"
)

// Prediction is one class of a classification result.
type Prediction struct {
	Label string  `json:"label"`
	ID    int     `json:"id"`
	Score float32 `json:"score"`
}

// DefaultTopK is the number of predictions Classify returns for k <= 0 when
// the model's inference.yml does not give one.
const DefaultTopK = 5

// ErrNotImage is returned (wrapped) for a file whose first bytes are not
// those of an image format preprocess.Decode reads.
var ErrNotImage = errors.New("lcnet: not an image")

// PreprocessConfig returns the preprocessing Classify applies:
//
//   - m.Preprocess when set (a Paddle model directory's inference.yml);
//   - otherwise, for a 3×224×224 input, PaddleClas' ImageNet preprocessing
//     (preprocess.ImageNetDefault: short side to 256, centre crop 224);
//   - otherwise a plain bilinear resize of the whole image to the model's
//     input size (no crop, aspect ratio not kept), then the same
//     normalisation ((x/255 - ImageNet mean) / ImageNet std, RGB, CHW).
//     That is what PaddleClas' PULC models (text-line orientation, language,
//     ...) do with their fixed-size ResizeImage.
//
// It fails when the result cannot be the model's input (channel count, a
// fixed size other than the model's, an NHWC layout).
func (m *Model) PreprocessConfig() (*preprocess.Config, error) {
	in := m.InputShape()
	if len(in) != 3 {
		return nil, fmt.Errorf("lcnet: classify: model input %v is not [C H W]", in)
	}
	c, h, w := in[0], in[1], in[2]
	cfg := m.Preprocess
	switch {
	case cfg != nil:
	case c == 3 && h == 224 && w == 224:
		cfg = preprocess.ImageNetDefault()
	default:
		cfg = preprocess.ImageNetDefault()
		cfg.Resize = &preprocess.ResizeOp{Width: w, Height: h, Interp: preprocess.Linear}
		cfg.Crop = nil
	}
	if !cfg.CHW {
		return nil, fmt.Errorf("lcnet: classify: the model's preprocessing has no ToCHWImage: NHWC tensors are not supported")
	}
	if cfg.Channels() != c {
		return nil, fmt.Errorf("lcnet: classify: preprocessing makes %d channels, the model takes %d", cfg.Channels(), c)
	}
	if ch, cw := cfg.InputSize(); ch != 0 && (ch != h || cw != w) {
		return nil, fmt.Errorf("lcnet: classify: preprocessing makes %dx%d (HxW) images, the model takes %dx%d", ch, cw, h, w)
	}
	return cfg, nil
}

// NumClasses is the number of values per sample of the model's output.
func (m *Model) NumClasses() int { return graph.Numel(m.src.OutputShape()) }

// ClassLabels returns the class names Classify reports: m.Labels when set,
// else the ImageNet-1k names for a 1000-class model, else nil (the class id
// in decimal is then the label).
func (m *Model) ClassLabels() []string {
	switch {
	case len(m.Labels) > 0:
		return m.Labels
	case m.NumClasses() == 1000:
		return labels.ImageNet()
	}
	return nil
}

// topK resolves Classify's k.
func (m *Model) topK(k int) int {
	n := m.NumClasses()
	if k <= 0 {
		k = DefaultTopK
		if m.Preprocess != nil && m.Preprocess.TopK > 0 {
			k = m.Preprocess.TopK
		}
	}
	return min(k, n)
}

// IsDistribution reports whether row already is a probability
// distribution: every value finite and non-negative and the sum within 1e-3
// of 1. Exported Paddle models end in softmax and pass; logits almost never
// do (it takes non-negative logits summing to 1).
func IsDistribution(row []float32) bool {
	var s float64
	for _, v := range row {
		if !(v >= 0) || math.IsInf(float64(v), 0) {
			return false
		}
		s += float64(v)
	}
	return math.Abs(s-1) <= 1e-3
}

// Softmax writes the softmax of src into dst (which may be src), computed
// in float64 with the maximum subtracted.
func Softmax(dst, src []float32) {
	mx := math.Inf(-1)
	for _, v := range src {
		mx = max(mx, float64(v))
	}
	var s float64
	for i, v := range src {
		e := math.Exp(float64(v) - mx)
		dst[i] = float32(e)
		s += e
	}
	for i := range dst[:len(src)] {
		dst[i] = float32(float64(dst[i]) / s)
	}
}

// TopK turns raw model outputs (batch×NumClasses values) into the k best
// predictions of each sample, best first (ties: lower id first). A row
// that is not already a probability distribution (see IsDistribution) gets
// a softmax first; each row is decided on its own. k <= 0 means the
// model's default (inference.yml's topk, else DefaultTopK); k is capped at
// NumClasses. out is not modified.
func (m *Model) TopK(out []float32, batch, k int) ([][]Prediction, error) {
	n := m.NumClasses()
	if batch < 0 || len(out) != batch*n {
		return nil, fmt.Errorf("%w: %d output values for batch %d of %d classes", ErrInput, len(out), batch, n)
	}
	k = m.topK(k)
	names := m.ClassLabels()
	res := make([][]Prediction, batch)
	row := make([]float32, n)
	idx := make([]int, n)
	for b := range batch {
		src := out[b*n : (b+1)*n]
		if IsDistribution(src) {
			copy(row, src)
		} else {
			Softmax(row, src)
		}
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, c int) int {
			switch {
			case row[a] > row[c]:
				return -1
			case row[a] < row[c]:
				return 1
			}
			return 0
		})
		ps := make([]Prediction, k)
		for j, id := range idx[:k] {
			ps[j] = Prediction{Label: labelOf(names, id), ID: id, Score: row[id]}
		}
		res[b] = ps
	}
	return res, nil
}

func labelOf(names []string, id int) string {
	if id < len(names) && names[id] != "" {
		return names[id]
	}
	return strconv.Itoa(id)
}

// classifyChunk bounds the images preprocessed and run at once by Classify.
const classifyChunk = 16

// Classify preprocesses decoded images (see PreprocessConfig) and returns
// the k best predictions of each (see TopK for k and the scores).
func (m *Model) Classify(imgs []*preprocess.Image, k int) ([][]Prediction, error) {
	return m.ClassifyContext(context.Background(), imgs, k)
}

// ClassifyContext is Classify honouring ctx.
func (m *Model) ClassifyContext(ctx context.Context, imgs []*preprocess.Image, k int) ([][]Prediction, error) {
	cfg, err := m.PreprocessConfig()
	if err != nil {
		return nil, err
	}
	pp := cfg.NewPreprocessor()
	per := m.inSize
	in := make([]float32, min(len(imgs), classifyChunk)*per)
	out := make([]float32, min(len(imgs), classifyChunk)*m.outSize)
	res := make([][]Prediction, 0, len(imgs))
	for start := 0; start < len(imgs); start += classifyChunk {
		chunk := imgs[start:min(start+classifyChunk, len(imgs))]
		for i, img := range chunk {
			if err := m.preprocessInto(pp, in[i*per:(i+1)*per], img); err != nil {
				return nil, fmt.Errorf("lcnet: classify: image %d: %w", start+i, err)
			}
		}
		n := len(chunk)
		if err := m.RunContext(ctx, in[:n*per], n, out[:n*m.outSize]); err != nil {
			return nil, err
		}
		p, err := m.TopK(out[:n*m.outSize], n, k)
		if err != nil {
			return nil, err
		}
		res = append(res, p...)
	}
	return res, nil
}

// preprocessInto checks that img makes a tensor of the model's input size
// and writes it into dst.
func (m *Model) preprocessInto(pp *preprocess.Preprocessor, dst []float32, img *preprocess.Image) error {
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.Pix) != 3*img.W*img.H {
		return fmt.Errorf("%w: nil or malformed image", ErrInput)
	}
	n, err := pp.Len(img.W, img.H)
	if err != nil {
		return err
	}
	if n != len(dst) {
		in := m.src.InputShape()
		return fmt.Errorf("%w: a %dx%d image preprocesses to %d values, the model takes %v = %d", ErrInput, img.W, img.H, n, in, len(dst))
	}
	return pp.Into(dst, img)
}

// ClassifyFile decodes an image file (within the default preprocess.Limits)
// and classifies it.
func (m *Model) ClassifyFile(path string, k int) ([]Prediction, error) {
	img, err := readImage(path, preprocess.Limits{}, nil, nil)
	if err != nil {
		return nil, err
	}
	p, err := m.Classify([]*preprocess.Image{img}, k)
	if err != nil {
		return nil, err
	}
	return p[0], nil
}

// ClassifyOptions tune ClassifyFiles. The zero value is the default.
type ClassifyOptions struct {
	// TopK as for Classify (k <= 0: the model's default).
	TopK int
	// Batch is the number of images per model run (default 8).
	Batch int
	// Workers is the number of goroutines reading, decoding, preprocessing
	// and running batches (default GOMAXPROCS). Runs of different workers
	// overlap; the model's Options.MaxInstances bounds how many run at once.
	Workers int
	// Limits bound each file's encoded size and decoded pixel count.
	Limits preprocess.Limits
}

// FileResult is the outcome for one file of ClassifyFiles: Top, or Err
// when the file could not be classified (ErrNotImage, or wrapping one of
// preprocess's errors: ErrFormat, ErrTooLarge, ErrBadSize).
type FileResult struct {
	Index int // position in the paths given to ClassifyFiles
	Path  string
	Top   []Prediction
	Err   error
}

// ClassifyStats summarises a ClassifyFiles call. Durations are summed over
// the workers (CPU-side time, not wall time).
type ClassifyStats struct {
	Files, Failed int
	Batches       int
	Read          time.Duration // opening and reading files
	Decode        time.Duration // decoding into RGB
	Preprocess    time.Duration // resize, crop, normalise
	Infer         time.Duration // model runs and top-k
}

// ClassifyFiles classifies image files with Workers goroutines, each
// reading, decoding and preprocessing files into batches of up to Batch
// images and running them (a worker that finds no file waiting runs what
// it has). emit is called once per path, in the order of paths, from one
// goroutine; when it returns an error ClassifyFiles stops and returns it.
// A file that fails does not stop the others: its FileResult carries the
// error. Memory is bounded: each worker holds one batch and one decoded
// image (at most Limits.MaxPixels) at a time, and at most a few batches of
// finished results wait for an earlier file.
func (m *Model) ClassifyFiles(ctx context.Context, paths []string, o *ClassifyOptions, emit func(FileResult) error) (ClassifyStats, error) {
	var opt ClassifyOptions
	if o != nil {
		opt = *o
	}
	if opt.Batch <= 0 {
		opt.Batch = 8
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	opt.Workers = max(1, min(opt.Workers, len(paths)))
	var stats ClassifyStats
	cfg, err := m.PreprocessConfig()
	if err != nil {
		return stats, err
	}
	if _, err := m.TopK(make([]float32, m.outSize), 1, opt.TopK); err != nil {
		return stats, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	window := 4 * opt.Workers * opt.Batch // results allowed ahead of the oldest unreported one
	slots := make(chan struct{}, window)
	jobs := make(chan fileJob, opt.Workers*opt.Batch)
	results := make(chan FileResult, window)

	go func() { // producer
		defer close(jobs)
		for i, p := range paths {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- fileJob{i, p}:
			case <-ctx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	var smu sync.Mutex
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := fileWorker{m: m, pp: cfg.NewPreprocessor(), lim: opt.Limits, k: opt.TopK, batch: opt.Batch}
			w.in = make([]float32, opt.Batch*m.inSize)
			w.out = make([]float32, opt.Batch*m.outSize)
			send := func(r FileResult) bool {
				select {
				case results <- r:
					return true
				case <-ctx.Done():
					return false
				}
			}
			w.loop(ctx, jobs, send)
			smu.Lock()
			stats.Read += w.st.Read
			stats.Decode += w.st.Decode
			stats.Preprocess += w.st.Preprocess
			stats.Infer += w.st.Infer
			stats.Batches += w.st.Batches
			smu.Unlock()
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// Reorder and emit.
	pending := map[int]FileResult{}
	next := 0
	var emitErr error
	for r := range results {
		if emitErr != nil {
			continue // drain
		}
		pending[r.Index] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			stats.Files++
			if r.Err != nil {
				stats.Failed++
			}
			if err := emit(r); err != nil {
				emitErr = err
				cancel()
				break
			}
		}
	}
	if emitErr != nil {
		return stats, emitErr
	}
	if next < len(paths) {
		if err := ctx.Err(); err != nil {
			return stats, fmt.Errorf("lcnet: classify: %w", err)
		}
		return stats, fmt.Errorf("lcnet: classify: internal error: %d of %d results", next, len(paths))
	}
	return stats, nil
}

// fileWorker is one ClassifyFiles goroutine's state.
type fileWorker struct {
	m       *Model
	pp      *preprocess.Preprocessor
	dec     preprocess.Decoder
	buf     bytes.Buffer
	lim     preprocess.Limits
	k       int
	batch   int
	in, out []float32
	held    []FileResult // the samples in in, Top not yet set
	st      ClassifyStats
}

type fileJob struct {
	i    int
	path string
}

func (w *fileWorker) loop(ctx context.Context, jobs <-chan fileJob, send func(FileResult) bool) {
	w.dec.Limits = w.lim
	for {
		var j fileJob
		var ok bool
		if len(w.held) == 0 {
			select {
			case j, ok = <-jobs:
			case <-ctx.Done():
				return
			}
		} else {
			select {
			case j, ok = <-jobs:
			default:
				if !w.flush(ctx, send) {
					return
				}
				continue
			}
		}
		if !ok {
			w.flush(ctx, send)
			return
		}
		r := FileResult{Index: j.i, Path: j.path}
		if r.Err = w.prepare(j.path); r.Err != nil {
			if !send(r) {
				return
			}
			continue
		}
		w.held = append(w.held, r)
		if len(w.held) == w.batch && !w.flush(ctx, send) {
			return
		}
	}
}

// prepare reads, decodes and preprocesses one file into the next sample
// slot of w.in.
func (w *fileWorker) prepare(path string) error {
	t0 := time.Now()
	b, err := readFileLimited(path, w.lim, &w.buf)
	t1 := time.Now()
	w.st.Read += t1.Sub(t0)
	if err != nil {
		return err
	}
	img, err := w.dec.Decode(b)
	t2 := time.Now()
	w.st.Decode += t2.Sub(t1)
	if err != nil {
		return err
	}
	per := w.m.inSize
	n := len(w.held)
	err = w.m.preprocessInto(w.pp, w.in[n*per:(n+1)*per], img)
	w.st.Preprocess += time.Since(t2)
	return err
}

// flush runs the held samples and sends their results; false when ctx
// ended.
func (w *fileWorker) flush(ctx context.Context, send func(FileResult) bool) bool {
	n := len(w.held)
	if n == 0 {
		return true
	}
	t0 := time.Now()
	out := w.out[:n*w.m.outSize]
	err := w.m.RunContext(ctx, w.in[:n*w.m.inSize], n, out)
	var top [][]Prediction
	if err == nil {
		top, err = w.m.TopK(out, n, w.k)
	}
	w.st.Infer += time.Since(t0)
	w.st.Batches++
	for i := range w.held {
		r := w.held[i]
		if err != nil {
			r.Err = err
		} else {
			r.Top = top[i]
		}
		if !send(r) {
			return false
		}
	}
	w.held = w.held[:0]
	return true
}

// readImage reads and decodes one image file (dec and buf may be nil).
func readImage(path string, lim preprocess.Limits, dec *preprocess.Decoder, buf *bytes.Buffer) (*preprocess.Image, error) {
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	b, err := readFileLimited(path, lim, buf)
	if err != nil {
		return nil, err
	}
	if dec == nil {
		return preprocess.DecodeBytes(b, lim)
	}
	return dec.Decode(b)
}

// readFileLimited reads a file into buf, refusing empty files, files over
// lim.MaxBytes and files that do not start like an image.
func readFileLimited(path string, lim preprocess.Limits, buf *bytes.Buffer) ([]byte, error) {
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = preprocess.DefaultMaxBytes
	}
	// Stat before opening: opening a FIFO would block.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrNotImage, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() == 0 {
		return nil, fmt.Errorf("lcnet: empty file: %w", preprocess.ErrFormat)
	}
	if st.Size() > maxBytes {
		return nil, fmt.Errorf("lcnet: file is %d bytes, limit %d: %w", st.Size(), maxBytes, preprocess.ErrTooLarge)
	}
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(f, maxBytes+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("lcnet: file is over %d bytes: %w", maxBytes, preprocess.ErrTooLarge)
	}
	if ImageFormat(b) == "" {
		return nil, ErrNotImage
	}
	return b, nil
}

// ImageFormat names the image format head starts with ("jpeg", "png",
// "gif", "bmp", "tiff", "webp": the formats preprocess decodes), or "".
func ImageFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return "jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 18 && bmpInfoSize(head[14:18]):
		return "bmp"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "tiff"
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return "webp"
	}
	return ""
}

// bmpInfoSize reports whether b (little-endian) is the size of one of the
// BMP info headers (BITMAPCOREHEADER ... BITMAPV5HEADER).
func bmpInfoSize(b []byte) bool {
	switch uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 {
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}
