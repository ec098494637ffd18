/*
 * lcn_fp32_stem.c: a direct convolution kernel for the first layer of a
 * network (few input channels, e.g. PP-LCNet's 3x3 stride-2 3->16 stem)
 * reading the user's NCHW input as it is and writing NHWC (AVX-512).
 *
 * oneDNN wants the input in NHWC for its stem kernel, so the engine first
 * transposes the image (a C loop), then runs brgconv. This kernel reads the
 * NCHW planes directly: each output channel vector is a sum over
 * ic x kh x kw broadcast input values, which needs no layout of its own.
 * The plan build times it against transpose + oneDNN and keeps the faster.
 */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_act512.h"
#include "lcn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LCN_HAVE_STEM 1
#define LCN_STEM_AVX512 __attribute__((target("avx512f,fma")))
#define LCN_STEM_INLINE static inline __attribute__((always_inline))
#endif

void lcn_stem_free(lcn_stem *k) {
    if (!k) return;
    free(k->w);
    free(k->b);
    free(k->zero);
    free(k);
}

lcn_stem *lcn_stem_new(const lcn_layer *L) {
    lcn_stem *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    const lcn_layer_desc *d = &L->d;
    int taps = L->ic * d->kh * d->kw;
    k->ic = L->ic, k->oc = L->oc, k->kh = d->kh, k->kw = d->kw;
    k->sh = d->stride_h, k->sw = d->stride_w, k->pt = d->pad_t, k->pl = d->pad_l;
    k->ih = L->ih, k->iw = L->iw, k->oh = L->oh, k->ow = L->ow;
    k->act = d->act.kind;
    k->ocpad = (L->oc + 15) / 16 * 16;
    k->avx2 = !lcn_avx512_supported();
    k->w = lcn_aligned_alloc(sizeof(float) * (size_t)taps * k->ocpad);
    k->b = lcn_aligned_alloc(sizeof(float) * k->ocpad);
    k->zero = calloc((size_t)k->iw + 16, sizeof(float));
    if (!k->w || !k->b || !k->zero) {
        lcn_stem_free(k);
        return NULL;
    }
    memset(k->w, 0, sizeof(float) * (size_t)taps * k->ocpad);
    memset(k->b, 0, sizeof(float) * k->ocpad);
    /* [oc][ic][kh][kw] -> [ic*kh*kw][ocpad] */
    for (int o = 0; o < k->oc; o++)
        for (int t = 0; t < taps; t++) k->w[(size_t)t * k->ocpad + o] = L->w[0][(size_t)o * taps + t];
    if (L->w[1])
        for (int o = 0; o < k->oc; o++) k->b[o] = L->w[1][o];
    return k;
}

#ifdef LCN_HAVE_STEM

/* P output pixels starting at ox (all taps inside the input horizontally;
 * rows [ky0, ky1) inside vertically) x V vectors of 16 output channels. */
/* A register tile acc[P][V] (P pixels x V vectors of 16 outputs) starts at
 * the bias and ends through the activation into d (oc floats a pixel, the
 * last vector masked by last). */
#define STEM_TILE_START(P, V)                                                                  \
    _Pragma("GCC unroll 16") for (int v = 0; v < V; v++) {                                     \
        __m512 b = _mm512_load_ps(k->b + 16 * v);                                              \
        _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) acc[p][v] = b;                    \
    }

#define STEM_TILE_END(P, V) LCN_TILE_STORE(acc, P, V, d, oc, last, act, 0.f, 0.f, 1.f)

