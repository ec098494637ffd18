/*
 * lcn_pw8.c: the int8 1x1 convolution kernel of lcn_pw8.h.
 *
 * VNNI's vpdpbusd multiplies unsigned by signed bytes, four at a time per
 * 32-bit lane: the s8 input is shifted to u8 (x + 128, a xor of the sign
 * bit) a tile of pixels at a time into a per-thread buffer, and the
 * accumulators start at -128 * sum_k wq[o][k] to take the shift back out.
 * A register tile is P pixels x V vectors of 16 output channels: per group
 * of 4 input channels, one broadcast of the pixel's 4 bytes and V
 * multiply-adds against weights packed [v][k/4][16 outputs][4].
 *
 * All statics are prefixed pw8_: this file is compiled in one translation
 * unit with the other csrc files (dnn/csrc.c).
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_internal.h"
#include "lcn_pw8.h"
#include "lcn_q8epi.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PW8_X86 1
#define PW8_TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,bmi2,fma")))
#endif

enum { PW8_TILE = 48 }; /* pixels shifted to u8 at a time */

struct lcn_pw8 {
    lcn_pw8_desc d;
    int kg;          /* groups of 4 input channels */
    int nv;          /* 16-channel output vectors */
    int8_t *wq;      /* packed [nv][kg][16][4] */
    int8_t *wref;    /* [oc][k] */
    int32_t *comp;   /* [nv*16] = -128 * sum_k wq[o][k] */
    float *M, *A, *G, *H; /* [nv*16] epilogue constants (lcn_dw8.h) */
    int clamp;        /* |v| may reach 2^30: clamp to [-128, 127] before converting */
    uint8_t *scratch; /* per thread: PW8_TILE pixels of u8 input */
    size_t per;       /* bytes of one thread's scratch */
};

static int pw8_forced_ref;

int lcn_pw8_vnni(void) {
#ifdef PW8_X86
    return !pw8_forced_ref && lcn_q8_avx512_vnni();
#else
    return 0;
#endif
}

void lcn_pw8_destroy(lcn_pw8 *k) {
    if (!k) return;
    free(k->wq);
    free(k->wref);
    free(k->comp);
    free(k->M);
    free(k->scratch);
    free(k);
}


lcn_status lcn_pw8_create(const lcn_pw8_desc *d, const float *w, const float *b, float s_x,
        float s_y, lcn_pw8 **out, lcn_error *err) {
    if (!d || !w || !out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "pw8: nil argument");
    *out = NULL;
    if (d->k <= 0 || d->k % 4 != 0 || d->oc <= 0 || d->threads <= 0 || d->k > (1 << 16) ||
            d->oc > (1 << 16))
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "pw8: bad shape k=%d oc=%d", d->k, d->oc);
    if (d->act != LCN_ACT_NONE && d->act != LCN_ACT_RELU && d->act != LCN_ACT_HARDSWISH)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "pw8: activation %d", d->act);
    if (!(s_x > 0) || !isfinite(s_x) || (!d->out_f32 && (!(s_y > 0) || !isfinite(s_y))))
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "pw8: scales %g %g", s_x, s_y);
    lcn_pw8 *k = calloc(1, sizeof *k);
    if (!k) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    k->d = *d;
    int K = d->k, OC = d->oc;
    k->kg = K / 4;
    k->nv = (OC + 15) / 16;
    size_t cp = (size_t)k->nv * 16;
    k->wq = lcn_aligned_alloc(cp * (size_t)K);
    k->wref = malloc((size_t)OC * K);
    k->comp = lcn_aligned_alloc(cp * sizeof *k->comp);
    k->M = lcn_aligned_alloc(4 * cp * sizeof *k->M);
    k->per = ((size_t)PW8_TILE * K + 64 + 63) / 64 * 64;
    k->scratch = lcn_aligned_alloc(k->per * d->threads);
    if (!k->wq || !k->wref || !k->comp || !k->M || !k->scratch) {
        lcn_pw8_destroy(k);
        return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    }
    k->A = k->M + cp, k->G = k->M + 2 * cp, k->H = k->M + 3 * cp;
    memset(k->wq, 0, cp * (size_t)K);
    memset(k->comp, 0, cp * sizeof *k->comp);
    memset(k->M, 0, 4 * cp * sizeof *k->M);
    float sy = d->out_f32 ? 1.f : s_y;
    for (int o = 0; o < OC; o++) {
        const float *wo = w + (size_t)o * K;
        float m = 0.f;
        for (int i = 0; i < K; i++) m = fmaxf(m, fabsf(wo[i]));
        float ws = lcn_q8_wscale(m);
        int32_t sum = 0, asum = 0;
        int v = o / 16, lane = o % 16;
        for (int i = 0; i < K; i++) {
            int8_t q = lcn_q8_sat(wo[i] * ws);
            k->wref[(size_t)o * K + i] = q;
            k->wq[(((size_t)v * k->kg + i / 4) * 16 + lane) * 4 + i % 4] = q;
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

static void pw8_epi_ref(const lcn_pw8 *k, int o, int32_t acc, void *y, size_t off) {
    lcn_q8_epi_ref(k->d.act, k->d.out_f32, k->M[o], k->A[o], k->G[o], k->H[o], acc, y, off);
}

void lcn_pw8_run_ref(const lcn_pw8 *k, const int8_t *x, void *y, long npix) {
    int K = k->d.k, OC = k->d.oc;
    for (long p = 0; p < npix; p++) {
        const int8_t *xp = x + (size_t)p * K;
        for (int o = 0; o < OC; o++) {
            const int8_t *wo = k->wref + (size_t)o * K;
            int32_t acc = 0;
            for (int i = 0; i < K; i++) acc += (int32_t)xp[i] * wo[i];
            pw8_epi_ref(k, o, acc, y, (size_t)p * OC + o);
        }
    }
}

#ifdef PW8_X86

/* P pixels x V vectors (from vector v0) of u8 input u (K bytes a pixel). */
#define PW8_TILE_FN(P, V)                                                                          \
    PW8_TGT static inline __attribute__((always_inline)) void pw8_tile_##P##_##V(                   \
            const lcn_pw8 *k, const uint8_t *u, int v0, void *y, size_t yoff, const int act,      \
            const int f32) {                                                                        \
        const int K = k->d.k, OC = k->d.oc, kg = k->kg;                                             \
        __m512i acc[P][V];                                                                          \
        LCN_Q8_TILE_START(P, V, acc, k, v0)                                                         \
        const int8_t *wb = k->wq + (size_t)v0 * kg * 64;                                            \
        for (int g = 0; g < kg; g++) {                                                              \
            __m512i wv[V];                                                                          \
            _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                                   \
                wv[v] = _mm512_load_si512(wb + ((size_t)v * kg + g) * 64);                         \
            _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) {                                 \
                int32_t xs;                                                                         \
                memcpy(&xs, u + (size_t)p * K + 4 * g, 4);                                          \
                __m512i xb = _mm512_set1_epi32(xs);                                                \
                _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                               \
                    LCN_DPBUSD(acc[p][v], xb, wv[v]);                          \
            }                                                                                       \
        }                                                                                           \
        LCN_Q8_TILE_END(P, V, acc, k, v0, y, yoff, OC, act, f32)                                    \
    }
