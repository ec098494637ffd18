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
// JPEG decoding uses Go's image/jpeg, whose IDCT and chroma upsampling differ
// from libjpeg-turbo (what OpenCV uses): expect small differences on JPEG
// inputs; PNG and other lossless inputs match OpenCV exactly.
package preprocess
