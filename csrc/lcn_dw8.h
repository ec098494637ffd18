/*
 * lcn_dw8.h: an int8 depthwise convolution kernel (s8 NHWC in, s8 or fp32
 * NHWC out) for the int8 chain, faster than oneDNN 2.6's int8 depthwise.
 *
 * Semantics per image (input [H][W][C] s8, output [OH][OW][C]):
 *   acc[c] = sum_{ky,kx} x[oy*sh-pt+ky][ox*sw-pl+kx][c] * wq[c][ky][kx]  (int32, pad reads 0)
 *   ws[c]  = 127 / max|w[c]| (1 when all zero), wq = sat_s8(rint(w * ws[c]))
 *   s8 out:  v = fma(acc, M[c], A[c]) with M = s_y / (s_x*ws[c]), A = b[c]*s_y,
 *            relu: v = max(v, 0); hardswish: v *= clip(fma(acc, G[c], H[c]), 0, 1)
 *            with G = 1/(6*s_x*ws[c]), H = b[c]/6 + 0.5;  y = sat_s8(rint(min(v, 127)))
 *   f32 out: the same with s_y = 1 and no rounding.
 * The AVX-512 VNNI kernel and the portable scalar reference give the same
 * bits (same float operations in the same order).
 */
#ifndef LCN_DW8_H
#define LCN_DW8_H

#include <stddef.h>
#include <stdint.h>

#include "lcn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lcn_dw8_desc {
    int c, h, w;                 /* input per image */
    int kh, kw, sh, sw;          /* kernel and strides (>= 1) */
    int pt, pl, pb, pr;          /* pads (>= 0) */
    int act;                     /* LCN_ACT_NONE, LCN_ACT_RELU or LCN_ACT_HARDSWISH */
    int out_f32;                 /* 1: fp32 output act(v); 0: s8 requantized with s_y */
    int threads;                 /* most OpenMP threads a run may use (>= 1) */
} lcn_dw8_desc;

typedef struct lcn_dw8 lcn_dw8;

/* Prepares a kernel: w is [C][kh][kw] fp32 (OIHW grouped, 1 input channel
 * per group), b is NULL or C floats; s_x the input scale, s_y the output
 * scale (ignored for fp32 output). */
lcn_status lcn_dw8_create(const lcn_dw8_desc *d, const float *w, const float *b, float s_x,
        float s_y, lcn_dw8 **out, lcn_error *err);
void lcn_dw8_destroy(lcn_dw8 *k);

/* Output size per image. */
void lcn_dw8_out_shape(const lcn_dw8 *k, int *oh, int *ow);

/* Runs on n images: x is n x H x W x C s8, y n x OH x OW x C (s8 or fp32).
 * nthr (1..threads) OpenMP threads split the rows. */
void lcn_dw8_run(const lcn_dw8 *k, const int8_t *x, void *y, int n, int nthr);

/* The portable scalar version (the reference; the fallback without VNNI). */
void lcn_dw8_run_ref(const lcn_dw8 *k, const int8_t *x, void *y, int n);

/* Name of the kernel lcn_dw8_run uses: "avx512_vnni" or "ref". */
const char *lcn_dw8_isa(void);

/* Tests: force the scalar fallback (1) or back to automatic (0). */
void lcn_dw8_force_ref(int on);

/* Tests and benchmarks: oneDNN's int8 depthwise convolution built as the int8
 * chain builds it (s8 NHWC, per-channel output scales, eltwise post-op that
 * requantizes), on the same weights and scales. */
typedef struct lcn_dw8_dnnl lcn_dw8_dnnl;
lcn_status lcn_dw8_dnnl_create(const lcn_dw8_desc *d, int n, const float *w, const float *b,
        float s_x, float s_y, lcn_dw8_dnnl **out, lcn_error *err);
lcn_status lcn_dw8_dnnl_run(lcn_dw8_dnnl *h, const int8_t *x, void *y, lcn_error *err);
const char *lcn_dw8_dnnl_impl(const lcn_dw8_dnnl *h);
void lcn_dw8_dnnl_destroy(lcn_dw8_dnnl *h);

#ifdef __cplusplus
}
#endif
#endif