PW8_TILE_FN(6, 4)
PW8_TILE_FN(1, 4)
PW8_TILE_FN(8, 3)
PW8_TILE_FN(1, 3)
PW8_TILE_FN(12, 2)
PW8_TILE_FN(1, 2)
PW8_TILE_FN(16, 1)
PW8_TILE_FN(1, 1)

#define PW8_COLS(P, V)                                                                             \
    {                                                                                              \
        int p = 0;                                                                                 \
        for (; p + P <= np; p += P)                                                                \
            pw8_tile_##P##_##V(k, u + (size_t)p * K, v0, y, yoff + (size_t)p * OC, act, f32);       \
        for (; p < np; p++)                                                                        \
            pw8_tile_1_##V(k, u + (size_t)p * K, v0, y, yoff + (size_t)p * OC, act, f32);          \
    }

/* np pixels of u8 input u to y from element yoff on. */
PW8_TGT static inline __attribute__((always_inline)) void pw8_pixels(const lcn_pw8 *k,
        const uint8_t *u, int np, void *y, size_t yoff, const int act, const int f32) {
    const int K = k->d.k, OC = k->d.oc;
    for (int v0 = 0; v0 < k->nv; v0 += 4) {
        int nv = k->nv - v0 < 4 ? k->nv - v0 : 4;
        switch (nv) {
            case 4: PW8_COLS(6, 4) break;
            case 3: PW8_COLS(8, 3) break;
            case 2: PW8_COLS(12, 2) break;
            default: PW8_COLS(16, 1) break;
        }
    }
}

/* x + 128 as u8: a xor of the sign bit, 64 bytes at a time. */
PW8_TGT static void pw8_shift(const int8_t *x, uint8_t *u, size_t n) {
    const __m512i s = _mm512_set1_epi8((char)0x80);
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_store_si512(u + i, _mm512_xor_si512(_mm512_loadu_si512(x + i), s));
    if (i < n) {
        __mmask64 m = _bzhi_u64(~0ULL, (unsigned)(n - i));
        _mm512_mask_storeu_epi8(u + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + i), s));
    }
}

#define PW8_RANGE(ACT, F32, NAME)                                                                  \
    PW8_TGT static void NAME(const lcn_pw8 *k, const int8_t *x, void *y, long p0, long p1,        \
            uint8_t *u) {                                                                           \
        const int K = k->d.k, OC = k->d.oc;                                                        \
        for (long p = p0; p < p1; p += PW8_TILE) {                                                  \
            int np = p1 - p < PW8_TILE ? (int)(p1 - p) : PW8_TILE;                                  \
            pw8_shift(x + (size_t)p * K, u, (size_t)np * K);                                        \
            pw8_pixels(k, u, np, y, (size_t)p * OC, ACT, F32);                                      \
        }                                                                                           \
    }
LCN_Q8_VARIANTS(PW8_RANGE, pw8)

static void pw8_range(const lcn_pw8 *k, const int8_t *x, void *y, long p0, long p1, uint8_t *u) {
    LCN_Q8_CALL(pw8, k->d.act, k->d.out_f32, k, x, y, p0, p1, u)
}

void lcn_pw8_run(const lcn_pw8 *k, const int8_t *x, void *y, long npix, int nthr) {
    if (!lcn_pw8_vnni()) {
        lcn_pw8_run_ref(k, x, y, npix);
        return;
    }
    LCN_Q8_SPLIT(pw8_range, k, x, y, npix, nthr, 2 * PW8_TILE);
}

#else

void lcn_pw8_run(const lcn_pw8 *k, const int8_t *x, void *y, long npix, int nthr) {
    (void)nthr;
    lcn_pw8_run_ref(k, x, y, npix);
}

#endif

/* Tests: force the scalar fallback (1) or back to automatic (0). */
void lcn_pw8_force_ref(int on) { pw8_forced_ref = on; }
