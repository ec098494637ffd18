/*
 * lcn_pw8.h: an int8 pointwise (1x1, stride 1, no padding) convolution
 * kernel for the int8 chain (s8 NHWC in, s8 or fp32 NHWC out), for the few
 * input channels of PP-LCNet's early 1x1 layers (16-64), where oneDNN 2.6's
 * int8 kernels reach a fraction of the VNNI peak.
 *
 * Semantics per pixel (input x[K] s8, output y[OC]):
 *   acc[o] = sum_k x[k] * wq[o][k]                                    (int32)
 *   ws[o]  = 127 / max_k |w[o][k]| (1 when all zero), wq = sat_s8(rint(w * ws[o]))
 *   then the epilogue of lcn_dw8.h: v = fma(acc, M[o], A[o]), relu or
 *   hardswish, s8 output y = sat_s8(rint(min(v, 127))), fp32 output v.
 * The AVX-512 VNNI kernel and the portable scalar reference give the same
 * bits (same float operations in the same order).
 */
#ifndef LCN_PW8_H
#define LCN_PW8_H

#include <stddef.h>
#include <stdint.h>

#include "lcn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lcn_pw8_desc {
    int k, oc;   /* input and output channels (k a multiple of 4) */
    int act;     /* LCN_ACT_NONE, LCN_ACT_RELU or LCN_ACT_HARDSWISH */
    int out_f32; /* 1: fp32 output; 0: s8 requantized with s_y */
    int threads; /* most OpenMP threads a run may use (>= 1) */
} lcn_pw8_desc;

typedef struct lcn_pw8 lcn_pw8;

/* Prepares a kernel: w is [oc][k] fp32, b NULL or oc floats; s_x the input
 * scale, s_y the output scale (ignored for fp32 output). */
lcn_status lcn_pw8_create(const lcn_pw8_desc *d, const float *w, const float *b, float s_x,
        float s_y, lcn_pw8 **out, lcn_error *err);
void lcn_pw8_destroy(lcn_pw8 *k);

/* Runs on npix pixels: x is npix x k s8, y npix x oc (s8 or fp32). nthr
 * (1..threads) OpenMP threads split the pixels. */
void lcn_pw8_run(const lcn_pw8 *k, const int8_t *x, void *y, long npix, int nthr);

/* The portable scalar version (the reference; the fallback without VNNI). */
void lcn_pw8_run_ref(const lcn_pw8 *k, const int8_t *x, void *y, long npix);

/* Whether lcn_pw8_run uses the AVX-512 VNNI kernel. */
int lcn_pw8_vnni(void);

/* Tests: force the scalar fallback (1) or back to automatic (0). */
void lcn_pw8_force_ref(int on);

#ifdef __cplusplus
}
#endif
#endif
