/*
 * lcn_dw32.c: an fp32 depthwise conv kernel (AVX-512) on NHWC activations,
 * for the depthwise layers that run on their own (PP-LCNet's 5x5 ones at
 * 14x14 and 7x7, where the 1x1 after them goes to lcn_fc32).
 *
 * oneDNN 2.6's jit_dw runs x1.0's 5x5 at 14x14 x 256 in ~30 us, ~40% of the
 * FMA peak (a third of the output pixels lie within two of the border,
 * where the taps are clipped). This kernel copies each input row of a group
 * of up to four 16-channel blocks once into zero-padded strips (a ring of
 * kh rows, in L1), so that every output pixel is an interior one: groups of
 * up to 8 pixels of a row at a time, one kernel row's weights in registers,
 * each strip vector loaded once and multiplied into every one of the sums it
 * touches (25 us for the layer above; the copy is ~5 of them).
 * The plan build times it against oneDNN's primitive and keeps it where it
 * wins (lcn_dnnl26.c, decide_dw32).
 *
 * Without AVX-512 the same scheme runs on oneDNN's AVX2 layout, nChw8c
 * (lcn_dw32_blk_avx2 in lcn_fp32_avx2.c): one 8-channel block at a time, its
 * rows contiguous, so each is copied as one run into a ring of padded rows.
 */
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_act512.h"
#include "lcn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LCN_HAVE_DW32 1
#define DW32_AVX512 __attribute__((target("avx512f,fma")))
#define DW32_INLINE static inline __attribute__((always_inline))
#endif

/* Output pixels of a row per register group (G accumulators + one kernel
 * row of weights + the loaded vector: at most 8 + 7 + 1 registers). */
enum { DW32_G = 8 };

/* Channel blocks of 16 copied and computed together, so that the copy reads
 * an input pixel's 64 floats as one run (block by block, 1 KiB apart at 256
 * channels: x1.0's 5x5 at 14x14 28.4 us, four together 26.5). */
enum { DW32_NB = 4 };

void lcn_dw32_free(lcn_dw32 *k) {
    if (!k) return;
    free(k->w);
    free(k->b);
    free(k);
}

lcn_dw32 *lcn_dw32_new(const lcn_layer *L, int act, int blk) {
    const lcn_layer_desc *d = &L->d;
    if (d->kh < 1 || d->kw < 1 || d->kh > LCN_DW32_MAXK || d->kw > LCN_DW32_MAXK || d->stride_h < 1 ||
            d->stride_w < 1 || d->groups != L->ic || L->ic != L->oc || (blk && L->ic % 8))
        return NULL;
    lcn_dw32 *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    const int c = L->ic, kk = d->kh * d->kw, lanes = blk ? 8 : 16;
    k->c = c, k->cpad = (c + lanes - 1) / lanes * lanes, k->blk = blk;
    k->kh = d->kh, k->kw = d->kw, k->sh = d->stride_h, k->sw = d->stride_w;
    k->pt = d->pad_t, k->pl = d->pad_l;
    k->ih = L->ih, k->iw = L->iw, k->oh = L->oh, k->ow = L->ow;
    k->act = act;
    /* strip column j holds input column j - pl (zero outside the input) */
    k->sw_cols = (k->ow - 1) * k->sw + k->kw;
    int ng = (k->ow + DW32_G - 1) / DW32_G;
    k->g1 = (k->ow + ng - 1) / ng;
    k->n1 = k->ow - ng * (k->g1 - 1), k->n2 = ng - k->n1;
    k->w = lcn_aligned_alloc(sizeof(float) * (size_t)kk * k->cpad);
    k->b = lcn_aligned_alloc(sizeof(float) * k->cpad);
    if (!k->w || !k->b) {
        lcn_dw32_free(k);
        return NULL;
    }
    memset(k->w, 0, sizeof(float) * (size_t)kk * k->cpad);
    memset(k->b, 0, sizeof(float) * k->cpad);
    /* [c][1][kh][kw] -> [c / lanes][kh * kw][lanes] */
    for (int ch = 0; ch < c; ch++)
        for (int t = 0; t < kk; t++)
            k->w[((size_t)(ch / lanes) * kk + t) * lanes + ch % lanes] = L->w[0][(size_t)ch * kk + t];
    if (L->w[1])
        for (int ch = 0; ch < c; ch++) k->b[ch] = L->w[1][ch];
    return k;
}

