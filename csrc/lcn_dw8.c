/*
 * lcn_dw8.c: int8 depthwise convolution (see lcn_dw8.h).
 *
 * The AVX-512 kernel works on blocks of 16 channels. Each input row it needs
 * is made into an "interleaved row" once: the row is copied with its pads
 * (16 bytes per position and channel block), then for every window start q
 * a vpermb turns the 64 bytes of positions q..q+3 into 16 lanes of 4 taps
 * of one channel, made unsigned (x ^ 0x80; 0x80 = real 0 in the pads). A
 * ring of kh such rows serves kh output rows. A VNNI vpdpbusd then does four
 * taps of one kernel row from one aligned load; the weights are packed the
 * same way (zero past kw). The +128 of the inputs is removed by starting the
 * accumulator at -128 * sum(wq[c]) (exact int32). A 3x3 row is one vpdpbusd,
 * a 5x5 row two. Output pixels go 4 at a time along W (one at a time for the
 * rest); the channel blocks are done in groups whose ring fits in L1.
 *
 * All statics are prefixed dw8_: this file is compiled in one translation
 * unit with the other csrc files (see ../dnn/csrc.c).
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "oneapi/dnnl/dnnl.h"
#include "oneapi/dnnl/dnnl_debug.h"

#include "lcn_dw8.h"
#include "lcn_q8epi.h"
#include "lcn_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define DW8_X86 1
#include <immintrin.h>
#define DW8_TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,fma")))
#endif

struct lcn_dw8 {
    lcn_dw8_desc d;
    int oh, ow;
    int ncb;         /* 16-channel blocks */
    int ng;          /* groups of 4 taps per kernel row: ceil(kw/4) */
    int wr;          /* positions in a padded row */
    int st;          /* step between the window starts kept: gcd(sw, 4) */
    int npos;        /* window starts per interleaved row */
    int clamp;       /* |v| may reach 2^30: clamp before converting */
    int gcb;         /* channel blocks per pass over the rows (the ring stays in L1) */
    int8_t *wq;      /* packed [ncb][kh][ng][16 ch][4 taps] */
    int8_t *wref;    /* [C][kh][kw] */
    int32_t *comp;   /* [ncb*16] = -128 * sum wq[c] */
    float *M, *A, *G, *H; /* [ncb*16] epilogue constants */
    uint8_t *padrow; /* ncb*npos*64 bytes of 0x80 (an interleaved row of padding) */
    uint8_t *scratch; /* per thread: a padded row [ncb][wr][16], then kh interleaved rows [ncb][npos][64] */
    size_t prow;     /* bytes of the padded row */
    size_t ring;     /* bytes of one thread's scratch */
};

static int dw8_forced_ref;

void lcn_dw8_force_ref(int on) { dw8_forced_ref = on; }

static int dw8_have_vnni(void) {
#ifdef DW8_X86
    return lcn_q8_avx512_vnni() && __builtin_cpu_supports("avx512vbmi"); /* vpermb */
#else
    return 0;
#endif
}

const char *lcn_dw8_isa(void) { return !dw8_forced_ref && dw8_have_vnni() ? "avx512_vnni" : "ref"; }

void lcn_dw8_out_shape(const lcn_dw8 *k, int *oh, int *ow) {
    *oh = k->oh;
    *ow = k->ow;
}

void lcn_dw8_destroy(lcn_dw8 *k) {
    if (!k) return;
    free(k->wq);
    free(k->wref);
    free(k->comp);
    free(k->M);
    free(k->padrow);
    free(k->scratch);
    free(k);
}


