package preprocess

import (
	"fmt"
)

// Preprocessor runs a Config on images, reusing its scratch memory between
// calls. It is not safe for concurrent use; make one per goroutine.
type Preprocessor struct {
	cfg *Config
	rs  resizer
	pix []uint8 // resized (and cropped) RGB window
	// lut[k][v] is the normalised value of 8-bit value v in tensor channel k.
	lut [3][256]float32
}

// NewPreprocessor returns a Preprocessor for c. The Config must not be
// changed while the Preprocessor is in use.
func (c *Config) NewPreprocessor() *Preprocessor {
	p := &Preprocessor{cfg: c}
	for k := 0; k < 3; k++ {
		var f func(uint8) float32
		switch nm := c.Normalize; {
		case nm == nil:
			f = func(v uint8) float32 { return float32(v) }
		case c.Formula == PaddleXFormula:
			// PaddleX: Python floats scale/std and -mean/std applied to
			// a float32 array, i.e. rounded to float32.
			a, b := float32(nm.Scale/nm.Std[k]), float32(-nm.Mean[k]/nm.Std[k])
			f = func(v uint8) float32 { return float32(float32(v)*a) + b }
		default:
			// PaddleClas: (img.astype('float32') * np.float32(scale) -
			// mean) / std with mean and std cast to float32. The
			// explicit conversion stops the multiply-subtract from
			// being fused.
			s, m, d := float32(nm.Scale), float32(nm.Mean[k]), float32(nm.Std[k])
			f = func(v uint8) float32 { return (float32(float32(v)*s) - m) / d }
		}
		for v := range p.lut[k] {
			p.lut[k][v] = f(uint8(v))
		}
	}
	return p
}

// Preprocess returns the tensor for one image: [C, H, W] (or [H, W, C]
// without ToCHWImage) as a flat slice.
func (c *Config) Preprocess(img *Image) ([]float32, error) {
	return c.NewPreprocessor().Batch([]*Image{img})
}

// InputSize is Config.InputSize.
func (p *Preprocessor) InputSize() (h, w int) { return p.cfg.InputSize() }

// Len returns the number of float32 values the tensor of a w x h image
// takes.
func (p *Preprocessor) Len(w, h int) (int, error) {
	oh, ow, err := p.cfg.OutputSize(w, h)
	if err != nil {
		return 0, err
	}
	return p.cfg.Channels() * oh * ow, nil
}

// Batch preprocesses images of one output size into a new N*C*H*W (or
// N*H*W*C) slice.
func (p *Preprocessor) Batch(imgs []*Image) ([]float32, error) {
	if len(imgs) == 0 {
		return nil, fmt.Errorf("preprocess: empty batch: %w", ErrBadSize)
	}
	if err := imgs[0].check(); err != nil {
		return nil, err
	}
	n, err := p.Len(imgs[0].W, imgs[0].H)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n*len(imgs))
	for i, img := range imgs {
		if err := p.Into(out[i*n:(i+1)*n], img); err != nil {
			return nil, fmt.Errorf("preprocess: batch item %d: %w", i, err)
		}
	}
	return out, nil
}

// Into writes the tensor of img into dst, which must hold exactly Len(img.W,
// img.H) values. In steady state (same sizes) it does not allocate.
func (p *Preprocessor) Into(dst []float32, img *Image) error {
	if err := img.check(); err != nil {
		return err
	}
	c := p.cfg
	oh, ow, err := c.OutputSize(img.W, img.H)
	if err != nil {
		return err
	}
	ch := c.Channels()
	if len(dst) != ch*oh*ow {
		return fmt.Errorf("preprocess: destination holds %d values, need %d (%dx%dx%d): %w", len(dst), ch*oh*ow, ch, oh, ow, ErrBadSize)
	}

	// Resize to rw x rh, of which the window (x0, y0, ow, oh) is kept:
	// PaddleClas' CropImage starts at ((w-cw)//2, (h-ch)//2).
	rw, rh := img.W, img.H
	interp := Linear
	if c.Resize != nil {
		rw, rh = c.Resize.TargetSize(img.W, img.H)
		interp = c.Resize.Interp
	}
	x0, y0 := (rw-ow)/2, (rh-oh)/2
	var pix []uint8
	if rw == img.W && rh == img.H && x0 == 0 && y0 == 0 && ow == img.W && oh == img.H {
		pix = img.Pix
	} else {
		n := 3 * ow * oh
		if cap(p.pix) < n {
			p.pix = make([]uint8, n)
		}
		pix = p.pix[:n]
		if err := p.rs.run(pix, img, rw, rh, x0, y0, ow, oh, interp); err != nil {
			return err
		}
	}
	p.normalize(dst, pix, ow, oh)
	return nil
}

// normalize converts the RGB window to float32, in the configured channel
// order, formula and layout.
func (p *Preprocessor) normalize(dst []float32, pix []uint8, w, h int) {
	c := p.cfg
	ch := c.Channels()
	hw := w * h
	if ch == 4 {
		// PaddleClas channel_num 4: a fourth, all-zero channel.
		if c.CHW {
			clear(dst[3*hw : 4*hw])
		}
	}
	for k := 0; k < 3; k++ {
		src := k // image channel feeding output channel k
		if c.Order == BGR {
			src = 2 - k
		}
		// mean[k] and std[k] belong to tensor channel k, whatever colour
		// it holds (PaddleClas with to_rgb=False normalises B with
		// mean[0]).
		lut := &p.lut[k]
		if c.CHW {
			plane := dst[k*hw : (k+1)*hw]
			for i := range plane {
				plane[i] = lut[pix[3*i+src]]
			}
		} else {
			for i := 0; i < hw; i++ {
				dst[ch*i+k] = lut[pix[3*i+src]]
			}
		}
	}
	if ch == 4 && !c.CHW {
		for i := 0; i < hw; i++ {
			dst[4*i+3] = 0
		}
	}
}

// PreprocessBatch decodes nothing: it preprocesses already decoded images
// into one N*C*H*W tensor. All images must produce the same output size.
func (c *Config) PreprocessBatch(imgs []*Image) ([]float32, error) {
	return c.NewPreprocessor().Batch(imgs)
}
