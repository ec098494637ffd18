/*
 * lcn_q8epi.h: what the int8 kernels of the chain (lcn_dw8, lcn_pw8) share:
 * the per-channel weight quantization and the epilogue of lcn_dw8.h, in
 * scalar form (the references; the AVX-512 kernels do the same float
 * operations in the same order).
 */
#ifndef LCN_Q8EPI_H
#define LCN_Q8EPI_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "lcn.h"

/* sat_s8(rint(v)) */
static inline int8_t lcn_q8_sat(float v) {
    float r = rintf(v);
    if (r > 127.f) return 127;
    if (r < -128.f) return -128;
    return (int8_t)r;
}

/* The weight scale of a channel whose largest |w| is m. */
static inline float lcn_q8_wscale(float m) { return m > 0.f ? 127.f / m : 1.f; }

/* Epilogue constants of one output channel (lcn_dw8.h): weight scale ws,
 * bias b, input scale s_x, output scale sy (1 for fp32 output). */
typedef struct lcn_q8epi {
    float M, A, G, H;
} lcn_q8epi;

static inline lcn_q8epi lcn_q8_epi(float ws, float b, float s_x, float sy) {
    float os = 1.f / (s_x * ws);
    lcn_q8epi e = {sy * os, b * sy, os / 6.f, b / 6.f + 0.5f};
    return e;
}

/* Whether v = fma(acc, M, A) may reach 2^30 for |acc| <= 128 * asum, where
 * the kernels clamp before converting to int32. */
static inline int lcn_q8_needs_clamp(int32_t asum, float M, float A) {
    return (double)asum * 128 * fabs(M) + fabs(A) >= 1073741824.0;
}

/* The scalar epilogue: y[off] (s8 or fp32) from the int32 sum acc. */
static inline void lcn_q8_epi_ref(int act, int out_f32, float M, float A, float G, float H, int32_t acc,
        void *y, size_t off) {
    float a = (float)acc;
    float v = fmaf(a, M, A);
    if (act == LCN_ACT_RELU) v = fmaxf(v, 0.f);
    else if (act == LCN_ACT_HARDSWISH) {
        float g = fmaf(a, G, H);
        g = fminf(fmaxf(g, 0.f), 1.f);
        v = v * g;
    }
    if (out_f32) {
        ((float *)y)[off] = v;
        return;
    }
    v = fminf(v, 127.f);
    float r = rintf(v);
    ((int8_t *)y)[off] = r < -128.f ? (int8_t)-128 : (int8_t)r;
}

#endif