lcn_status lcn_dw8_create(const lcn_dw8_desc *d, const float *w, const float *b, float s_x,
        float s_y, lcn_dw8 **out, lcn_error *err) {
    if (!d || !w || !out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "dw8: nil argument");
    *out = NULL;
    if (d->c <= 0 || d->h <= 0 || d->w <= 0 || d->kh <= 0 || d->kw <= 0 || d->sh <= 0 ||
            d->sw <= 0 || d->pt < 0 || d->pl < 0 || d->pb < 0 || d->pr < 0 || d->threads <= 0)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "dw8: bad shape");
    if (d->act != LCN_ACT_NONE && d->act != LCN_ACT_RELU && d->act != LCN_ACT_HARDSWISH)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "dw8: activation %d", d->act);
    if (!(s_x > 0) || !isfinite(s_x) || (!d->out_f32 && (!(s_y > 0) || !isfinite(s_y))))
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "dw8: scales %g %g", s_x, s_y);
    int oh = (d->h + d->pt + d->pb - d->kh) / d->sh + 1;
    int ow = (d->w + d->pl + d->pr - d->kw) / d->sw + 1;
    if (d->h + d->pt + d->pb < d->kh || d->w + d->pl + d->pr < d->kw || oh <= 0 || ow <= 0)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "dw8: kernel larger than the padded input");
    lcn_dw8 *k = calloc(1, sizeof *k);
    if (!k) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    k->d = *d;
    k->oh = oh, k->ow = ow;
    int C = d->c, kh = d->kh, kw = d->kw, taps = kh * kw;
    k->ncb = (C + 15) / 16;
    k->ng = (kw + 3) / 4;
    k->wr = (ow - 1) * d->sw + 4 * k->ng;
    k->st = d->sw % 4 == 0 ? 4 : d->sw % 2 == 0 ? 2 : 1;
    k->npos = ((ow - 1) * d->sw + 4 * (k->ng - 1)) / k->st + 1;
    {
        /* the kh interleaved rows of a pass should fit in L1 with room for
         * the rest: about 24 KB (12, 24 and 36 KB measured alike; all
         * channel blocks at once is 10-15% slower on 5x5 256ch 14x14,
         * 3x3 64ch 56x56 and 3x3 128ch 28x28) */
        long budget = 24576;
        long per = (long)kh * k->npos * 64;
        k->gcb = (int)(budget / per);
        if (k->gcb < 1) k->gcb = 1;
        if (k->gcb > k->ncb) k->gcb = k->ncb;
    }
    size_t cp = (size_t)k->ncb * 16;
    k->wq = lcn_aligned_alloc((size_t)k->ncb * kh * k->ng * 64);
    k->wref = malloc((size_t)C * taps);
    k->comp = lcn_aligned_alloc(cp * sizeof *k->comp);
    k->M = lcn_aligned_alloc(4 * cp * sizeof *k->M);
    k->padrow = lcn_aligned_alloc((size_t)k->ncb * k->npos * 64);
    k->prow = ((size_t)k->gcb * k->wr * 16 + 64 + 63) / 64 * 64;
    k->ring = k->prow + (size_t)kh * k->gcb * k->npos * 64;
    k->scratch = lcn_aligned_alloc(k->ring * d->threads);
    if (!k->wq || !k->wref || !k->comp || !k->M || !k->padrow || !k->scratch) {
        lcn_dw8_destroy(k);
        return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    }
    k->A = k->M + cp, k->G = k->M + 2 * cp, k->H = k->M + 3 * cp;
    memset(k->wq, 0, (size_t)k->ncb * kh * k->ng * 64);
    memset(k->comp, 0, cp * sizeof *k->comp);
    memset(k->M, 0, 4 * cp * sizeof *k->M);
    memset(k->padrow, 0x80, (size_t)k->ncb * k->npos * 64);
    float sy = d->out_f32 ? 1.f : s_y;
    for (int c = 0; c < C; c++) {
        const float *wc = w + (size_t)c * taps;
        float m = 0.f;
        for (int t = 0; t < taps; t++) m = fmaxf(m, fabsf(wc[t]));
        float ws = lcn_q8_wscale(m);
        int32_t sum = 0, asum = 0;
        int cb = c / 16, cl = c % 16;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                int8_t q = lcn_q8_sat(wc[ky * kw + kx] * ws);
                k->wref[(size_t)c * taps + ky * kw + kx] = q;
                k->wq[(((size_t)cb * kh + ky) * k->ng + kx / 4) * 64 + cl * 4 + kx % 4] = q;
                sum += q;
                asum += q < 0 ? -q : q;
            }
        k->comp[c] = -128 * sum;
        lcn_q8epi e = lcn_q8_epi(ws, b ? b[c] : 0.f, s_x, sy);
        k->M[c] = e.M, k->A[c] = e.A, k->G[c] = e.G, k->H[c] = e.H;
        if (lcn_q8_needs_clamp(asum, e.M, e.A)) k->clamp = 1;
    }
    *out = k;
    return LCN_OK;
}