/* Floats of one thread's scratch: kh x DW32_NB strips + one zero strip
 * (blk: kh + 1 strips of 8 lanes). */
static size_t dw32_per_thread(const lcn_dw32 *k) {
    if (k->blk) return ((size_t)(k->kh + 1) * k->sw_cols * 8 + 15) / 16 * 16;
    return ((size_t)(k->kh * DW32_NB + 1) * k->sw_cols * 16 + 15) / 16 * 16;
}

/* Groups of DW32_NB channel blocks (the unit of work; blk: one block of
 * 8, its rows copied one by one as they are contiguous). */
static int dw32_groups(const lcn_dw32 *k) {
    return k->blk ? k->cpad / 8 : (k->cpad / 16 + DW32_NB - 1) / DW32_NB;
}

size_t lcn_dw32_scratch_bytes(const lcn_dw32 *k, int nthr) {
    return dw32_per_thread(k) * sizeof(float) * (size_t)(nthr > 1 ? nthr : 1);
}

#ifdef LCN_HAVE_DW32

/* G output pixels of one block from the strips r[0..KH) (the pixels' first
 * tap at strip column x0), KH x KW kernel, horizontal stride SW; w: the
 * block's weights [KH * KW][16]. Stores act(sum) at d, pixels ld floats
 * apart, masked by m. */
