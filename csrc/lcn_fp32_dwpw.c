/*
 * lcn_fp32_dwpw.c: a fused depthwise conv + pointwise (1x1) conv kernel for
 * fp32 NHWC activations (AVX-512), the body of a PP-LCNet block without SE.
 *
 * oneDNN runs a block as two primitives: the depthwise conv writes its whole
 * output, the 1x1 conv reads it back. On the early, wide-spatial layers
 * (16-128 channels at 112x112..28x28) both are memory-bound. This kernel
 * computes one output row of the depthwise conv into a small buffer that
 * stays in L1 and immediately multiplies it by the 1x1 weights, so the
 * intermediate tensor never goes to memory. The plan build times it against
 * the oneDNN pair and keeps it only where it wins (see lcn_dnnl26.c).
 */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LCN_HAVE_DWPW 1
#define LCN_AVX512 __attribute__((target("avx512f,fma")))
#endif

int lcn_dwpw_supported(void) {
#ifdef LCN_HAVE_DWPW
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static int pad16(int x) { return (x + 15) / 16 * 16; }

void lcn_dwpw_free(lcn_dwpw *k) {
    if (!k) return;
    free(k->wdw);
    free(k->bdw);
    free(k->wpw);
    free(k->bpw);
    free(k);
}

lcn_dwpw *lcn_dwpw_new(const lcn_layer *dw, const lcn_layer *pw) {
    lcn_dwpw *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    int c = dw->ic, oc = pw->oc, kk = dw->d.kh * dw->d.kw;
    k->c = c, k->oc = oc, k->kh = dw->d.kh, k->kw = dw->d.kw;
    k->sh = dw->d.stride_h, k->sw = dw->d.stride_w, k->pt = dw->d.pad_t, k->pl = dw->d.pad_l;
    k->ih = dw->ih, k->iw = dw->iw, k->oh = dw->oh, k->ow = dw->ow;
    k->act1 = dw->d.act.kind, k->act2 = pw->d.act.kind;
    k->cpad = pad16(c), k->ocpad = pad16(oc);
    k->wdw = lcn_aligned_alloc(sizeof(float) * kk * k->cpad);
    k->bdw = lcn_aligned_alloc(sizeof(float) * k->cpad);
    k->wpw = lcn_aligned_alloc(sizeof(float) * (size_t)c * k->ocpad);
    k->bpw = lcn_aligned_alloc(sizeof(float) * k->ocpad);
    if (!k->wdw || !k->bdw || !k->wpw || !k->bpw) {
        lcn_dwpw_free(k);
        return NULL;
    }
    memset(k->wdw, 0, sizeof(float) * kk * k->cpad);
    memset(k->bdw, 0, sizeof(float) * k->cpad);
    memset(k->wpw, 0, sizeof(float) * (size_t)c * k->ocpad);
    memset(k->bpw, 0, sizeof(float) * k->ocpad);
    /* depthwise weights: [c][1][kh][kw] -> [kh*kw][cpad] */
    for (int ch = 0; ch < c; ch++)
        for (int t = 0; t < kk; t++) k->wdw[(size_t)t * k->cpad + ch] = dw->w[0][(size_t)ch * kk + t];
    if (dw->w[1])
        for (int ch = 0; ch < c; ch++) k->bdw[ch] = dw->w[1][ch];
    /* pointwise weights: [oc][c] -> [c][ocpad] */
    for (int o = 0; o < oc; o++)
        for (int ch = 0; ch < c; ch++) k->wpw[(size_t)ch * k->ocpad + o] = pw->w[0][(size_t)o * c + ch];
    if (pw->w[1])
        for (int o = 0; o < oc; o++) k->bpw[o] = pw->w[1][o];
    return k;
}

#ifdef LCN_HAVE_DWPW

LCN_AVX512 static inline __m512 act512(__m512 x, int act) {
    switch (act) {
        case LCN_ACT_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
        case LCN_ACT_HARDSWISH: {
            __m512 r = _mm512_add_ps(x, _mm512_set1_ps(3.f));
            r = _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(6.f));
            return _mm512_mul_ps(_mm512_mul_ps(x, r), _mm512_set1_ps(1.f / 6.f));
        }
        default: return x;
    }
}