/* ---- scalar reference ---- */

static void dw8_epi_ref(const lcn_dw8 *k, int c, int32_t acc, void *y, size_t off) {
    lcn_q8_epi_ref(k->d.act, k->d.out_f32, k->M[c], k->A[c], k->G[c], k->H[c], acc, y, off);
}

void lcn_dw8_run_ref(const lcn_dw8 *k, const int8_t *x, void *y, int n) {
    const lcn_dw8_desc *d = &k->d;
    int C = d->c, H = d->h, W = d->w, kh = d->kh, kw = d->kw;
    for (int i = 0; i < n; i++)
        for (int oy = 0; oy < k->oh; oy++)
            for (int ox = 0; ox < k->ow; ox++)
                for (int c = 0; c < C; c++) {
                    int32_t acc = 0;
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * d->sh - d->pt + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * d->sw - d->pl + kx;
                            if (ix < 0 || ix >= W) continue;
                            acc += (int32_t)x[(((size_t)i * H + iy) * W + ix) * C + c] *
                                   k->wref[((size_t)c * kh + ky) * kw + kx];
                        }
                    }
                    dw8_epi_ref(k, c, acc, y, (((size_t)i * k->oh + oy) * k->ow + ox) * C + c);
                }
}

/* ---- AVX-512 VNNI ---- */
#ifdef DW8_X86

/* Padded row iy of image img, channel blocks cb0..cb1-1: [cb-cb0][wr][16]
 * s8, 0 in the pads and past C. */
DW8_TGT static void dw8_build_row(const lcn_dw8 *k, const int8_t *img, int iy, int cb0, int cb1,
        uint8_t *dst) {
    const lcn_dw8_desc *d = &k->d;
    const int C = d->c, W = d->w, pl = d->pl, wr = k->wr;
    const __m128i z = _mm_setzero_si128();
    const int8_t *src = img + (size_t)iy * W * C;
    const int x0 = pl < wr ? pl : wr, x1 = pl + W < wr ? pl + W : wr;
    for (int cb = cb0; cb < cb1; cb++) {
        uint8_t *dc = dst + (size_t)(cb - cb0) * wr * 16;
        const int8_t *sc = src + cb * 16;
        int rem = C - cb * 16;
        for (int xp = 0; xp < x0; xp++) _mm_store_si128((__m128i *)(dc + xp * 16), z);
        if (C == 16) {
            int xp = x0;
            for (; xp + 4 <= x1; xp += 4)
                _mm512_storeu_si512(dc + xp * 16, _mm512_loadu_si512(sc + (size_t)(xp - pl) * 16));
            for (; xp < x1; xp++)
                _mm_store_si128((__m128i *)(dc + xp * 16), _mm_loadu_si128((const __m128i *)(sc + (size_t)(xp - pl) * 16)));
        } else if (rem >= 16) {
            for (int xp = x0; xp < x1; xp++)
                _mm_store_si128((__m128i *)(dc + xp * 16), _mm_loadu_si128((const __m128i *)(sc + (size_t)(xp - pl) * C)));
        } else {
            __mmask16 m = (__mmask16)((1u << rem) - 1);
            for (int xp = x0; xp < x1; xp++)
                _mm_store_si128((__m128i *)(dc + xp * 16), _mm_maskz_loadu_epi8(m, sc + (size_t)(xp - pl) * C));
        }
        for (int xp = x1; xp < wr; xp++) _mm_store_si128((__m128i *)(dc + xp * 16), z);
    }
}

