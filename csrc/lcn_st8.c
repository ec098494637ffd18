/*
 * lcn_st8.c: the int8 direct convolution kernel of lcn_st8.h.
 *
 * One output row at a time: the KH input rows it reads are copied into a
 * per-thread buffer, shifted to u8 (x + 128, a xor of the sign bit) with
 * the pads written as 128 (the s8 zero), so that one kernel row of an output
 * pixel is C*KW contiguous bytes at (ox*sw)*C. Those bytes are taken 4 at a
 * time (G = ceil(C*KW/4) groups; the bytes past C*KW meet zero weights): per
 * kernel row and group, one broadcast per pixel and one vpdpbusd per vector
 * of 16 outputs against weights packed [v][ky][g][16 outputs][4]. The
 * accumulators start at -128 * sum wq[o] to take the shift back out (a pad
 * byte, 128, then adds 128 * w, which the start takes out again: pads read 0).
 * A register tile is P pixels x V vectors; the epilogue is lcn_q8epi.h's.
 *
 * All statics are prefixed st8_: this file is compiled in one translation
 * unit with the other csrc files (dnn/csrc.c).
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_internal.h"
#include "lcn_q8epi.h"
#include "lcn_st8.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define ST8_X86 1
#define ST8_TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,bmi2,fma")))
#endif

struct lcn_st8 {
    lcn_st8_desc d;
    int oh, ow;
    int g;            /* 4-byte groups of one kernel row */
    int nv;           /* 16-channel output vectors */
    int rowb;         /* bytes of one padded u8 row in the buffer */
    int8_t *wq;       /* packed [nv][kh][g][16][4] */
    int8_t *wref;     /* [oc][c][kh][kw] */
    int32_t *comp;    /* [nv*16] = -128 * sum wq[o] */
    float *M, *A, *G, *H; /* [nv*16] epilogue constants (lcn_q8epi.h) */
    int clamp;        /* |v| may reach 2^30: clamp to [-128, 127] before converting */
    uint8_t *scratch; /* per thread: kh padded rows */
    size_t per;       /* bytes of one thread's scratch */
};

static int st8_forced_ref;

int lcn_st8_vnni(void) {
#ifdef ST8_X86
    return !st8_forced_ref && lcn_q8_avx512_vnni();
#else
    return 0;
#endif
}

void lcn_st8_force_ref(int on) { st8_forced_ref = on; }

int lcn_st8_fits(const lcn_st8_desc *d) {
    if (!d || d->c <= 0 || d->oc <= 0 || d->h <= 0 || d->w <= 0 || d->kh <= 0 || d->kw <= 0 ||
            d->sh <= 0 || d->sw <= 0 || d->pt < 0 || d->pl < 0 || d->pb < 0 || d->pr < 0 ||
            d->threads <= 0)
        return 0;
    if (d->c * d->kw > 16 || d->kh > 16 || d->oc > (1 << 16) || d->pt >= d->kh || d->pb >= d->kh ||
            d->pl >= d->kw || d->pr >= d->kw || d->h > (1 << 20) || d->w > (1 << 20))
        return 0;
    if (d->act != LCN_ACT_NONE && d->act != LCN_ACT_RELU && d->act != LCN_ACT_HARDSWISH) return 0;
    return d->h + d->pt + d->pb >= d->kh && d->w + d->pl + d->pr >= d->kw;
}

void lcn_st8_out_shape(const lcn_st8 *k, int *oh, int *ow) {
    *oh = k->oh;
    *ow = k->ow;
}

void lcn_st8_destroy(lcn_st8 *k) {
    if (!k) return;
    free(k->wq);
    free(k->wref);
    free(k->comp);
    free(k->M);
    free(k->scratch);
    free(k);
}