/* One output row oy of the depthwise conv into buf [ow][cpad]. */
LCN_AVX512 static void dw_row(const lcn_dwpw *k, const float *src, int oy, float *buf) {
    const int c = k->c, cp = k->cpad, kh = k->kh, kw = k->kw, iw = k->iw, sw = k->sw;
    const int nb = cp / 16;
    const __mmask16 tail = (c % 16) ? (__mmask16)((1u << (c % 16)) - 1) : (__mmask16)0xffff;
    int kh0 = k->pt - oy * k->sh, kh1 = k->ih + k->pt - oy * k->sh;
    if (kh0 < 0) kh0 = 0;
    if (kh1 > kh) kh1 = kh;
    const int iy0 = oy * k->sh - k->pt;
    /* ox whose whole kernel row lies inside the input */
    int lo = (k->pl + sw - 1) / sw, hi = iw - kw + k->pl < 0 ? -1 : (iw - kw + k->pl) / sw;
    if (hi >= k->ow) hi = k->ow - 1;
    if (lo > hi + 1) lo = hi + 1;
    for (int ox = 0; ox < k->ow; ox++) {
        if (ox == lo) {
            /* interior, four pixels at a time */
            for (; ox + 3 <= hi; ox += 4) {
                for (int b = 0; b < nb; b++) {
                    __mmask16 m = b == nb - 1 ? tail : (__mmask16)0xffff;
                    __m512 bias = _mm512_load_ps(k->bdw + b * 16);
                    __m512 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    for (int y = kh0; y < kh1; y++) {
                        const float *row = src + ((size_t)(iy0 + y) * iw + (ox * sw - k->pl)) * c + b * 16;
                        const float *w = k->wdw + (size_t)y * kw * cp + b * 16;
                        for (int x = 0; x < kw; x++) {
                            __m512 wv = _mm512_load_ps(w + (size_t)x * cp);
                            const float *s = row + (size_t)x * c;
                            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s), wv, a0);
                            a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + (size_t)sw * c), wv, a1);
                            a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + (size_t)2 * sw * c), wv, a2);
                            a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + (size_t)3 * sw * c), wv, a3);
                        }
                    }
                    float *d = buf + (size_t)ox * cp + b * 16;
                    _mm512_store_ps(d, act512(a0, k->act1));
                    _mm512_store_ps(d + cp, act512(a1, k->act1));
                    _mm512_store_ps(d + 2 * cp, act512(a2, k->act1));
                    _mm512_store_ps(d + 3 * cp, act512(a3, k->act1));
                }
            }
            if (ox >= k->ow) break;
        }
        int ix0 = ox * sw - k->pl, kw0 = ix0 < 0 ? -ix0 : 0, kw1 = iw - ix0 < kw ? iw - ix0 : kw;
        for (int b = 0; b < nb; b++) {
            __mmask16 m = b == nb - 1 ? tail : (__mmask16)0xffff;
            __m512 a = _mm512_load_ps(k->bdw + b * 16);
            for (int y = kh0; y < kh1; y++) {
                const float *row = src + ((size_t)(iy0 + y) * iw + ix0) * c + b * 16;
                const float *w = k->wdw + (size_t)y * kw * cp + b * 16;
                for (int x = kw0; x < kw1; x++)
                    a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + (size_t)x * c),
                            _mm512_load_ps(w + (size_t)x * cp), a);
            }
            _mm512_store_ps(buf + (size_t)ox * cp + b * 16, act512(a, k->act1));
        }
    }
}