DW8_TGT static inline __m512i dw8_idx(void) {
    /* byte 4c+t <- byte 16t+c: four positions x 16 channels -> 16 lanes of 4 taps */
    return _mm512_set_epi8(63, 47, 31, 15, 62, 46, 30, 14, 61, 45, 29, 13, 60, 44, 28, 12, 59, 43,
            27, 11, 58, 42, 26, 10, 57, 41, 25, 9, 56, 40, 24, 8, 55, 39, 23, 7, 54, 38, 22, 6, 53, 37,
            21, 5, 52, 36, 20, 4, 51, 35, 19, 3, 50, 34, 18, 2, 49, 33, 17, 1, 48, 32, 16, 0);
}

/* Interleaved row from a padded row: ir[cb][q] = 4 positions q*st..q*st+3,
 * made unsigned (x ^ 0x80). */
DW8_TGT static void dw8_interleave(const lcn_dw8 *k, const uint8_t *prow, uint8_t *ir, int nb) {
    const __m512i idx = dw8_idx(), x80 = _mm512_set1_epi8((char)0x80);
    const int npos = k->npos, st = k->st;
    for (int cb = 0; cb < nb; cb++) {
        const uint8_t *pc = prow + (size_t)cb * k->wr * 16;
        uint8_t *ic = ir + (size_t)cb * npos * 64;
        for (int q = 0; q < npos; q++)
            _mm512_store_si512(ic + (size_t)q * 64, _mm512_xor_si512(x80,
                    _mm512_permutexvar_epi8(idx, _mm512_loadu_si512(pc + (size_t)q * st * 16))));
    }
}

/* act(v) of an accumulator (s_y included), clamped when needed for s8 */
#define DW8_VAL(acc, out)                                                             \
    do {                                                                              \
        __m512 a_ = _mm512_cvtepi32_ps(acc);                                          \
        __m512 v_ = _mm512_fmadd_ps(a_, M, A);                                        \
        if (act == LCN_ACT_RELU) v_ = _mm512_max_ps(v_, zero);                        \
        else if (act == LCN_ACT_HARDSWISH) {                                          \
            __m512 g_ = _mm512_fmadd_ps(a_, G, Hh);                                   \
            g_ = _mm512_min_ps(_mm512_max_ps(g_, zero), one);                         \
            v_ = _mm512_mul_ps(v_, g_);                                               \
        }                                                                             \
        if (!f32 && clamp) v_ = _mm512_min_ps(v_, c127);                              \
        out = v_;                                                                     \
    } while (0)

#define DW8_EPI(acc, dstp)                                                            \
    do {                                                                              \
        __m512 e_;                                                                    \
        DW8_VAL(acc, e_);                                                             \
        if (f32) _mm512_mask_storeu_ps((float *)(dstp), m, e_);                       \
        else _mm512_mask_cvtsepi32_storeu_epi8((int8_t *)(dstp), m, _mm512_cvtps_epi32(e_)); \
    } while (0)

/* One output row of one channel block; rows[ky] are interleaved rows. The
 * constant arguments specialise when inlined. */
DW8_TGT static inline __attribute__((always_inline)) void dw8_row(const lcn_dw8 *k,
        const uint8_t *const *rows, int cb, int cbi, char *yrow, int kh, int ng, int sw, int st,
        int act, int f32) {
    const int C = k->d.c, OW = k->ow, clamp = k->clamp;
    const size_t es = f32 ? 4 : 1, ps = (size_t)C * es;
    const size_t xs = (size_t)(sw / st) * 64, gs = (size_t)(4 / st) * 64;
    int rem = C - cb * 16;
    const __mmask16 m = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
    const int8_t *wp = k->wq + (size_t)cb * kh * ng * 64;
    const size_t cboff = (size_t)cbi * k->npos * 64;
    const __m512i comp = _mm512_load_si512(k->comp + cb * 16);
    const __m512 M = _mm512_load_ps(k->M + cb * 16), A = _mm512_load_ps(k->A + cb * 16);
    const __m512 G = _mm512_load_ps(k->G + cb * 16), Hh = _mm512_load_ps(k->H + cb * 16);
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f), c127 = _mm512_set1_ps(127.f);
    char *yp = yrow + (size_t)cb * 16 * es;
    const __m512i perm = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