lcn_status lcn_st8_create(const lcn_st8_desc *d, const float *w, const float *b, float s_x,
        float s_y, lcn_st8 **out, lcn_error *err) {
    if (!d || !w || !out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "st8: nil argument");
    *out = NULL;
    if (!lcn_st8_fits(d))
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "st8: shape not supported (c=%d kw=%d kh=%d)",
                d->c, d->kw, d->kh);
    if (!(s_x > 0) || !isfinite(s_x) || (!d->out_f32 && (!(s_y > 0) || !isfinite(s_y))))
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "st8: scales %g %g", s_x, s_y);
    lcn_st8 *k = calloc(1, sizeof *k);
    if (!k) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    k->d = *d;
    int C = d->c, OC = d->oc, KH = d->kh, KW = d->kw, taps = C * KH * KW;
    k->oh = (d->h + d->pt + d->pb - KH) / d->sh + 1;
    k->ow = (d->w + d->pl + d->pr - KW) / d->sw + 1;
    k->g = (C * KW + 3) / 4;
    k->nv = (OC + 15) / 16;
    /* the last pixel reads up to 4*g bytes from ((ow-1)*sw)*C, within
     * (pl+w+pr)*C + 3 */
    k->rowb = ((d->pl + d->w + d->pr) * C + 4 + 63) / 64 * 64;
    size_t cp = (size_t)k->nv * 16;
    size_t wbytes = cp * (size_t)KH * k->g * 4;
    k->wq = lcn_aligned_alloc(wbytes);
    k->wref = malloc((size_t)OC * taps);
    k->comp = lcn_aligned_alloc(cp * sizeof *k->comp);
    k->M = lcn_aligned_alloc(4 * cp * sizeof *k->M);
    k->per = (size_t)KH * k->rowb;
    k->scratch = lcn_aligned_alloc(k->per * d->threads);
    if (!k->wq || !k->wref || !k->comp || !k->M || !k->scratch) {
        lcn_st8_destroy(k);
        return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    }
    k->A = k->M + cp, k->G = k->M + 2 * cp, k->H = k->M + 3 * cp;
    memset(k->wq, 0, wbytes);
    memset(k->comp, 0, cp * sizeof *k->comp);
    memset(k->M, 0, 4 * cp * sizeof *k->M);
    float sy = d->out_f32 ? 1.f : s_y;
    for (int o = 0; o < OC; o++) {
        const float *wo = w + (size_t)o * taps;
        float m = 0.f;
        for (int i = 0; i < taps; i++) m = fmaxf(m, fabsf(wo[i]));
        float ws = lcn_q8_wscale(m);
        int32_t sum = 0, asum = 0;
        int v = o / 16, lane = o % 16;
        for (int c = 0; c < C; c++)
            for (int ky = 0; ky < KH; ky++)
                for (int kx = 0; kx < KW; kx++) {
                    size_t i = ((size_t)c * KH + ky) * KW + kx;
                    int8_t q = lcn_q8_sat(wo[i] * ws);
                    k->wref[(size_t)o * taps + i] = q;
                    int t = kx * C + c; /* byte of the kernel row's window */
                    k->wq[((((size_t)v * KH + ky) * k->g + t / 4) * 16 + lane) * 4 + t % 4] = q;
                    sum += q;
                    asum += q < 0 ? -q : q;
                }
        k->comp[o] = -128 * sum;
        lcn_q8epi e = lcn_q8_epi(ws, b ? b[o] : 0.f, s_x, sy);
        k->M[o] = e.M, k->A[o] = e.A, k->G[o] = e.G, k->H[o] = e.H;
        if (lcn_q8_needs_clamp(asum, e.M, e.A)) k->clamp = 1;
    }
    *out = k;
    return LCN_OK;
}

/* ---- scalar reference ---- */

void lcn_st8_run_ref(const lcn_st8 *k, const int8_t *x, void *y, long n) {
    const lcn_st8_desc *d = &k->d;
    int C = d->c, OC = d->oc, KH = d->kh, KW = d->kw, taps = C * KH * KW;
    for (long img = 0; img < n; img++) {
        const int8_t *xi = x + (size_t)img * d->h * d->w * C;
        for (int oy = 0; oy < k->oh; oy++)
            for (int ox = 0; ox < k->ow; ox++) {
                size_t off = (((size_t)img * k->oh + oy) * k->ow + ox) * OC;
                for (int o = 0; o < OC; o++) {
                    const int8_t *wo = k->wref + (size_t)o * taps;
                    int32_t acc = 0;
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < KH; ky++) {
                            int iy = oy * d->sh - d->pt + ky;
                            if (iy < 0 || iy >= d->h) continue;
                            for (int kx = 0; kx < KW; kx++) {
                                int ix = ox * d->sw - d->pl + kx;
                                if (ix < 0 || ix >= d->w) continue;
                                acc += (int32_t)xi[((size_t)iy * d->w + ix) * C + c] *
                                       wo[((size_t)c * KH + ky) * KW + kx];
                            }
                        }
                    lcn_q8_epi_ref(d->act, d->out_f32, k->M[o], k->A[o], k->G[o], k->H[o], acc, y,
                            off + o);
                }
            }
    }
}

#ifdef ST8_X86

/* Input row iy of image xi into the padded u8 row r (rowb bytes). */
ST8_TGT static void st8_row(const lcn_st8 *k, const int8_t *xi, int iy, uint8_t *r) {
    const lcn_st8_desc *d = &k->d;
    int C = d->c;
    if (iy < 0 || iy >= d->h) {
        memset(r, 0x80, (size_t)k->rowb);
        return;
    }
    size_t left = (size_t)d->pl * C, n = (size_t)d->w * C;
    memset(r, 0x80, left);
    const int8_t *src = xi + (size_t)iy * n;
    uint8_t *dst = r + left;
    const __m512i s = _mm512_set1_epi8((char)0x80);
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), s));
    if (i < n) {
        __mmask64 m = _bzhi_u64(~0ULL, (unsigned)(n - i));
        _mm512_mask_storeu_epi8(dst + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + i), s));
    }
    memset(r + left + n, 0x80, (size_t)k->rowb - left - n);
}

