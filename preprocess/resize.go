package preprocess

import (
	"fmt"
	"math"
)

// Interpolation selects a resampling filter. The values mirror OpenCV's
// cv2.INTER_* flags that PaddleClas and PaddleX pass to cv2.resize.
type Interpolation int

const (
	// Linear is cv2.INTER_LINEAR on uint8 images: bilinear with half-pixel
	// centres, 11-bit fixed-point weights and no antialiasing. It is the
	// default of both PaddleClas and PaddleX.
	Linear Interpolation = iota
	// Nearest is cv2.INTER_NEAREST (floor of dst*src/dst, not half-pixel).
	Nearest
)

// String returns the OpenCV-style name of the interpolation.
func (i Interpolation) String() string {
	switch i {
	case Linear:
		return "linear"
	case Nearest:
		return "nearest"
	}
	return fmt.Sprintf("Interpolation(%d)", int(i))
}

// OpenCV's fixed-point resize constants (imgproc/src/resize.cpp).
const (
	resizeCoefBits  = 11
	resizeCoefScale = 1 << resizeCoefBits
)

// Resize returns img resized to w x h exactly as cv2.resize(img, (w, h),
// interpolation=...) does on an 8-bit, 3-channel image.
func Resize(img *Image, w, h int, interp Interpolation) (*Image, error) {
	if err := img.check(); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("preprocess: resize to %dx%d: %w", w, h, ErrBadSize)
	}
	out := &Image{W: w, H: h, Pix: make([]uint8, 3*w*h)}
	var r resizer
	if err := r.run(out.Pix, img, w, h, 0, 0, w, h, interp); err != nil {
		return nil, err
	}
	return out, nil
}

// resizer holds the coefficient tables and row buffers of one resize so that
// repeated calls reuse their memory.
type resizer struct {
	// Horizontal plan, per output column of the computed window (in bytes
	// of the interleaved source row: sx*3).
	xo0, xo1 []int32
	xa0, xa1 []int32
	// Vertical plan, per output row of the window.
	yr0, yr1 []int32
	yb0, yb1 []int32
	// Two horizontally resized rows (see hrow) and the source row each
	// holds (-1: none).
	rows   [2][]int32
	rowSrc [2]int
}

// run resizes src to a virtual dw x dh image and writes the window of it
// starting at (x0, y0) with size cw x ch into dst (interleaved RGB,
// stride 3*cw). Computing only the window gives the same pixels as
// resizing everything and cropping afterwards.
func (r *resizer) run(dst []uint8, src *Image, dw, dh, x0, y0, cw, ch int, interp Interpolation) error {
	if x0 < 0 || y0 < 0 || cw <= 0 || ch <= 0 || x0+cw > dw || y0+ch > dh {
		return fmt.Errorf("preprocess: window %dx%d+%d+%d outside %dx%d: %w", cw, ch, x0, y0, dw, dh, ErrBadSize)
	}
	if len(dst) < 3*cw*ch {
		return fmt.Errorf("preprocess: resize destination holds %d bytes, need %d: %w", len(dst), 3*cw*ch, ErrBadSize)
	}
	sw, sh := src.W, src.H
	if sw == dw && sh == dh {
		// cv2.resize copies when the size does not change.
		for y := 0; y < ch; y++ {
			copy(dst[3*cw*y:3*cw*(y+1)], src.Pix[3*(sw*(y0+y)+x0):3*(sw*(y0+y)+x0+cw)])
		}
		return nil
	}
	switch interp {
	case Linear:
		r.planLinear(sw, sh, dw, dh, x0, y0, cw, ch)
		r.linear(dst, src, cw, ch)
	case Nearest:
		resizeNearest(dst, src, dw, dh, x0, y0, cw, ch)
	default:
		return fmt.Errorf("preprocess: interpolation %v: %w", interp, ErrUnsupported)
	}
	return nil
}

// weight returns saturate_cast<short>(v * INTER_RESIZE_COEF_SCALE) for a
// float32 v, which rounds half to even like cvRound.
func weight(v float32) int32 {
	x := math.RoundToEven(float64(v * resizeCoefScale))
	if x > math.MaxInt16 {
		return math.MaxInt16
	}
	if x < math.MinInt16 {
		return math.MinInt16
	}
	return int32(x)
}

// coord returns OpenCV's (float)((d+0.5)*scale - 0.5) split into its floor
// and fractional part, both as OpenCV computes them.
func coord(d int, scale float64) (int, float32) {
	f := float32(float64((float64(d)+0.5)*scale) - 0.5)
	s := int(math.Floor(float64(f)))
	return s, f - float32(s)
}