#define DW8_BLOCK(OX, D1, D2, D3, O1, O2, O3, PACK)                                         \
    do {                                                                                    \
        __m512i a0 = comp, a1 = comp, a2 = comp, a3 = comp;                                 \
        for (int ky = 0; ky < kh; ky++) {                                                   \
            const uint8_t *r = rows[ky] + cboff + (size_t)(OX) * xs;                        \
            for (int g = 0; g < ng; g++) {                                                  \
                __m512i wv = _mm512_load_si512(wp + (ky * ng + g) * 64);                    \
                const uint8_t *rg = r + g * gs;                                             \
                LCN_DPBUSD(a0, _mm512_load_si512(rg), wv);                    \
                LCN_DPBUSD(a1, _mm512_load_si512(rg + (D1)), wv);             \
                LCN_DPBUSD(a2, _mm512_load_si512(rg + (D2)), wv);             \
                LCN_DPBUSD(a3, _mm512_load_si512(rg + (D3)), wv);             \
            }                                                                               \
        }                                                                                   \
        if (PACK) {                                                                         \
            __m512 v0, v1, v2, v3;                                                          \
            DW8_VAL(a0, v0);                                                                \
            DW8_VAL(a1, v1);                                                                \
            DW8_VAL(a2, v2);                                                                \
            DW8_VAL(a3, v3);                                                                \
            __m512i p01 = _mm512_packs_epi32(_mm512_cvtps_epi32(v0), _mm512_cvtps_epi32(v1)); \
            __m512i p23 = _mm512_packs_epi32(_mm512_cvtps_epi32(v2), _mm512_cvtps_epi32(v3)); \
            _mm512_storeu_si512(yp + (size_t)(OX) * 16,                                     \
                    _mm512_permutexvar_epi32(perm, _mm512_packs_epi16(p01, p23)));          \
        } else {                                                                            \
            DW8_EPI(a0, yp + (size_t)(OX) * ps);                                            \
            DW8_EPI(a1, yp + (size_t)(O1) * ps);                                            \
            DW8_EPI(a2, yp + (size_t)(O2) * ps);                                            \
            DW8_EPI(a3, yp + (size_t)(O3) * ps);                                            \
        }                                                                                   \
    } while (0)
    /* 4 pixels at a time, then one at a time */
    const int pack = !f32 && C == 16;
    int ox = 0;
    for (; ox + 4 <= OW; ox += 4) {
        if (pack) DW8_BLOCK(ox, xs, 2 * xs, 3 * xs, ox + 1, ox + 2, ox + 3, 1);
        else DW8_BLOCK(ox, xs, 2 * xs, 3 * xs, ox + 1, ox + 2, ox + 3, 0);
    }
    for (; ox < OW; ox++) {
        __m512i a0 = comp;
        for (int ky = 0; ky < kh; ky++) {
            const uint8_t *r = rows[ky] + cboff + (size_t)ox * xs;
            for (int g = 0; g < ng; g++)
                LCN_DPBUSD(a0, _mm512_load_si512(r + g * gs), _mm512_load_si512(wp + (ky * ng + g) * 64));
        }
        DW8_EPI(a0, yp + (size_t)ox * ps);
    }
#undef DW8_BLOCK
}

#define DW8_ACTS(KH, NG, SW, ST)                                                                   \
    switch (act * 2 + f32) {                                                                     \
        case 0: dw8_row(k, rows, cb, cbi, yrow, KH, NG, SW, ST, LCN_ACT_NONE, 0); break;              \
        case 1: dw8_row(k, rows, cb, cbi, yrow, KH, NG, SW, ST, LCN_ACT_NONE, 1); break;              \
        case 2: dw8_row(k, rows, cb, cbi, yrow, KH, NG, SW, ST, LCN_ACT_RELU, 0); break;              \
        case 3: dw8_row(k, rows, cb, cbi, yrow, KH, NG, SW, ST, LCN_ACT_RELU, 1); break;              \
        case 4: dw8_row(k, rows, cb, cbi, yrow, KH, NG, SW, ST, LCN_ACT_HARDSWISH, 0); break;         \
        default: dw8_row(k, rows, cb, cbi, yrow, KH, NG, SW, ST, LCN_ACT_HARDSWISH, 1); break;        \
    }