/* P pixels x V vectors (from vector v0) of one output row: rows holds the
 * KH padded input rows, px the first pixel's byte offset in a row. */
#define ST8_TILE_FN(P, V)                                                                          \
    ST8_TGT static inline __attribute__((always_inline)) void st8_tile_##P##_##V(                   \
            const lcn_st8 *k, const uint8_t *rows, size_t px, int v0, void *y, size_t yoff,        \
            const int act, const int f32) {                                                        \
        const int KH = k->d.kh, OC = k->d.oc, G = k->g, rowb = k->rowb;                             \
        const size_t step = (size_t)k->d.sw * k->d.c;                                               \
        __m512i acc[P][V];                                                                          \
        LCN_Q8_TILE_START(P, V, acc, k, v0)                                                         \
        for (int ky = 0; ky < KH; ky++) {                                                           \
            const uint8_t *r = rows + (size_t)ky * rowb + px;                                       \
            for (int g = 0; g < G; g++) {                                                           \
                __m512i wv[V];                                                                      \
                _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                               \
                    wv[v] = _mm512_load_si512(k->wq + ((((size_t)(v0 + v) * KH + ky) * G + g) * 64)); \
                _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) {                             \
                    int32_t xs;                                                                     \
                    memcpy(&xs, r + (size_t)p * step + 4 * g, 4);                                   \
                    __m512i xb = _mm512_set1_epi32(xs);                                            \
                    _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                           \
                        LCN_DPBUSD(acc[p][v], xb, wv[v]);                      \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        LCN_Q8_TILE_END(P, V, acc, k, v0, y, yoff, OC, act, f32)                                    \
    }
ST8_TILE_FN(16, 1)
ST8_TILE_FN(1, 1)
ST8_TILE_FN(8, 2)
ST8_TILE_FN(1, 2)
ST8_TILE_FN(6, 3)
ST8_TILE_FN(1, 3)
ST8_TILE_FN(4, 4)
ST8_TILE_FN(1, 4)

#define ST8_COLS(P, V)                                                                             \
    {                                                                                              \
        int x = 0;                                                                                 \
        for (; x + P <= OW; x += P)                                                                \
            st8_tile_##P##_##V(k, rows, (size_t)x * step, v0, y, yrow + (size_t)x * OC, act, f32); \
        for (; x < OW; x++)                                                                        \
            st8_tile_1_##V(k, rows, (size_t)x * step, v0, y, yrow + (size_t)x * OC, act, f32);     \
    }

/* Output rows [r0, r1) of the n*OH rows; u: the thread's row buffer. */
#define ST8_RANGE(ACT, F32, NAME)                                                                  \
    ST8_TGT static void NAME(const lcn_st8 *k, const int8_t *x, void *y, long r0, long r1,        \
            uint8_t *rows) {                                                                        \
        const lcn_st8_desc *d = &k->d;                                                              \
        const int OW = k->ow, OC = d->oc, act = ACT, f32 = F32;                                     \
        const size_t step = (size_t)d->sw * d->c, img_in = (size_t)d->h * d->w * d->c;              \
        for (long r = r0; r < r1; r++) {                                                            \
            long img = r / k->oh;                                                                   \
            int oy = (int)(r % k->oh);                                                              \
            const int8_t *xi = x + (size_t)img * img_in;                                            \
            for (int ky = 0; ky < d->kh; ky++)                                                      \
                st8_row(k, xi, oy * d->sh - d->pt + ky, rows + (size_t)ky * k->rowb);               \
            size_t yrow = (size_t)r * OW * OC;                                                      \
            for (int v0 = 0; v0 < k->nv; v0 += 4) {                                                 \
                switch (k->nv - v0 < 4 ? k->nv - v0 : 4) {                                          \
                    case 4: ST8_COLS(4, 4) break;                                                   \
                    case 3: ST8_COLS(6, 3) break;                                                   \
                    case 2: ST8_COLS(8, 2) break;                                                   \
                    default: ST8_COLS(16, 1) break;                                                 \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }
LCN_Q8_VARIANTS(ST8_RANGE, st8)

static void st8_range(const lcn_st8 *k, const int8_t *x, void *y, long r0, long r1, uint8_t *u) {
    LCN_Q8_CALL(st8, k->d.act, k->d.out_f32, k, x, y, r0, r1, u)
}

void lcn_st8_run(const lcn_st8 *k, const int8_t *x, void *y, long n, int nthr) {
    if (!lcn_st8_vnni()) {
        lcn_st8_run_ref(k, x, y, n);
        return;
    }
    LCN_Q8_SPLIT(st8_range, k, x, y, n * k->oh, nthr, 2);
}

#else

void lcn_st8_run(const lcn_st8 *k, const int8_t *x, void *y, long n, int nthr) {
    (void)nthr;
    lcn_st8_run_ref(k, x, y, n);
}

#endif