#define STEM_TILE(P, V)                                                                        \
    LCN_STEM_AVX512 LCN_STEM_INLINE void stem_tile_##P##_##V(const lcn_stem *k,                \
            const float *src, int iy0, int ky0, int ky1, int ox, float *d, __mmask16 last,     \
            const int act) {                                                                   \
        const int ocp = k->ocpad, oc = k->oc, kw = k->kw, sw = k->sw, iw = k->iw;              \
        const size_t plane = (size_t)k->ih * iw;                                               \
        __m512 acc[P][V];                                                                      \
        STEM_TILE_START(P, V)                                                                  \
        const int ix0 = ox * sw - k->pl;                                                       \
        for (int c = 0; c < k->ic; c++)                                                        \
            for (int y = ky0; y < ky1; y++) {                                                  \
                const float *row = src + c * plane + (size_t)(iy0 + y) * iw + ix0;             \
                const float *w = k->w + ((size_t)(c * k->kh + y) * kw) * ocp;                  \
                for (int x = 0; x < kw; x++) {                                                 \
                    __m512 wv[V];                                                              \
                    _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                       \
                        wv[v] = _mm512_load_ps(w + (size_t)x * ocp + 16 * v);                  \
                    _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) {                     \
                        __m512 xv = _mm512_set1_ps(row[p * sw + x]);                           \
                        _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                   \
                            acc[p][v] = _mm512_fmadd_ps(xv, wv[v], acc[p][v]);                 \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        STEM_TILE_END(P, V)                                                                    \
    }
STEM_TILE(8, 1)
STEM_TILE(8, 2)
STEM_TILE(8, 3)
STEM_TILE(6, 4)

/* The common stem, 3 input channels and a 3x3 kernel with horizontal
 * stride SW, all known at compile time: rows[c*3 + y] is input row y of
 * the window in plane c (the zero row outside the input), so the 27 taps
 * unroll into constant offsets with no branch (the generic tile above
 * spends more instructions on its loops and addresses than on the FMAs). */
#define STEM33_TILE(P, V, SW)                                                                  \
    LCN_STEM_AVX512 LCN_STEM_INLINE void stem33_##P##_##V##_##SW(const lcn_stem *k,            \
            const float *const *rows, int ox, float *d, __mmask16 last, const int act) {       \
        const int ocp = k->ocpad, oc = k->oc;                                                  \
        __m512 acc[P][V];                                                                      \
        STEM_TILE_START(P, V)                                                                  \
        const int ix0 = ox * SW - k->pl;                                                       \
        _Pragma("GCC unroll 9") for (int t = 0; t < 9; t++) {                                  \
            const float *row = rows[t] + ix0;                                                  \
            const float *w = k->w + (size_t)t * 3 * ocp;                                       \
            _Pragma("GCC unroll 3") for (int x = 0; x < 3; x++) {                              \
                __m512 wv[V];                                                                  \
                _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                           \
                    wv[v] = _mm512_load_ps(w + (size_t)x * ocp + 16 * v);                      \
                _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) {                         \
                    __m512 xv = _mm512_set1_ps(row[p * SW + x]);                               \
                    _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                       \
                        acc[p][v] = _mm512_fmadd_ps(xv, wv[v], acc[p][v]);                     \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        STEM_TILE_END(P, V)                                                                    \
    }
/* P x V: at most 16 accumulators beside the V weight vectors (12 x 2 and
 * 8 x 3 left GCC spilling accumulators to the stack: x2.0's 3 -> 32 stem
 * ran at half the FMA rate of x1.0's 3 -> 16). Two vectors go 4 pixels at
 * a time: x2.0's stem 274 us vs 302 with 6 and 338-379 with 8, x1.5's 259
 * vs 270 with 8 (per-step medians of alternating `lcnet-bench layers`
 * runs); one vector stays at 12 pixels (8: 141 vs 113 us at x1.0, 16: 132
 * vs 112), three at 5 (x2.5: 3 pixels 370 vs 350, 4 394 vs 379, 6 378 vs
 * 353), and going vector by vector with the 12 x 1 tile was slower still
 * (x2.0 321, x2.5 484 vs 370 us). */
STEM33_TILE(12, 1, 1)
STEM33_TILE(12, 1, 2)
STEM33_TILE(4, 2, 1)
STEM33_TILE(4, 2, 2)
STEM33_TILE(5, 3, 1)
STEM33_TILE(5, 3, 2)
STEM33_TILE(4, 4, 1)
STEM33_TILE(4, 4, 2)

/* Interior pixels [ox, hi] of a 3x3, 3-channel stem row; returns the first
 * pixel left. */
LCN_STEM_AVX512 LCN_STEM_INLINE int stem33_row(const lcn_stem *k, const float *src, int iy0, int ox,
        int hi, float *d, __mmask16 last, int nv, const int act) {
    const float *rows[9];
    const size_t plane = (size_t)k->ih * k->iw;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 3; y++) {
            int iy = iy0 + y;
            rows[c * 3 + y] = iy >= 0 && iy < k->ih ? src + c * plane + (size_t)iy * k->iw : k->zero;
        }
    const int oc = k->oc;
#define STEM33_LOOP(P, V, SW)                                                                  \
    for (; ox + (P) - 1 <= hi; ox += (P)) stem33_##P##_##V##_##SW(k, rows, ox, d + (size_t)ox * oc, last, act)
    const int s1 = k->sw == 1;
    switch (nv) {
        case 1:
            if (s1) STEM33_LOOP(12, 1, 1); else STEM33_LOOP(12, 1, 2);
            break;
        case 2:
            if (s1) STEM33_LOOP(4, 2, 1); else STEM33_LOOP(4, 2, 2);
            break;
        case 3:
            if (s1) STEM33_LOOP(5, 3, 1); else STEM33_LOOP(5, 3, 2);
            break;
        default:
            if (s1) STEM33_LOOP(4, 4, 1); else STEM33_LOOP(4, 4, 2);
            break;
    }
#undef STEM33_LOOP
    return ox;
}

/* One pixel at the border: taps outside the input are skipped. */
LCN_STEM_AVX512 LCN_STEM_INLINE void stem_px(const lcn_stem *k, const float *src, int iy0, int ky0,
        int ky1, int ox, float *d, __mmask16 last, int nv, const int act) {
    const int ocp = k->ocpad, kw = k->kw, iw = k->iw;
    const size_t plane = (size_t)k->ih * iw;
    const int ix0 = ox * k->sw - k->pl, kx0 = ix0 < 0 ? -ix0 : 0, kx1 = iw - ix0 < kw ? iw - ix0 : kw;
    for (int v = 0; v < nv; v++) {
        __m512 a = _mm512_load_ps(k->b + 16 * v);
        for (int c = 0; c < k->ic; c++)
            for (int y = ky0; y < ky1; y++) {
                const float *row = src + c * plane + (size_t)(iy0 + y) * iw + ix0;
                const float *w = k->w + ((size_t)(c * k->kh + y) * kw) * ocp + 16 * v;
                for (int x = kx0; x < kx1; x++)
                    a = _mm512_fmadd_ps(_mm512_set1_ps(row[x]), _mm512_load_ps(w + (size_t)x * ocp), a);
            }
        a = lcn_act512(a, act, 0.f, 0.f);
        if (v == nv - 1)
            _mm512_mask_storeu_ps(d + 16 * v, last, a);
        else
            _mm512_storeu_ps(d + 16 * v, a);
    }
}

LCN_STEM_AVX512 LCN_STEM_INLINE void stem_row_t(const lcn_stem *k, const float *src, int oy, float *d,
        const int act) {
    const int oc = k->oc, ocp = k->ocpad, nv = ocp / 16, sw = k->sw, iw = k->iw, kw = k->kw;
    const int rem = oc - 16 * (nv - 1);
    const __mmask16 last = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
    const int iy0 = oy * k->sh - k->pt;
    int ky0 = -iy0 > 0 ? -iy0 : 0, ky1 = k->ih - iy0 < k->kh ? k->ih - iy0 : k->kh;
    int lo = (k->pl + sw - 1) / sw, hi = iw - kw + k->pl < 0 ? -1 : (iw - kw + k->pl) / sw;
    if (hi >= k->ow) hi = k->ow - 1;
    if (lo > k->ow) lo = k->ow;
    int ox = 0;
    for (; ox < lo; ox++) stem_px(k, src, iy0, ky0, ky1, ox, d + (size_t)ox * oc, last, nv, act);
    if (k->ic == 3 && k->kh == 3 && k->kw == 3 && (sw == 1 || sw == 2) && nv <= 4)
        ox = stem33_row(k, src, iy0, ox, hi, d, last, nv, act);
    switch (nv) {
        case 1:
            for (; ox + 7 <= hi; ox += 8) stem_tile_8_1(k, src, iy0, ky0, ky1, ox, d + (size_t)ox * oc, last, act);
            break;
        case 2:
            for (; ox + 7 <= hi; ox += 8) stem_tile_8_2(k, src, iy0, ky0, ky1, ox, d + (size_t)ox * oc, last, act);
            break;
        case 3:
            for (; ox + 7 <= hi; ox += 8) stem_tile_8_3(k, src, iy0, ky0, ky1, ox, d + (size_t)ox * oc, last, act);
            break;
        default:
            for (; ox + 5 <= hi; ox += 6) stem_tile_6_4(k, src, iy0, ky0, ky1, ox, d + (size_t)ox * oc, last, act);
            break;
    }
    for (; ox < k->ow; ox++) stem_px(k, src, iy0, ky0, ky1, ox, d + (size_t)ox * oc, last, nv, act);
}

LCN_STEM_AVX512 static void stem_row_none(const lcn_stem *k, const float *s, int oy, float *d) {
    stem_row_t(k, s, oy, d, LCN_ACT_NONE);
}
LCN_STEM_AVX512 static void stem_row_relu(const lcn_stem *k, const float *s, int oy, float *d) {
    stem_row_t(k, s, oy, d, LCN_ACT_RELU);
}
LCN_STEM_AVX512 static void stem_row_hswish(const lcn_stem *k, const float *s, int oy, float *d) {
    stem_row_t(k, s, oy, d, LCN_ACT_HARDSWISH);
}

static void stem_rows(const lcn_stem *k, const float *src, float *dst, long r0, long r1) {
    size_t in_img = (size_t)k->ic * k->ih * k->iw, out_row = (size_t)k->ow * k->oc;
    for (long r = r0; r < r1; r++) {
        long b = r / k->oh;
        int oy = (int)(r % k->oh);
        const float *s = src + b * in_img;
        float *d = dst + (size_t)r * out_row;
        if (k->avx2) {
            lcn_stem_row_avx2(k, s, oy, d);
            continue;
        }
        switch (k->act) {
            case LCN_ACT_RELU: stem_row_relu(k, s, oy, d); break;
            case LCN_ACT_HARDSWISH: stem_row_hswish(k, s, oy, d); break;
            default: stem_row_none(k, s, oy, d); break;
        }
    }
}

void lcn_stem_run(const lcn_stem *k, const float *src, float *dst, int n, int nthr) {
    long rows = (long)n * k->oh;
    if (nthr <= 1 || rows < 2) {
        stem_rows(k, src, dst, 0, rows);
        return;
    }
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        stem_rows(k, src, dst, rows * t / nt, rows * (t + 1) / nt);
    }
}

#else

void lcn_stem_run(const lcn_stem *k, const float *src, float *dst, int n, int nthr) {
    (void)k, (void)src, (void)dst, (void)n, (void)nthr;
}

#endif