DW8_TGT static void dw8_row_any(const lcn_dw8 *k, const uint8_t *const *rows, int cb, int cbi,
        char *yrow) {
    const int kh = k->d.kh, ng = k->ng, sw = k->d.sw, st = k->st, act = k->d.act, f32 = k->d.out_f32;
    if (kh == 3 && ng == 1 && sw == 1) { DW8_ACTS(3, 1, 1, 1) }
    else if (kh == 3 && ng == 1 && sw == 2) { DW8_ACTS(3, 1, 2, 2) }
    else if (kh == 5 && ng == 2 && sw == 1) { DW8_ACTS(5, 2, 1, 1) }
    else if (kh == 5 && ng == 2 && sw == 2) { DW8_ACTS(5, 2, 2, 2) }
    else { DW8_ACTS(kh, ng, sw, st) }
}

DW8_TGT static void dw8_run_avx(const lcn_dw8 *k, const int8_t *x, void *y, int n, int nthr) {
    const lcn_dw8_desc *d = &k->d;
    const int kh = d->kh, H = d->h, OH = k->oh, ncb = k->ncb, gcb = k->gcb;
    const int ngrp = (ncb + gcb - 1) / gcb;
    const size_t isz = (size_t)H * d->w * d->c, irow = (size_t)gcb * k->npos * 64;
    const size_t es = d->out_f32 ? 4 : 1, orow = (size_t)k->ow * d->c * es;
    int nch = nthr > 1 ? (OH < nthr ? OH : nthr) : 1;
    int items = n * ngrp * nch;
#pragma omp parallel for num_threads(nthr) if (nthr > 1) schedule(static)
    for (int it = 0; it < items; it++) {
        /* the row chunk varies slowest: with the static schedule a thread
         * takes one chunk of rows of every channel group, the rows the
         * previous layer's split (by pixels or rows) left in its own core's
         * cache */
        int grp = it % ngrp, img = (it / ngrp) % n, ch = it / (ngrp * n);
        int cb0 = grp * gcb, cb1 = cb0 + gcb < ncb ? cb0 + gcb : ncb;
        int oy0 = (int)((long)OH * ch / nch), oy1 = (int)((long)OH * (ch + 1) / nch);
        uint8_t *scr = k->scratch + k->ring * (size_t)omp_get_thread_num();
        uint8_t *prow = scr;
        int tag[64];
        uint8_t *slotp[64];
        const uint8_t *rows[64];
        for (int s = 0; s < kh; s++) tag[s] = -1, slotp[s] = scr + k->prow + (size_t)s * irow;
        const int8_t *xi = x + isz * img;
        char *yi = (char *)y + orow * OH * img;
        for (int oy = oy0; oy < oy1; oy++) {
            for (int ky = 0; ky < kh; ky++) {
                int iy = oy * d->sh - d->pt + ky;
                if (iy < 0 || iy >= H) {
                    rows[ky] = k->padrow;
                    continue;
                }
                int s = iy % kh;
                if (tag[s] != iy) {
                    dw8_build_row(k, xi, iy, cb0, cb1, prow);
                    dw8_interleave(k, prow, slotp[s], cb1 - cb0);
                    tag[s] = iy;
                }
                rows[ky] = slotp[s];
            }
            for (int cb = cb0; cb < cb1; cb++) dw8_row_any(k, rows, cb, cb - cb0, yi + orow * oy);
        }
    }
}
#endif

void lcn_dw8_run(const lcn_dw8 *k, const int8_t *x, void *y, int n, int nthr) {
    if (nthr < 1) nthr = 1;
    if (nthr > k->d.threads) nthr = k->d.threads;
#ifdef DW8_X86
    if (!dw8_forced_ref && dw8_have_vnni() && k->d.kh <= 64) {
        dw8_run_avx(k, x, y, n, nthr);
        return;
    }
#endif
    lcn_dw8_run_ref(k, x, y, n);
}

/* ---- oneDNN's int8 depthwise, for tests and benchmarks ---- */

struct lcn_dw8_dnnl {
    dnnl_engine_t eng;
    dnnl_stream_t strm;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, bia, dst, scr;
    void *scratch;
    const char *impl;
    char implbuf[128];
};