DW32_AVX512 DW32_INLINE void dw32_group(const float *const *r, int x0, const float *w, __m512 bias,
        float *d, size_t ld, __mmask16 m, const int act, const int KH, const int KW, const int SW,
        const int G) {
    const int SPAN = (G - 1) * SW + KW;
    __m512 a[DW32_G];
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) a[j] = bias;
#pragma GCC unroll 7
    for (int y = 0; y < KH; y++) {
        __m512 wy[LCN_DW32_MAXK];
#pragma GCC unroll 7
        for (int x = 0; x < KW; x++) wy[x] = _mm512_load_ps(w + (size_t)(y * KW + x) * 16);
        const float *q = r[y] + (size_t)x0 * 16;
#pragma GCC unroll 32
        for (int t = 0; t < SPAN; t++) {
            const __m512 v = _mm512_load_ps(q + (size_t)t * 16);
#pragma GCC unroll 8
            for (int j = 0; j < G; j++) {
                const int x = t - j * SW;
                if (x >= 0 && x < KW) a[j] = _mm512_fmadd_ps(v, wy[x], a[j]);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) _mm512_mask_storeu_ps(d + (size_t)j * ld, m, lcn_act512(a[j], act, 0.f, 0.f));
}

/* cnt groups of g pixels from pixel ox on (g in [1, DW32_G], a literal in
 * each case); returns the pixel after them. */
DW32_AVX512 DW32_INLINE int dw32_run_groups(const float *const *r, const float *w, __m512 bias, float *d,
        size_t ld, __mmask16 m, int ox, int g, int cnt, const int act, const int KH, const int KW,
        const int SW) {
    switch (g) {
#define DW32_CASE(N)                                                                                  \
    case N:                                                                                           \
        for (int i = 0; i < cnt; i++, ox += N)                                                        \
            dw32_group(r, ox * SW, w, bias, d + ox * ld, ld, m, act, KH, KW, SW, N);                  \
        break;
        DW32_CASE(1)
        DW32_CASE(2)
        DW32_CASE(3)
        DW32_CASE(4)
        DW32_CASE(5)
        DW32_CASE(6)
        DW32_CASE(7)
        DW32_CASE(8)
#undef DW32_CASE
        default: break;
    }
    return ox;
}

/* One output row of one block: ow pixels in ceil(ow / DW32_G) groups of
 * sizes as equal as can be (14: 7 + 7 rather than 8 + 6, so that no group
 * is short of independent sums to hide the FMA latency behind). */
DW32_AVX512 DW32_INLINE void dw32_row_t(const lcn_dw32 *k, const float *const *r, const float *w,
        __m512 bias, float *d, __mmask16 m, const int act, const int KH, const int KW, const int SW) {
    const size_t ld = (size_t)k->c;
    int ox = dw32_run_groups(r, w, bias, d, ld, m, 0, k->g1, k->n1, act, KH, KW, SW);
    dw32_run_groups(r, w, bias, d, ld, m, ox, k->g1 - 1, k->n2, act, KH, KW, SW);
}

/* Any kernel size and stride: pixel by pixel, weights from memory. */
DW32_AVX512 DW32_INLINE void dw32_row_any(const lcn_dw32 *k, const float *const *r, const float *w,
        __m512 bias, float *d, __mmask16 m, const int act) {
    const int kh = k->kh, kw = k->kw, sw = k->sw;
    for (int ox = 0; ox < k->ow; ox++) {
        __m512 a = bias;
        for (int y = 0; y < kh; y++) {
            const float *q = r[y] + (size_t)ox * sw * 16;
            for (int x = 0; x < kw; x++)
                a = _mm512_fmadd_ps(_mm512_load_ps(q + (size_t)x * 16),
                        _mm512_load_ps(w + (size_t)(y * kw + x) * 16), a);
        }
        _mm512_mask_storeu_ps(d + (size_t)ox * k->c, m, lcn_act512(a, act, 0.f, 0.f));
    }
}

/* Copies input row iy, channels [16 b0, 16 b1), of image img into the
 * strips s[0 .. b1 - b0) (strip after strip): columns [pl, pl + iw) from
 * the image (masked to the channels there are), the rest zero. */
DW32_AVX512 static void dw32_strips(const lcn_dw32 *k, const float *img, int iy, int b0, int b1, float *s) {
    const int c = k->c, n = k->sw_cols, pl = k->pl, nb = k->cpad / 16;
    const size_t strip = (size_t)n * 16;
    const __mmask16 tail = k->c % 16 ? (__mmask16)((1u << (k->c % 16)) - 1) : (__mmask16)0xffff;
    const float *row = img + (size_t)iy * k->iw * c;
    for (int b = b0; b < b1; b++) {
        float *sb = s + (size_t)(b - b0) * strip;
        for (int j = 0; j < n && j < pl; j++) _mm512_store_ps(sb + (size_t)j * 16, _mm512_setzero_ps());
        for (int j = pl + k->iw; j < n; j++) _mm512_store_ps(sb + (size_t)j * 16, _mm512_setzero_ps());
    }
    int end = pl + k->iw < n ? pl + k->iw : n;
    /* pixel by pixel, its blocks side by side: the reads go along memory */
    for (int j = pl; j < end; j++) {
        const float *px = row + (size_t)(j - pl) * c;
        for (int b = b0; b < b1; b++)
            _mm512_store_ps(s + (size_t)(b - b0) * strip + (size_t)j * 16,
                    _mm512_maskz_loadu_ps(b == nb - 1 ? tail : (__mmask16)0xffff, px + (size_t)b * 16));
    }
}

/* Output rows [oy0, oy1) of blocks [b0, b1) of image img into out (the
 * image's output), with ring the thread's scratch. */
DW32_AVX512 DW32_INLINE void dw32_band_t(const lcn_dw32 *k, const float *img, float *out, int b0, int b1,
        int oy0, int oy1, float *ring, const int act, const int KH, const int KW, const int SW) {
    const int nb = k->cpad / 16, kh = k->kh, ncol = k->sw_cols, nbb = b1 - b0;
    const size_t strip = (size_t)ncol * 16;
    float *zero = ring + (size_t)kh * DW32_NB * strip;
    memset(zero, 0, strip * sizeof(float));
    int next = -(1 << 30); /* the next input row to copy */
    for (int oy = oy0; oy < oy1; oy++) {
        int iy0 = oy * k->sh - k->pt;
        if (next < iy0) next = iy0;
        for (; next < iy0 + kh; next++)
            if (next >= 0 && next < k->ih)
                dw32_strips(k, img, next, b0, b1, ring + (size_t)(next % kh) * DW32_NB * strip);
        for (int bb = 0; bb < nbb; bb++) {
            const int b = b0 + bb;
            const __mmask16 m =
                    b == nb - 1 && k->c % 16 ? (__mmask16)((1u << (k->c % 16)) - 1) : (__mmask16)0xffff;
            const float *r[LCN_DW32_MAXK];
            for (int y = 0; y < kh; y++) {
                int iy = iy0 + y;
                r[y] = iy >= 0 && iy < k->ih ? ring + ((size_t)(iy % kh) * DW32_NB + bb) * strip : zero;
            }
            const float *w = k->w + (size_t)b * kh * k->kw * 16;
            const __m512 bias = _mm512_load_ps(k->b + b * 16);
            float *d = out + (size_t)oy * k->ow * k->c + (size_t)b * 16;
            if (KH > 0)
                dw32_row_t(k, r, w, bias, d, m, act, KH, KW, SW);
            else
                dw32_row_any(k, r, w, bias, d, m, act);
        }
    }
}

#define DW32_BAND(ACT, NAME)                                                                            \
    DW32_AVX512 static void NAME(const lcn_dw32 *k, const float *img, float *out, int b, int oy0,      \
            int oy1, float *ring) {                                                                     \
        const int b1 = (b + 1) * DW32_NB < k->cpad / 16 ? (b + 1) * DW32_NB : k->cpad / 16;             \
        b *= DW32_NB;                                                                                   \
        if (k->kh == 3 && k->kw == 3 && k->sw == 1)                                                     \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 3, 3, 1);                                  \
        else if (k->kh == 3 && k->kw == 3 && k->sw == 2)                                                \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 3, 3, 2);                                  \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 1)                                                \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 5, 5, 1);                                  \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 2)                                                \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 5, 5, 2);                                  \
        else if (k->kh == 7 && k->kw == 7 && k->sw == 1)                                                \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 7, 7, 1);                                  \
        else if (k->kh == 7 && k->kw == 7 && k->sw == 2)                                                \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 7, 7, 2);                                  \
        else                                                                                            \
            dw32_band_t(k, img, out, b, b1, oy0, oy1, ring, ACT, 0, 0, 0);                                  \
    }
