/*
 * lcn_fc32.c: an fp32 matrix-times-few-rows kernel (AVX-512) for the layers
 * of a network's head: a fully connected layer, or a 1x1 conv over few
 * pixels (PP-LCNet's last_conv runs on the pooled 1x1 map), y = x W^T + b.
 *
 * With one row (batch 1) such a layer does one multiply-add per weight: it
 * is bound by how fast its weights (5.1 MB for PP-LCNet's classifier) come
 * from L3 or memory, not by arithmetic. oneDNN 2.6's inner product and
 * brgconv read them at ~19-20 GB/s on this machine kind, while a plain
 * sequential read reaches ~28 GB/s from L3. This kernel packs the weights
 * so that a run reads them as one sequential stream: panels of 64 output
 * columns, each panel [k][64], panel after panel. Rows are taken in tiles
 * of up to 6 per pass over a panel (a batch reads the weights once per
 * tile, not once per row). The plan build times it against oneDNN's
 * primitive and keeps the faster (lcn_dnnl26.c).
 */
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LCN_HAVE_FC32 1
#define LCN_FC_AVX512 __attribute__((target("avx512f,fma")))
#define LCN_FC_INLINE static inline __attribute__((always_inline))
#endif

enum { FC_PANEL = 64 };

void lcn_fc32_free(lcn_fc32 *k) {
    if (!k) return;
    free(k->w);
    free(k->b);
    free(k);
}

lcn_fc32 *lcn_fc32_new(const lcn_layer *L, int k_in, int act, float scale) {
    lcn_fc32 *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    int n = L->oc;
    k->k = k_in, k->n = n, k->act = act, k->scale = scale;
    k->npad = (n + 15) / 16 * 16;
    k->w = lcn_aligned_alloc(sizeof(float) * (size_t)k_in * k->npad);
    k->b = lcn_aligned_alloc(sizeof(float) * k->npad);
    if (!k->w || !k->b) {
        lcn_fc32_free(k);
        return NULL;
    }
    memset(k->w, 0, sizeof(float) * (size_t)k_in * k->npad);
    memset(k->b, 0, sizeof(float) * k->npad);
    /* weights [n][k] (FC, or OIHW with 1x1 kernels) -> panels of up to 64
     * columns, each [k][width], one after the other */
    const float *w = L->w[0];
    for (int p0 = 0; p0 < k->npad; p0 += FC_PANEL) {
        int pw = k->npad - p0 < FC_PANEL ? k->npad - p0 : FC_PANEL;
        float *panel = k->w + (size_t)p0 * k_in;
        for (int o = p0; o < p0 + pw && o < n; o++)
            for (int i = 0; i < k_in; i++) panel[(size_t)i * pw + (o - p0)] = w[(size_t)o * k_in + i];
    }
    if (L->w[1])
        for (int o = 0; o < n; o++) k->b[o] = L->w[1][o];
    return k;
}

#ifdef LCN_HAVE_FC32

LCN_FC_AVX512 LCN_FC_INLINE __m512 fc_act(__m512 x, const int act) {
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

/* Prefetches pfl cache lines of the next panel from *pf (up to pfend) into
 * L2 and advances *pf. */
LCN_FC_INLINE void fc_prefetch(const char **pf, const char *pfend, int pfl) {
    for (int j = 0; j < pfl && *pf < pfend; j++, *pf += 64) _mm_prefetch(*pf, _MM_HINT_T1);
}

/* P rows x V vectors of one panel (width pw = 16 V): rows x (stride ldx),
 * panel weights w [k][pw], outputs d (stride ldd), the last vector's store
 * masked by last, each output act(sum) * scale. P == 1 splits the k loop into two halves summed at the
 * end: 2V independent accumulation chains instead of V. Every two k steps
 * it also prefetches pfl lines of the next panel (*pf, up to pfend): the
 * first tile of a panel then finds it in L2 instead of waiting on memory. */
LCN_FC_AVX512 LCN_FC_INLINE void fc_tile(const float *x, size_t ldx, const float *w, int kk,
        const float *bias, float *d, size_t ldd, __mmask16 last, const char **pf,
        const char *pfend, int pfl, float scale, const int act, const int P, const int V) {
    const int pw = 16 * V;
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 acc[6][4], acc2[4];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        __m512 b = _mm512_loadu_ps(bias + 16 * v);
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) acc[p][v] = b;
        acc2[v] = _mm512_setzero_ps();
    }
    int i = 0;
    if (P == 1) {
        for (; i + 2 <= kk; i += 2) {
            const __m512 x0 = _mm512_set1_ps(x[i]), x1 = _mm512_set1_ps(x[i + 1]);
            const float *wi = w + (size_t)i * pw;
            fc_prefetch(pf, pfend, pfl);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc[0][v] = _mm512_fmadd_ps(x0, _mm512_load_ps(wi + 16 * v), acc[0][v]);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc2[v] = _mm512_fmadd_ps(x1, _mm512_load_ps(wi + pw + 16 * v), acc2[v]);
        }
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[0][v] = _mm512_add_ps(acc[0][v], acc2[v]);
    }
    for (; i < kk; i++) {
        if (!(i & 1)) fc_prefetch(pf, pfend, pfl);
        __m512 wv[4];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) wv[v] = _mm512_load_ps(w + (size_t)i * pw + 16 * v);
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) {
            const __m512 xv = _mm512_set1_ps(x[(size_t)p * ldx + i]);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(xv, wv[v], acc[p][v]);
        }
    }