void lcn_dw8_dnnl_destroy(lcn_dw8_dnnl *h) {
    if (!h) return;
    if (h->prim) dnnl_primitive_destroy(h->prim);
    if (h->src) dnnl_memory_destroy(h->src);
    if (h->wei) dnnl_memory_destroy(h->wei);
    if (h->bia) dnnl_memory_destroy(h->bia);
    if (h->dst) dnnl_memory_destroy(h->dst);
    if (h->scr) dnnl_memory_destroy(h->scr);
    free(h->scratch);
    if (h->strm) dnnl_stream_destroy(h->strm);
    if (h->eng) dnnl_engine_destroy(h->eng);
    free(h);
}

#define DW8CHK(call, what)                                                            \
    do {                                                                              \
        dnnl_status_t s_ = (call);                                                    \
        if (s_ != dnnl_success) {                                                     \
            rc = lcn_err_set(err, LCN_ERR_DNNL, -1, "dw8 dnnl %s: %s", what, dnnl_status2str(s_)); \
            goto done;                                                                \
        }                                                                             \
    } while (0)

lcn_status lcn_dw8_dnnl_create(const lcn_dw8_desc *d, int n, const float *w, const float *b,
        float s_x, float s_y, lcn_dw8_dnnl **out, lcn_error *err) {
    lcn_status rc = LCN_OK;
    *out = NULL;
    lcn_dw8_dnnl *h = calloc(1, sizeof *h);
    float *ws = NULL, *os = NULL, *bq = NULL;
    dnnl_primitive_attr_t attr = NULL, rattr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_t rprim = NULL;
    dnnl_memory_t wplain = NULL;
    if (!h) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom");
    int C = d->c, oh = (d->h + d->pt + d->pb - d->kh) / d->sh + 1,
        ow = (d->w + d->pl + d->pr - d->kw) / d->sw + 1, taps = d->kh * d->kw;
    float sy = d->out_f32 ? 1.f : s_y;
    ws = malloc(sizeof *ws * C), os = malloc(sizeof *os * C), bq = malloc(sizeof *bq * C);
    if (!ws || !os || !bq) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
    int fold = d->act == LCN_ACT_NONE;
    for (int c = 0; c < C; c++) {
        float m = 0.f;
        for (int t = 0; t < taps; t++) m = fmaxf(m, fabsf(w[(size_t)c * taps + t]));
        ws[c] = m > 0.f ? 127.f / m : 1.f;
        os[c] = (fold ? sy : 1.f) / (s_x * ws[c]);
        bq[c] = (b ? b[c] : 0.f) * s_x * ws[c];
    }
    DW8CHK(dnnl_engine_create(&h->eng, dnnl_cpu, 0), "engine");
    DW8CHK(dnnl_stream_create(&h->strm, h->eng, dnnl_stream_default_flags), "stream");
    dnnl_memory_desc_t smd, wmd, bmd, dmd, wpl;
    dnnl_dims_t sd = {n, C, d->h, d->w}, dd = {n, C, oh, ow}, wd = {C, 1, 1, d->kh, d->kw}, bd = {C};
    DW8CHK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_s8, dnnl_nhwc), "md");
    DW8CHK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, d->out_f32 ? dnnl_f32 : dnnl_s8, dnnl_nhwc), "md");
    DW8CHK(dnnl_memory_desc_init_by_tag(&wmd, 5, wd, dnnl_s8, dnnl_format_tag_any), "md");
    DW8CHK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x), "md");
    DW8CHK(dnnl_memory_desc_init_by_tag(&wpl, 5, wd, dnnl_f32, dnnl_goihw), "md");
    dnnl_dims_t strides = {d->sh, d->sw}, pl = {d->pt, d->pl}, pr = {d->pb, d->pr};
    dnnl_convolution_desc_t cd;
    DW8CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                   &smd, &wmd, &bmd, &dmd, strides, pl, pr), "conv desc");
    DW8CHK(dnnl_primitive_attr_create(&attr), "attr");
    DW8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "attr");
    DW8CHK(dnnl_primitive_attr_set_output_scales(attr, C, 1 << 1, os), "scales");
    if (!fold) {
        DW8CHK(dnnl_post_ops_create(&po), "po");
        DW8CHK(dnnl_post_ops_append_eltwise(po, sy,
                       d->act == LCN_ACT_RELU ? dnnl_eltwise_relu : dnnl_eltwise_hardswish, 0.f, 0.f),
                "po");
        DW8CHK(dnnl_primitive_attr_set_post_ops(attr, po), "po");
    }
    DW8CHK(dnnl_primitive_desc_create(&pd, &cd, attr, h->eng, NULL), "pd");
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(h->implbuf, sizeof h->implbuf, "%s", impl ? impl : "?");
    h->impl = h->implbuf;
    DW8CHK(dnnl_memory_create(&h->src, &smd, h->eng, DNNL_MEMORY_NONE), "mem");
    DW8CHK(dnnl_memory_create(&h->dst, &dmd, h->eng, DNNL_MEMORY_NONE), "mem");
    DW8CHK(dnnl_memory_create(&h->bia, &bmd, h->eng, DNNL_MEMORY_ALLOCATE), "mem");
    {
        void *bh;
        dnnl_memory_get_data_handle(h->bia, &bh);
        memcpy(bh, bq, sizeof *bq * C);
    }
    const dnnl_memory_desc_t *qw = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DW8CHK(dnnl_memory_create(&h->wei, qw, h->eng, DNNL_MEMORY_ALLOCATE), "mem");
    DW8CHK(dnnl_memory_create(&wplain, &wpl, h->eng, (void *)w), "mem");
    DW8CHK(dnnl_primitive_attr_create(&rattr), "attr");
    DW8CHK(dnnl_primitive_attr_set_output_scales(rattr, C, 1 << 0, ws), "scales");
    DW8CHK(dnnl_reorder_primitive_desc_create(&rpd, &wpl, h->eng, qw, h->eng, rattr), "reorder");
    DW8CHK(dnnl_primitive_create(&rprim, rpd), "reorder");
    {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, wplain}, {DNNL_ARG_TO, h->wei}};
        DW8CHK(dnnl_primitive_execute(rprim, h->strm, 2, a), "reorder");
        DW8CHK(dnnl_stream_wait(h->strm), "wait");
    }
    const dnnl_memory_desc_t *scr = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t ssz = scr ? dnnl_memory_desc_get_size(scr) : 0;
    if (ssz) {
        h->scratch = lcn_aligned_alloc(ssz);
        if (!h->scratch) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
        DW8CHK(dnnl_memory_create(&h->scr, scr, h->eng, h->scratch), "mem");
    }
    DW8CHK(dnnl_primitive_create(&h->prim, pd), "prim");