DW32_BAND(LCN_ACT_NONE, dw32_band_none)
DW32_BAND(LCN_ACT_RELU, dw32_band_relu)
DW32_BAND(LCN_ACT_HARDSWISH, dw32_band_hswish)
#undef DW32_BAND

/* Work items [i0, i1) of n images x nband bands of rows x ng groups of
 * DW32_NB blocks (in that order: consecutive items share rows). */
static void dw32_items(const lcn_dw32 *k, const float *src, float *dst, long i0, long i1, int nband,
        float *ring) {
    const int ng = dw32_groups(k);
    const size_t in_img = (size_t)k->ih * k->iw * k->c, out_img = (size_t)k->oh * k->ow * k->c;
    for (long it = i0; it < i1; it++) {
        long img = it / ((long)ng * nband), rest = it % ((long)ng * nband);
        int band = (int)(rest / ng), g = (int)(rest % ng);
        int oy0 = (int)((long)k->oh * band / nband), oy1 = (int)((long)k->oh * (band + 1) / nband);
        const float *s = src + (size_t)img * in_img;
        float *d = dst + (size_t)img * out_img;
        if (k->blk) {
            lcn_dw32_blk_avx2(k, s, d, g, oy0, oy1, ring);
            continue;
        }
        switch (k->act) {
            case LCN_ACT_RELU: dw32_band_relu(k, s, d, g, oy0, oy1, ring); break;
            case LCN_ACT_HARDSWISH: dw32_band_hswish(k, s, d, g, oy0, oy1, ring); break;
            default: dw32_band_none(k, s, d, g, oy0, oy1, ring); break;
        }
    }
}

void lcn_dw32_run(const lcn_dw32 *k, const float *src, float *dst, int n, int nthr, void *scratch) {
    const int ng = dw32_groups(k);
    /* Threads split the images, or when they do not divide evenly, bands of
     * rows (all channels of its rows to a thread): the layers before and
     * after split pixels too (lcn_fc32 by rows), so that a thread reads the
     * rows its core has just written and writes those it reads next. Split
     * by channels, each thread read half its input from the other core's
     * L2 (x1.0's 5x5 at 14x14, 2 threads: 22-24 us in a run vs 14.5 alone).
     * Each band copies its kh - sh rows of overlap again. */
    int nband = nthr > 1 && n % nthr ? nthr : 1;
    if (nband > k->oh) nband = k->oh;
    long items = (long)n * nband * ng;
    if (nthr <= 1 || items < 2) {
        dw32_items(k, src, dst, 0, items, nband, scratch);
        return;
    }
    const size_t per = dw32_per_thread(k);
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        dw32_items(k, src, dst, items * t / nt, items * (t + 1) / nt, nband, (float *)scratch + (size_t)t * per);
    }
}

#else

void lcn_dw32_run(const lcn_dw32 *k, const float *src, float *dst, int n, int nthr, void *scratch) {
    (void)k, (void)src, (void)dst, (void)n, (void)nthr, (void)scratch;
}

#endif