#pragma GCC unroll 6
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            __m512 r = fc_act(acc[p][v], act);
            if (scale != 1.f) r = _mm512_mul_ps(r, sc);
            if (v == V - 1)
                _mm512_mask_storeu_ps(d + (size_t)p * ldd + 16 * v, last, r);
            else
                _mm512_storeu_ps(d + (size_t)p * ldd + 16 * v, r);
        }
}

/* Row tiles of a panel: 6 rows (V <= 4: at most 24 accumulators), then 4,
 * 2, 1. */
static int fc_tiles(int m) {
    int t = m / 6;
    m %= 6;
    return t + m / 4 + (m % 4) / 2 + (m % 2);
}

#define FC_ROWS(V, ACT)                                                                            \
    {                                                                                              \
        int r = 0;                                                                                 \
        for (; r + 6 <= m; r += 6)                                                                 \
            fc_tile(x + (size_t)r * kk, kk, w, kk, bias, d + (size_t)r * n, n, last, &pf, pfend,   \
                    pfl, k->scale, ACT, 6, V);                                                               \
        for (; r + 4 <= m; r += 4)                                                                 \
            fc_tile(x + (size_t)r * kk, kk, w, kk, bias, d + (size_t)r * n, n, last, &pf, pfend,   \
                    pfl, k->scale, ACT, 4, V);                                                               \
        for (; r + 2 <= m; r += 2)                                                                 \
            fc_tile(x + (size_t)r * kk, kk, w, kk, bias, d + (size_t)r * n, n, last, &pf, pfend,   \
                    pfl, k->scale, ACT, 2, V);                                                               \
        for (; r < m; r++)                                                                         \
            fc_tile(x + (size_t)r * kk, kk, w, kk, bias, d + (size_t)r * n, n, last, &pf, pfend,   \
                    pfl, k->scale, ACT, 1, V);                                                               \
    }

/* Panel p0 (its first column) for the m rows; prefetches panel next (its
 * first column; <= p0: none) meanwhile. */
LCN_FC_AVX512 LCN_FC_INLINE void fc_panel(const lcn_fc32 *k, const float *x, float *y, int m, int p0,
        int next, const int act) {
    const int kk = k->k, n = k->n;
    const int pw = k->npad - p0 < FC_PANEL ? k->npad - p0 : FC_PANEL;
    const int rem = n - (p0 + pw - 16); /* real columns in the panel's last vector */
    const __mmask16 last = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
    const float *w = k->w + (size_t)p0 * kk, *bias = k->b + p0;
    float *d = y + p0;
    /* the next panel's lines spread over the tiles but the last (each tile
     * makes kk / 2 prefetch stops); one row has no arithmetic to hide them
     * behind (measured: the hardware prefetcher alone is ~10% faster) */
    const char *pf = NULL, *pfend = NULL;
    int pfl = 0;
    if (next > p0 && m > 1) {
        int npw = k->npad - next < FC_PANEL ? k->npad - next : FC_PANEL;
        size_t lines = (size_t)kk * npw / 16;
        int t = fc_tiles(m), stops = (t > 1 ? t - 1 : 1) * (kk / 2 > 0 ? kk / 2 : 1);
        pf = (const char *)(k->w + (size_t)next * kk);
        pfend = pf + lines * 64;
        pfl = (int)((lines + stops - 1) / stops);
    }
    switch (pw / 16) {
        case 4: FC_ROWS(4, act) break;
        case 3: FC_ROWS(3, act) break;
        case 2: FC_ROWS(2, act) break;
        default: FC_ROWS(1, act) break;
    }
}
#undef FC_ROWS

#define FC_PANELS(ACT, NAME)                                                                       \
    LCN_FC_AVX512 static void NAME(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) { \
        for (int q = q0; q < q1; q++)                                                              \
            fc_panel(k, x, y, m, q * FC_PANEL, q + 1 < q1 ? (q + 1) * FC_PANEL : 0, ACT);          \
    }
FC_PANELS(LCN_ACT_NONE, fc_panels_none)
FC_PANELS(LCN_ACT_RELU, fc_panels_relu)
FC_PANELS(LCN_ACT_HARDSWISH, fc_panels_hswish)
#undef FC_PANELS

/* Panels [q0, q1) for the m rows. */
static void fc_panels(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    switch (k->act) {
        case LCN_ACT_RELU: fc_panels_relu(k, x, y, m, q0, q1); break;
        case LCN_ACT_HARDSWISH: fc_panels_hswish(k, x, y, m, q0, q1); break;
        default: fc_panels_none(k, x, y, m, q0, q1); break;
    }
}

void lcn_fc32_run(const lcn_fc32 *k, const float *x, float *y, int m, int nthr) {
    int np = (k->npad + FC_PANEL - 1) / FC_PANEL;
    if (m <= 0) return;
    if (nthr <= 1 || np < 2) {
        fc_panels(k, x, y, m, 0, np);
        return;
    }
    /* the panels (columns) split among the threads: each reads its own part
     * of the weights once */
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        fc_panels(k, x, y, m, np * t / nt, np * (t + 1) / nt);
    }
}

#else

void lcn_fc32_run(const lcn_fc32 *k, const float *x, float *y, int m, int nthr) {
    (void)k, (void)x, (void)y, (void)m, (void)nthr;
}

#endif