func grow(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

func (r *resizer) planLinear(sw, sh, dw, dh, x0, y0, cw, ch int) {
	r.xo0, r.xo1 = grow(r.xo0, cw), grow(r.xo1, cw)
	r.xa0, r.xa1 = grow(r.xa0, cw), grow(r.xa1, cw)
	r.yr0, r.yr1 = grow(r.yr0, ch), grow(r.yr1, ch)
	r.yb0, r.yb1 = grow(r.yb0, ch), grow(r.yb1, ch)

	// inv_scale_x = (double)dsize.width/ssize.width; scale_x = 1./inv_scale_x
	scaleX := 1 / (float64(dw) / float64(sw))
	scaleY := 1 / (float64(dh) / float64(sh))

	for i := 0; i < cw; i++ {
		sx, fx := coord(x0+i, scaleX)
		if sx < 0 {
			sx, fx = 0, 0
		}
		if sx >= sw-1 {
			// Right border (and single-column sources): OpenCV uses
			// S[sx]*2048 there; weights (2048, 0) on the same pixel are
			// the same sum.
			sx, fx = sw-1, 0
		}
		sx1 := sx + 1
		if sx1 > sw-1 {
			sx1 = sw - 1
		}
		r.xo0[i], r.xo1[i] = int32(3*sx), int32(3*sx1)
		if sx == sw-1 {
			r.xa0[i], r.xa1[i] = resizeCoefScale, 0
		} else {
			r.xa0[i], r.xa1[i] = weight(1-fx), weight(fx)
		}
	}
	for i := 0; i < ch; i++ {
		sy, fy := coord(y0+i, scaleY)
		// The vertical weights are not clamped at the borders; the rows
		// are: clip(sy, 0, h) and clip(sy+1, 0, h).
		r.yr0[i], r.yr1[i] = int32(clampInt(sy, 0, sh-1)), int32(clampInt(sy+1, 0, sh-1))
		r.yb0[i], r.yb1[i] = weight(1-fy), weight(fy)
	}
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// hrow resizes source row sy horizontally into buf: OpenCV's int row
// (scaled by 2048) already shifted right by 4, the first thing its 8-bit
// vertical pass does with it.
func (r *resizer) hrow(buf []int32, src *Image, sy int) {
	row := src.Pix[3*src.W*sy : 3*src.W*(sy+1)]
	xo0, xo1, xa0, xa1 := r.xo0, r.xo1, r.xa0, r.xa1
	buf = buf[:3*len(xo0)]
	for i := range xo0 {
		o0, a0, a1 := int(xo0[i]), xa0[i], xa1[i]
		d := buf[3*i : 3*i+3 : 3*i+3]
		if o1 := int(xo1[i]); o1 == o0+3 {
			// Interior: the two source pixels are adjacent.
			p := row[o0 : o0+6 : o0+6]
			d[0] = (int32(p[0])*a0 + int32(p[3])*a1) >> 4
			d[1] = (int32(p[1])*a0 + int32(p[4])*a1) >> 4
			d[2] = (int32(p[2])*a0 + int32(p[5])*a1) >> 4
		} else {
			p0 := row[o0 : o0+3 : o0+3]
			p1 := row[o1 : o1+3 : o1+3]
			d[0] = (int32(p0[0])*a0 + int32(p1[0])*a1) >> 4
			d[1] = (int32(p0[1])*a0 + int32(p1[1])*a1) >> 4
			d[2] = (int32(p0[2])*a0 + int32(p1[2])*a1) >> 4
		}
	}
}

// row returns the horizontally resized source row sy, computing it into one
// of the two cached buffers if needed. keep is a buffer index not to evict.
func (r *resizer) row(src *Image, sy, keep int) ([]int32, int) {
	for k := 0; k < 2; k++ {
		if r.rowSrc[k] == sy {
			return r.rows[k], k
		}
	}
	k := 0
	if keep == 0 {
		k = 1
	}
	r.hrow(r.rows[k], src, sy)
	r.rowSrc[k] = sy
	return r.rows[k], k
}

func (r *resizer) linear(dst []uint8, src *Image, cw, ch int) {
	n := 3 * cw
	for k := range r.rows {
		if cap(r.rows[k]) < n {
			r.rows[k] = make([]int32, n)
		}
		r.rows[k] = r.rows[k][:n]
		r.rowSrc[k] = -1
	}
	for y := 0; y < ch; y++ {
		s0, k0 := r.row(src, int(r.yr0[y]), -1)
		s1, _ := r.row(src, int(r.yr1[y]), k0)
		b0, b1 := r.yb0[y], r.yb1[y]
		out := dst[n*y : n*(y+1) : n*(y+1)]
		s0 = s0[:n:n]
		s1 = s1[:n:n]
		// OpenCV's 8-bit vertical pass (VResizeLinear<uchar,int,short,...>
		// and its SIMD twin VResizeLinearVec_32s8u): both rows are shifted
		// right by 4 (done by hrow), multiplied with a 16x16->high-16
		// multiply, summed and rounded with (+2)>>2, saturating.
		for x := range out {
			v := ((b0*s0[x])>>16 + (b1*s1[x])>>16 + 2) >> 2
			out[x] = uint8(min(max(v, 0), 255))
		}
	}
}

// resizeNearest is cv2.INTER_NEAREST: sx = min(floor(dx*ifx), sw-1) with
// ifx = 1/(dw/sw).
func resizeNearest(dst []uint8, src *Image, dw, dh, x0, y0, cw, ch int) {
	ifx := 1 / (float64(dw) / float64(src.W))
	ify := 1 / (float64(dh) / float64(src.H))
	for y := 0; y < ch; y++ {
		sy := min(int(math.Floor(float64(y0+y)*ify)), src.H-1)
		row := src.Pix[3*src.W*sy:]
		out := dst[3*cw*y:]
		for x := 0; x < cw; x++ {
			sx := min(int(math.Floor(float64(x0+x)*ifx)), src.W-1)
			copy(out[3*x:3*x+3], row[3*sx:3*sx+3])
		}
	}
}
