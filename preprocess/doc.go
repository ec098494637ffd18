// Package preprocess turns encoded images into the float32 NCHW tensors that
// PaddleClas and PaddleX feed PP-LCNet classifiers, reproducing their
// OpenCV-based pipeline bit for bit where that is possible:
//
//   - [Decode] reads JPEG, PNG, GIF (first frame), BMP, TIFF and WebP into an
//     8-bit interleaved RGB [Image], the way cv2.imread(path, IMREAD_COLOR)
//     does: grey is replicated to three channels, alpha is dropped (not
//     composited), 16-bit samples keep their high byte, palettes are
//     expanded and the EXIF orientation of JPEG and PNG files is applied.
//     Image size is checked against [Limits] before any pixel memory is
//     allocated.
//   - [Resize] is cv2.resize on uint8 with INTER_LINEAR (11-bit fixed-point
//     weights, OpenCV's exact rounding) or INTER_NEAREST.
//   - [Config] holds a model's preprocessing (PaddleClas / PaddleX
//     inference.yml: ResizeImage, CropImage, NormalizeImage, ToCHWImage) and
//     its labels; [Preprocessor] runs it into a caller-provided buffer
//     without allocating in steady state.
//
// JPEG decoding uses libjpeg-turbo through the cgo package dnn/turbojpeg when
// it is available (cgo && !purego) and then matches OpenCV exactly. Built
// without it, Go's image/jpeg is used, whose IDCT and chroma upsampling differ
// from libjpeg-turbo: up to 3 grey levels on 4:4:4 images and tens of levels
// at colour edges of 4:2:0 / 4:2:2 images. See [JPEGDecoder].
package preprocess