done:
    if (rprim) dnnl_primitive_destroy(rprim);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (rattr) dnnl_primitive_attr_destroy(rattr);
    if (wplain) dnnl_memory_destroy(wplain);
    free(ws), free(os), free(bq);
    if (rc != LCN_OK) {
        lcn_dw8_dnnl_destroy(h);
        return rc;
    }
    *out = h;
    return LCN_OK;
}

lcn_status lcn_dw8_dnnl_run(lcn_dw8_dnnl *h, const int8_t *x, void *y, lcn_error *err) {
    lcn_status rc = LCN_OK;
    DW8CHK(dnnl_memory_set_data_handle_v2(h->src, (void *)x, h->strm), "handle");
    DW8CHK(dnnl_memory_set_data_handle_v2(h->dst, y, h->strm), "handle");
    dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC, h->src}, {DNNL_ARG_WEIGHTS, h->wei},
            {DNNL_ARG_BIAS, h->bia}, {DNNL_ARG_DST, h->dst}, {DNNL_ARG_SCRATCHPAD, h->scr}};
    DW8CHK(dnnl_primitive_execute(h->prim, h->strm, h->scr ? 5 : 4, a), "execute");
    DW8CHK(dnnl_stream_wait(h->strm), "wait");
done:
    return rc;
}

const char *lcn_dw8_dnnl_impl(const lcn_dw8_dnnl *h) { return h->impl; }