/* P pixels x V vectors of 16 output channels of the 1x1 conv. */
#define PW_TILE(P, V)                                                                     \
    LCN_AVX512 static inline void pw_tile_##P##_##V(const lcn_dwpw *k, const float *a,    \
            const float *w, const float *bias, float *d, __mmask16 last) {                \
        const int c = k->c, cp = k->cpad, ocp = k->ocpad, oc = k->oc;                     \
        __m512 acc[P][V];                                                                 \
        for (int v = 0; v < V; v++) {                                                     \
            __m512 b = _mm512_load_ps(bias + 16 * v);                                     \
            for (int p = 0; p < P; p++) acc[p][v] = b;                                    \
        }                                                                                 \
        for (int i = 0; i < c; i++) {                                                     \
            __m512 wv[V];                                                                 \
            for (int v = 0; v < V; v++) wv[v] = _mm512_load_ps(w + (size_t)i * ocp + 16 * v); \
            for (int p = 0; p < P; p++) {                                                 \
                __m512 x = _mm512_set1_ps(a[(size_t)p * cp + i]);                         \
                for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(x, wv[v], acc[p][v]); \
            }                                                                             \
        }                                                                                 \
        for (int p = 0; p < P; p++)                                                       \
            for (int v = 0; v < V; v++) {                                                 \
                __m512 r = act512(acc[p][v], k->act2);                                    \
                if (v == V - 1)                                                           \
                    _mm512_mask_storeu_ps(d + (size_t)p * oc + 16 * v, last, r);          \
                else                                                                      \
                    _mm512_storeu_ps(d + (size_t)p * oc + 16 * v, r);                     \
            }                                                                             \
    }
PW_TILE(6, 4)
PW_TILE(1, 4)
PW_TILE(8, 3)
PW_TILE(1, 3)
PW_TILE(12, 2)
PW_TILE(1, 2)
PW_TILE(12, 1)
PW_TILE(1, 1)

/* The 1x1 conv of one row: buf [ow][cpad] -> d [ow][oc]. */
LCN_AVX512 static void pw_row(const lcn_dwpw *k, const float *buf, float *d) {
    const int ocp = k->ocpad, oc = k->oc, cp = k->cpad, ow = k->ow;
    for (int o = 0; o < ocp; o += 64) {
        int nv = (ocp - o) / 16 < 4 ? (ocp - o) / 16 : 4;
        int rem = oc - (o + 16 * (nv - 1)); /* channels in the last vector */
        __mmask16 last = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
        const float *w = k->wpw + o, *bias = k->bpw + o;
        float *dd = d + o;
        int p = 0;
        switch (nv) {
            case 4:
                for (; p + 6 <= ow; p += 6) pw_tile_6_4(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                for (; p < ow; p++) pw_tile_1_4(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                break;
            case 3:
                for (; p + 8 <= ow; p += 8) pw_tile_8_3(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                for (; p < ow; p++) pw_tile_1_3(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                break;
            case 2:
                for (; p + 12 <= ow; p += 12) pw_tile_12_2(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                for (; p < ow; p++) pw_tile_1_2(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                break;
            default:
                for (; p + 12 <= ow; p += 12) pw_tile_12_1(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                for (; p < ow; p++) pw_tile_1_1(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last);
                break;
        }
    }
}

LCN_AVX512 static void dwpw_rows(const lcn_dwpw *k, const float *src, float *dst, long r0, long r1) {
    float *buf = __builtin_alloca(sizeof(float) * (size_t)k->ow * k->cpad + 64);
    buf = (float *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    size_t in_img = (size_t)k->ih * k->iw * k->c, out_img = (size_t)k->oh * k->ow * k->oc;
    for (long r = r0; r < r1; r++) {
        long b = r / k->oh;
        int oy = (int)(r % k->oh);
        dw_row(k, src + b * in_img, oy, buf);
        pw_row(k, buf, dst + b * out_img + (size_t)oy * k->ow * k->oc);
    }
}

void lcn_dwpw_run(const lcn_dwpw *k, const float *src, float *dst, int n, int nthr) {
    long rows = (long)n * k->oh;
    if (nthr <= 1 || rows < 2) {
        dwpw_rows(k, src, dst, 0, rows);
        return;
    }
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        long r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
        dwpw_rows(k, src, dst, r0, r1);
    }
}

#else

void lcn_dwpw_run(const lcn_dwpw *k, const float *src, float *dst, int n, int nthr) {
    (void)k, (void)src, (void)dst, (void)n, (void)nthr;
}

#endif
