/*
 * lcn_st8.h: an int8 direct convolution kernel for few input channels (the
 * stem of PP-LCNet: 3 channels, 3x3, stride 2), s8 NHWC in, s8 or fp32 NHWC
 * out, for the int8 chain, where oneDNN 2.6's int8 kernel pads the channels
 * and reaches a fraction of the VNNI peak.
 *
 * Semantics per image (input [H][W][C] s8, output [OH][OW][OC]):
 *   acc[o] = sum_{ky,kx,c} x[oy*sh-pt+ky][ox*sw-pl+kx][c] * wq[o][c][ky][kx]  (int32, pads read 0)
 *   ws[o]  = 127 / max|w[o]| (1 when all zero), wq = sat_s8(rint(w * ws[o]))
 *   then the epilogue of lcn_dw8.h (lcn_q8epi.h): v = fma(acc, M[o], A[o]),
 *   relu or hardswish, s8 output y = sat_s8(rint(min(v, 127))), fp32 output v.
 * The AVX-512 VNNI kernel and the portable scalar reference give the same
 * bits (same float operations in the same order).
 *
 * The kernel needs C * KW <= 16 (one kernel row of one output pixel is at
 * most 16 contiguous input bytes) and KH <= 16.
 */
#ifndef LCN_ST8_H
#define LCN_ST8_H

#include <stddef.h>
#include <stdint.h>

#include "lcn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lcn_st8_desc {
    int c, h, w;        /* input channels and size per image */
    int oc;             /* output channels */
    int kh, kw, sh, sw; /* kernel and strides (>= 1) */
    int pt, pl, pb, pr; /* pads (>= 0) */
    int act;            /* LCN_ACT_NONE, LCN_ACT_RELU or LCN_ACT_HARDSWISH */
    int out_f32;        /* 1: fp32 output; 0: s8 requantized with s_y */
    int threads;        /* most OpenMP threads a run may use (>= 1) */
} lcn_st8_desc;

typedef struct lcn_st8 lcn_st8;

/* Whether the kernel takes this shape (C * KW <= 16, KH <= 16, ...). */
int lcn_st8_fits(const lcn_st8_desc *d);

/* Prepares a kernel: w is [oc][c][kh][kw] fp32 (OIHW), b NULL or oc floats;
 * s_x the input scale, s_y the output scale (ignored for fp32 output). */
lcn_status lcn_st8_create(const lcn_st8_desc *d, const float *w, const float *b, float s_x,
        float s_y, lcn_st8 **out, lcn_error *err);
void lcn_st8_destroy(lcn_st8 *k);

/* Output size per image. */
void lcn_st8_out_shape(const lcn_st8 *k, int *oh, int *ow);

/* Runs on n images: x is n x H x W x C s8, y n x OH x OW x OC (s8 or
 * fp32). nthr (1..threads) OpenMP threads split the output rows. */
void lcn_st8_run(const lcn_st8 *k, const int8_t *x, void *y, long n, int nthr);

/* The portable scalar version (the reference; the fallback without VNNI). */
void lcn_st8_run_ref(const lcn_st8 *k, const int8_t *x, void *y, long n);

/* Whether lcn_st8_run uses the AVX-512 VNNI kernel. */
int lcn_st8_vnni(void);

/* Tests: force the scalar fallback (1) or back to automatic (0). */
void lcn_st8_force_ref(int on);

#ifdef __cplusplus
}
#endif
#endif
