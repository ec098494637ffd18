/*
 * lcn_fc32.c: an fp32 matrix-times-few-rows kernel (AVX-512; AVX2), y = x W^T + b:
 * a fully connected layer, or a 1x1 conv over few pixels (up to 256 at plan
 * time: PP-LCNet's 14x14 and 7x7 stages, and last_conv on the pooled 1x1
 * map).
 *
 * With one row (batch 1) such a layer does one multiply-add per weight: it
 * is bound by how fast its weights (5.1 MB for PP-LCNet's classifier) come
 * from L3 or memory, not by arithmetic. oneDNN 2.6's inner product and
 * brgconv read them at ~19-20 GB/s on this machine kind, while a plain
 * sequential read reaches ~28 GB/s from L3. This kernel packs the weights
 * so that a run reads them as one sequential stream: panels of 64 output
 * columns, each panel [k][64], panel after panel. Rows are taken in tiles
 * of up to 6 per pass over a panel (a batch reads the weights once per
 * tile, not once per row), and each tile prefetches its share of the next
 * panel. The plan build takes it over a few rows (FC32_FEW_ROWS in
 * lcn_dnnl26.c), else times it against oneDNN's primitive with the weights
 * flushed and keeps it unless it is more than 10% slower (FC32_TIE).
 *
 * lcn_se32 runs a squeeze-excite block (global pool, FC + ReLU, FC + gate,
 * channel scale in place) as one step with two such kernels: oneDNN runs it
 * as four primitives, and at 7x7 with 1280 channels its two FCs stream 3.3
 * MB of weights.
 *
 * On CPUs without AVX-512 both run AVX2 bodies (lcn_fp32_avx2.c; same packed
 * panels, k->avx2): there the plan takes lcn_fc32 only over few rows (the
 * head, where oneDNN 2.6's AVX2 GEMM read x1.0's classifier weights at ~14
 * GB/s, this kernel at ~19), and lcn_se32 also works in place on oneDNN's
 * AVX2 layout, nChw8c (x1.0's two SE blocks: 56 and 77 us as four oneDNN
 * primitives, 20 and 48 us as one step).
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
#define LCN_HAVE_FC32 1
#define LCN_FC_AVX512 __attribute__((target("avx512f,fma")))
#define LCN_FC_INLINE static inline __attribute__((always_inline))
#endif

enum { FC_PANEL = LCN_FC_PANEL };

void lcn_fc32_free(lcn_fc32 *k) {
    if (!k) return;
    free(k->w);
    free(k->b);
    free(k);
}

lcn_fc32 *lcn_fc32_new(const float *w, const float *b, int n, int k_in, const lcn_act *act, float scale) {
    lcn_fc32 *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->k = k_in, k->n = n, k->act = act->kind, k->alpha = act->alpha, k->beta = act->beta;
    k->scale = scale;
    k->npad = (n + 15) / 16 * 16;
    k->avx2 = !lcn_avx512_supported();
    k->w = lcn_aligned_alloc(sizeof(float) * (size_t)k_in * k->npad);
    k->b = lcn_aligned_alloc(sizeof(float) * k->npad);
    if (!k->w || !k->b) {
        lcn_fc32_free(k);
        return NULL;
    }
    memset(k->b, 0, sizeof(float) * k->npad);
    /* weights [n][k] (FC, or OIHW with 1x1 kernels) -> panels of up to 64
     * columns, each [k][width], one after the other: each panel is the
     * transpose of its columns' rows (lcn_transpose, by 16 x 16 tiles).
     * Padding columns are zeroed here, not by a memset of the whole buffer. */
    for (int p0 = 0; p0 < k->npad; p0 += FC_PANEL) {
        int pw = k->npad - p0 < FC_PANEL ? k->npad - p0 : FC_PANEL;
        const int nc = n - p0 < pw ? n - p0 : pw; /* real columns */
        float *panel = k->w + (size_t)p0 * k_in;
        lcn_transpose(w + (size_t)p0 * k_in, (size_t)k_in, nc, k_in, panel, (size_t)pw);
        if (nc < pw)
            for (int i = 0; i < k_in; i++) memset(panel + (size_t)i * pw + nc, 0, sizeof(float) * (size_t)(pw - nc));
    }
    if (b)
        for (int o = 0; o < n; o++) k->b[o] = b[o];
    return k;
}

int lcn_fc32_use_strips(lcn_fc32 *k) {
    if (k->strips) return 0;
    const size_t kk = (size_t)k->k;
    float *w = lcn_aligned_alloc(sizeof(float) * kk * k->npad);
    if (!w) return -1;
    /* column c of input i: panel p0 = c - c % 64 at [i][c - p0] (width pw);
     * strip c / 16 at [i][c % 16] */
    for (int s0 = 0; s0 < k->npad; s0 += 16) {
        const int p0 = s0 / FC_PANEL * FC_PANEL, pw = k->npad - p0 < FC_PANEL ? k->npad - p0 : FC_PANEL;
        const float *panel = k->w + (size_t)p0 * kk + (s0 - p0);
        float *strip = w + (size_t)s0 * kk;
        for (size_t i = 0; i < kk; i++) memcpy(strip + i * 16, panel + i * pw, 16 * sizeof(float));
    }
    free(k->w);
    k->w = w;
    k->strips = 1;
    return 0;
}

void lcn_se32_free(lcn_se32 *k) {
    if (!k) return;
    lcn_fc32_free(k->f1);
    lcn_fc32_free(k->f2);
    free(k);
}

lcn_se32 *lcn_se32_new(const lcn_layer *L) {
    lcn_se32 *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    const lcn_act relu = {LCN_ACT_RELU, 0.f, 0.f};
    k->c = L->ic, k->r = L->d.se_reduce;
    k->f1 = lcn_fc32_new(L->w[0], L->w[1], k->r, k->c, &relu, 1.f);
    k->f2 = lcn_fc32_new(L->w[2], L->w[3], k->c, k->r, &L->d.gate, 1.f);
    if (!k->f1 || !k->f2) {
        lcn_se32_free(k);
        return NULL;
    }
    return k;
}

size_t lcn_se32_scratch_bytes(const lcn_se32 *k, int n) {
    size_t cp = (size_t)(k->c + 15) / 16 * 16;
    return sizeof(float) * (size_t)n * (2 * cp + k->c + k->r) + 64;
}

/* Over many rows (bound by arithmetic) each tile prefetches its share of
 * the next panel: non-temporal (1, the default) or plainly into L2 (0,
 * LCNET_NO_NTA=1). On AMD Zen the weights a non-temporal prefetch brought
 * in do not go on to L3 when they leave L2, so that a run's ~12-20 MB of
 * arithmetic-bound 1x1 weights, each read once a run, no longer push out of
 * L3 what the next run finds there: batch 1's head and SE weights (bound by
 * reading them) and the activation slots. x2.0 at 1 thread, lcnet-bench
 * layers, alternating processes: last_conv + fc 393 / 382 -> 335 / 324 us,
 * the 1x1 convs themselves unchanged. Process-wide; read at run time. */
static int fc_nta = -1;

void lcn_test_fc32_nta(int on) { __atomic_store_n(&fc_nta, on ? 1 : 0, __ATOMIC_RELAXED); }

#ifdef LCN_HAVE_FC32

/* Prefetches pfl cache lines of the next panel from *pf (up to pfend) into
 * L2 (or non-temporally: fc_nta) and advances *pf. */
LCN_FC_INLINE void fc_prefetch(const char **pf, const char *pfend, int pfl, int nta) {
    if (nta)
        for (int j = 0; j < pfl && *pf < pfend; j++, *pf += 64) _mm_prefetch(*pf, _MM_HINT_NTA);
    else
        for (int j = 0; j < pfl && *pf < pfend; j++, *pf += 64) _mm_prefetch(*pf, _MM_HINT_T1);
}

/* A thread's list of byte ranges to prefetch (from lcn_pf) and where it is
 * in them. */
typedef struct fc_rng {
    const char *a, *b;
} fc_rng;
enum { FC_RNG_MAX = 16 };
typedef struct fc_pfq {
    const char *p, *end;     /* the current range */
    const fc_rng *r, *rend;  /* the ranges after it */
} fc_pfq;

/* Prefetches the next n lines of q into L2. */
LCN_FC_INLINE void fc_prefetch_q(fc_pfq *q, int n) {
    for (int j = 0; j < n; j++) {
        if (q->p >= q->end) {
            if (q->r == q->rend) return;
            q->p = q->r->a, q->end = q->r->b, q->r++;
        }
        _mm_prefetch(q->p, _MM_HINT_T1);
        q->p += 64;
    }
}

/* P rows x V vectors of one panel (width pw = 16 V): rows x (stride ldx),
 * panel weights w [k][pw], outputs d (stride ldd), the last vector's store
 * masked by last, each output act(sum) * scale. P == 1 sums the even and
 * the odd k apart and adds the two at the end: 2V independent accumulation
 * chains instead of V. Every two k steps
 * it also prefetches pfl lines of the next panel (*pf, up to pfend): the
 * first tile of a panel then finds it in L2 instead of waiting on memory;
 * and qfl lines of a later layer's weights (qf; see lcn_fc32_run_pf). */
LCN_FC_AVX512 LCN_FC_INLINE void fc_tile(const float *x, size_t ldx, const float *w, int kk,
        const float *bias, float *d, size_t ldd, __mmask16 last, const char **pf,
        const char *pfend, int pfl, int nta, fc_pfq *qf, int qfl, float scale,
        float alpha, float beta, const int act, const int P, const int V) {
    const int pw = 16 * V;
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
            fc_prefetch(pf, pfend, pfl, nta);
            fc_prefetch_q(qf, qfl);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc[0][v] = _mm512_fmadd_ps(x0, _mm512_load_ps(wi + 16 * v), acc[0][v]);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) acc2[v] = _mm512_fmadd_ps(x1, _mm512_load_ps(wi + pw + 16 * v), acc2[v]);
        }
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[0][v] = _mm512_add_ps(acc[0][v], acc2[v]);
    }
    for (; i < kk; i++) {
        if (!(i & 1)) {
            fc_prefetch(pf, pfend, pfl, nta);
            fc_prefetch_q(qf, qfl);
        }
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
    LCN_TILE_STORE(acc, P, V, d, ldd, last, act, alpha, beta, scale);
}

/* Row tiles of a panel: 6 rows (V <= 4: at most 24 accumulators), then 4,
 * 2, 1. */
static int fc_tiles(int m) {
    int t = m / 6;
    m %= 6;
    return t + m / 4 + (m % 4) / 2 + (m % 2);
}

/* Rows r.. of one panel through fc_tile, in tiles of P. */
#define FC_TILE(P, V, ACT)                                                                              \
    fc_tile(x + (size_t)r * kk, kk, w, kk, bias, d + (size_t)r * n, n, last, &pf, pfend, pfl, nta, qf, \
            qfl, k->scale, k->alpha, k->beta, ACT, P, V)
#define FC_ROWS(V, ACT)                                                                             \
    {                                                                                               \
        int r = 0;                                                                                  \
        for (; r + 6 <= m; r += 6) FC_TILE(6, V, ACT);                                              \
        for (; r + 4 <= m; r += 4) FC_TILE(4, V, ACT);                                              \
        for (; r + 2 <= m; r += 2) FC_TILE(2, V, ACT);                                              \
        for (; r < m; r++) FC_TILE(1, V, ACT);                                                      \
    }

/* Panel p0 (its first column) for the m rows; prefetches panel next (its
 * first column; <= p0: none) meanwhile. */
LCN_FC_AVX512 LCN_FC_INLINE void fc_panel(const lcn_fc32 *k, const float *x, float *y, int m, int p0,
        int next, fc_pfq *qf, size_t qlines, const int act) {
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
    const int nta = lcn_env_switch(&fc_nta, "LCNET_NO_NTA");
    if (next > p0 && m > 1) {
        int npw = k->npad - next < FC_PANEL ? k->npad - next : FC_PANEL;
        size_t lines = (size_t)kk * npw / 16;
        int t = fc_tiles(m), stops = (t > 1 ? t - 1 : 1) * (kk / 2 > 0 ? kk / 2 : 1);
        pf = (const char *)(k->w + (size_t)next * kk);
        pfend = pf + lines * 64;
        pfl = (int)((lines + stops - 1) / stops);
    }
    /* this panel's share of the later layers' lines, over all its stops */
    int qfl = 0;
    if (qlines) {
        size_t stops = (size_t)fc_tiles(m) * (kk / 2 > 0 ? kk / 2 : 1);
        qfl = (int)((qlines + stops - 1) / stops);
    }
    switch (pw / 16) {
        case 4: FC_ROWS(4, act) break;
        case 3: FC_ROWS(3, act) break;
        case 2: FC_ROWS(2, act) break;
        default: FC_ROWS(1, act) break;
    }
}
#undef FC_ROWS
#undef FC_TILE

#define FC_PANELS(ACT, NAME)                                                                       \
    LCN_FC_AVX512 static void NAME(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1, \
            fc_pfq *qf, size_t qlines) {                                                           \
        size_t ql = (qlines + (q1 - q0) - 1) / (q1 - q0);                                          \
        for (int q = q0; q < q1; q++)                                                              \
            fc_panel(k, x, y, m, q * FC_PANEL, q + 1 < q1 ? (q + 1) * FC_PANEL : 0, qf, ql, ACT);   \
    }
FC_PANELS(LCN_ACT_NONE, fc_panels_none)
FC_PANELS(LCN_ACT_RELU, fc_panels_relu)
FC_PANELS(LCN_ACT_HARDSWISH, fc_panels_hswish)
FC_PANELS(LCN_ACT_HARDSIGMOID, fc_panels_hsig)
#undef FC_PANELS

/* Panels [q0, q1) for the m rows, prefetching the ranges [r, r + nr)
 * into L2 over them. */
static void fc_panels_pf(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1, const fc_rng *r,
        int nr) {
    if (q1 <= q0) return;
    if (k->avx2) { /* no prefetching donors on AVX2: the 1x1 convs before it are oneDNN's */
        lcn_fc32_panels_avx2(k, x, y, m, q0, q1);
        return;
    }
    fc_pfq q = {NULL, NULL, r, r + nr};
    size_t lines = 0;
    for (int i = 0; i < nr; i++) lines += (size_t)(r[i].b - r[i].a + 63) / 64;
    switch (k->act) {
        case LCN_ACT_RELU: fc_panels_relu(k, x, y, m, q0, q1, &q, lines); break;
        case LCN_ACT_HARDSWISH: fc_panels_hswish(k, x, y, m, q0, q1, &q, lines); break;
        case LCN_ACT_HARDSIGMOID: fc_panels_hsig(k, x, y, m, q0, q1, &q, lines); break;
        default: fc_panels_none(k, x, y, m, q0, q1, &q, lines); break;
    }
}

static void fc_panels(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    fc_panels_pf(k, x, y, m, q0, q1, NULL, 0);
}

/* The byte ranges thread t of nt prefetches for pf[0..npf) (lcn_pf's
 * rules) into r (at most FC_RNG_MAX); returns how many. */
static int fc_pf_ranges(const lcn_pf *pf, int npf, int t, int nt, fc_rng *r) {
    int nr = 0;
    for (int i = 0; i < npf && nr < FC_RNG_MAX; i++) {
        const lcn_fc32 *k = pf[i].k;
        const int np = (k->npad + FC_PANEL - 1) / FC_PANEL, parts = pf[i].parts;
        const size_t panel = sizeof(float) * (size_t)k->k * FC_PANEL; /* bytes of a full panel */
        const char *w0 = (const char *)k->w, *wend = w0 + sizeof(float) * (size_t)k->k * k->npad;
        for (int p = 0; p < parts && nr < FC_RNG_MAX; p++) {
            if (parts == nt && p != t) continue;
            const char *a = w0 + panel * (size_t)(np * p / parts);
            const char *b = p + 1 < parts ? w0 + panel * (size_t)(np * (p + 1) / parts) : wend;
            const char *wa = a, *wb = (size_t)(b - a) > pf[i].bytes ? a + pf[i].bytes : b;
            if (parts != nt && nt > 1) { /* this thread's share of the part's bytes, in whole lines */
                size_t lines = (size_t)(wb - wa + 63) / 64;
                const char *sa = wa + 64 * (lines * t / nt), *sb = wa + 64 * (lines * (t + 1) / nt);
                wa = sa, wb = sb < wb ? sb : wb;
            }
            if (wb > wa) r[nr].a = wa, r[nr].b = wb, nr++;
        }
    }
    return nr;
}

/* How nthr threads share a run of k on m rows: one thread runs it all; the
 * rows split (two tiles a thread or more), each thread reading all the
 * weights; or the panels (columns) split.
 *
 * Over few rows with weights larger than a core's L2 (FC_COLS_BYTES) the
 * panels split even with two tiles a thread: split by rows, both cores
 * stream all the weights from memory (a non-temporal prefetch leaves none
 * in L3 for the other), and a 7x7 map's 49 rows are too few to hide that
 * behind the arithmetic. x2.0 at 2 threads (lcnet-bench layers, one kernel
 * cache, two alternating pairs of processes): blocks6.1's 1024 -> 1024 at
 * 7x7 415 / 338 -> 312 / 311 us, blocks6.0's 512 -> 1024 194 / 169 ->
 * 165 / 166; x2.5's 1280 -> 1280 565 / 662 -> 551 / 578. The 14x14 maps
 * (196 rows) keep the rows split: x1.0's 256 -> 256 there ran 83-86 us so
 * against 96-104 with the columns split. */
enum { FC_ONE, FC_ROWS, FC_COLS };
enum { FC_COLS_ROWS = 64, FC_COLS_BYTES = 1 << 20 };
static int fc_split(const lcn_fc32 *k, int m, int nthr) {
    int np = (k->npad + FC_PANEL - 1) / FC_PANEL;
    if (nthr <= 1 || (np < 2 && m < 12 * nthr)) return FC_ONE;
    if (m < FC_COLS_ROWS && np >= 2 * nthr && sizeof(float) * (size_t)k->k * k->npad > FC_COLS_BYTES)
        return FC_COLS;
    return m >= 12 * nthr ? FC_ROWS : FC_COLS;
}

void lcn_fc32_run_pf(const lcn_fc32 *k, const float *x, float *y, int m, int nthr, const lcn_pf *pf, int npf) {
    int np = (k->npad + FC_PANEL - 1) / FC_PANEL, split = fc_split(k, m, nthr);
    if (m <= 0) return;
    if (split == FC_ONE) {
        fc_rng r[FC_RNG_MAX];
        fc_panels_pf(k, x, y, m, 0, np, r, fc_pf_ranges(pf, npf, 0, 1, r));
        return;
    }
    if (split == FC_ROWS) {
        /* enough rows for two tiles a thread: the rows split, each thread
         * reading all the weights (at 2 threads on x1.0's 14x14 1x1 convs:
         * 83-86 us vs 96-104 with the columns split) */
#pragma omp parallel num_threads(nthr)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            int tiles = m / 6, r0 = tiles * t / nt * 6, r1 = t == nt - 1 ? m : tiles * (t + 1) / nt * 6;
            fc_rng r[FC_RNG_MAX];
            int nr = fc_pf_ranges(pf, npf, t, nt, r);
            fc_panels_pf(k, x + (size_t)r0 * k->k, y + (size_t)r0 * k->n, r1 - r0, 0, np, r, nr);
        }
        return;
    }
    /* few rows (batch 1 FCs): the panels (columns) split among the threads,
     * each reading its own part of the weights once */
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        fc_rng r[FC_RNG_MAX];
        int nr = fc_pf_ranges(pf, npf, t, nt, r);
        fc_panels_pf(k, x, y, m, np * t / nt, np * (t + 1) / nt, r, nr);
    }
}

int lcn_test_fc32_pf_ranges(int kin, int n, int parts, size_t bytes, int t, int nt, size_t *off, int max) {
    lcn_fc32 k = {.k = kin, .n = n, .npad = (n + 15) / 16 * 16};
    k.w = malloc(sizeof(float) * (size_t)kin * k.npad);
    if (!k.w) return -1;
    lcn_pf pf = {&k, parts, bytes};
    fc_rng r[FC_RNG_MAX];
    int nr = fc_pf_ranges(&pf, 1, t, nt, r);
    for (int i = 0; i < nr && i < max; i++) {
        off[2 * i] = (size_t)(r[i].a - (const char *)k.w);
        off[2 * i + 1] = (size_t)(r[i].b - (const char *)k.w);
    }
    free(k.w);
    return nr;
}

int lcn_fc32_parts(const lcn_fc32 *k, int m, int nthr) {
    return fc_split(k, m, nthr) == FC_COLS ? nthr : 1;
}

size_t lcn_fc32_part_bytes(const lcn_fc32 *k, int parts) {
    size_t np = ((size_t)k->npad + FC_PANEL - 1) / FC_PANEL, panel = sizeof(float) * (size_t)k->k * FC_PANEL;
    size_t all = sizeof(float) * (size_t)k->k * (size_t)k->npad, part = panel * ((np + parts - 1) / parts);
    return part < all ? part : all;
}

void lcn_fc32_run(const lcn_fc32 *k, const float *x, float *y, int m, int nthr) {
    lcn_fc32_run_pf(k, x, y, m, nthr, NULL, 0);
}

void lcn_fc32_run_blk(const lcn_fc32 *k, const float *x, float *y, int m, int hw, int nthr) {
    const int ng = k->npad / 16;
    if (m <= 0) return;
    if (nthr <= 1 || ng < 2) {
        lcn_fc32_blk_avx2(k, x, y, hw, 0, m, 0, ng);
        return;
    }
    /* the strips split: each thread reads all the inputs (from L2) and its
     * share of the weights once */
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        lcn_fc32_blk_avx2(k, x, y, hw, 0, m, ng * t / nt, ng * (t + 1) / nt);
    }
}

/* ---- squeeze-excite: pool, two FCs, scale, as one step ---- */

/* v[c] = mean over hw pixels of x [hw][c], channel vectors [v0, v1). */
LCN_FC_AVX512 static void se_pool(const float *x, int hw, int c, float *v, int v0, int v1) {
    const float inv = 1.f / (float)hw;
    for (int b = v0; b < v1; b += 8) {
        int nb = v1 - b < 8 ? v1 - b : 8;
        __m512 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm512_setzero_ps();
        for (int p = 0; p < hw; p++) {
            const float *q = x + (size_t)p * c + (size_t)b * 16;
            for (int j = 0; j < nb; j++) {
                int rem = c - (b + j) * 16;
                __mmask16 m = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
                a[j] = _mm512_add_ps(a[j], _mm512_maskz_loadu_ps(m, q + 16 * j));
            }
        }
        for (int j = 0; j < nb; j++) _mm512_store_ps(v + (size_t)(b + j) * 16, _mm512_mul_ps(a[j], _mm512_set1_ps(inv)));
    }
}

/* x [p][c] *= g[c] for pixels [0, hw), channel vectors [v0, v1). */
LCN_FC_AVX512 static void se_mul(float *x, int hw, int c, const float *g, int v0, int v1) {
    int full = c / 16 < v1 ? c / 16 : v1, rem = c % 16;
    __mmask16 m = (__mmask16)((1u << rem) - 1);
    for (int p = 0; p < hw; p++) {
        float *q = x + (size_t)p * c;
        int j = v0;
        for (; j < full; j++)
            _mm512_storeu_ps(q + 16 * j, _mm512_mul_ps(_mm512_loadu_ps(q + 16 * j), _mm512_load_ps(g + 16 * j)));
        if (rem && j < v1)
            _mm512_mask_storeu_ps(q + 16 * j, m,
                    _mm512_mul_ps(_mm512_maskz_loadu_ps(m, q + 16 * j), _mm512_load_ps(g + 16 * j)));
    }
}

/* Thread t of nt: its channel vectors in every phase, its panels of each
 * FC; with nt > 1 the phases are separated by barriers of the enclosing
 * parallel region. */
static void se_part(const lcn_se32 *k, float *x, int n, int hw, int blk, float *scratch, int t, int nt) {
    const int c = k->c, cp = (c + 15) / 16 * 16, nv = cp / 16;
    const int v0 = nv * t / nt, v1 = nv * (t + 1) / nt;
    const int c0 = 16 * v0, c1 = 16 * v1 < c ? 16 * v1 : c;
    /* v (pooled) and g (gates): rows of cp floats, whole vectors; the FCs
     * read and write dense rows (vd, ud) */
    float *v = scratch, *g = v + (size_t)n * cp;
    float *vd = g + (size_t)n * cp, *ud = vd + (size_t)n * c;
    const int avx2 = k->f1->avx2;
    size_t img = (size_t)hw * (blk ? (c + 7) / 8 * 8 : c);
    for (int i = 0; i < n; i++) {
        if (avx2)
            lcn_se_pool_avx2(x + i * img, hw, c, blk, v + (size_t)i * cp, c0, c1);
        else
            se_pool(x + i * img, hw, c, v + (size_t)i * cp, v0, v1);
        if (c1 > c0) memcpy(vd + (size_t)i * c + c0, v + (size_t)i * cp + c0, sizeof(float) * (c1 - c0));
    }
    int np1 = (k->f1->npad + FC_PANEL - 1) / FC_PANEL, np2 = (k->f2->npad + FC_PANEL - 1) / FC_PANEL;
    if (nt > 1) {
#pragma omp barrier
    }
    fc_panels(k->f1, vd, ud, n, np1 * t / nt, np1 * (t + 1) / nt);
    if (nt > 1) {
#pragma omp barrier
    }
    fc_panels(k->f2, ud, vd, n, np2 * t / nt, np2 * (t + 1) / nt);
    if (nt > 1) {
#pragma omp barrier
    }
    for (int i = 0; i < n; i++) {
        float *gi = g + (size_t)i * cp;
        if (c1 > c0) memcpy(gi + c0, vd + (size_t)i * c + c0, sizeof(float) * (c1 - c0));
        if (v1 == nv) memset(gi + c, 0, sizeof(float) * (cp - c));
        if (avx2)
            lcn_se_mul_avx2(x + i * img, hw, c, blk, gi, c0, c1);
        else
            se_mul(x + i * img, hw, c, gi, v0, v1);
    }
}

void lcn_se32_run(const lcn_se32 *k, float *x, int n, int hw, int blk, int nthr, float *scratch) {
    if (nthr <= 1) {
        se_part(k, x, n, hw, blk, scratch, 0, 1);
        return;
    }
    /* one parallel region: each thread pools, scales and gates its own
     * channels and runs its panels of the two FCs */
#pragma omp parallel num_threads(nthr)
    se_part(k, x, n, hw, blk, scratch, omp_get_thread_num(), omp_get_num_threads());
}

#else

void lcn_se32_run(const lcn_se32 *k, float *x, int n, int hw, int blk, int nthr, float *scratch) {
    (void)k, (void)x, (void)n, (void)hw, (void)blk, (void)nthr, (void)scratch;
}

int lcn_fc32_parts(const lcn_fc32 *k, int m, int nthr) {
    (void)k, (void)m, (void)nthr;
    return 1;
}

size_t lcn_fc32_part_bytes(const lcn_fc32 *k, int parts) {
    (void)k, (void)parts;
    return 0;
}

int lcn_test_fc32_pf_ranges(int kin, int n, int parts, size_t bytes, int t, int nt, size_t *off, int max) {
    (void)kin, (void)n, (void)parts, (void)bytes, (void)t, (void)nt, (void)off, (void)max;
    return -1;
}

void lcn_fc32_run(const lcn_fc32 *k, const float *x, float *y, int m, int nthr) {
    (void)k, (void)x, (void)y, (void)m, (void)nthr;
}

void lcn_fc32_run_blk(const lcn_fc32 *k, const float *x, float *y, int m, int hw, int nthr) {
    (void)k, (void)x, (void)y, (void)m, (void)hw, (void)nthr;
}

void lcn_fc32_run_pf(const lcn_fc32 *k, const float *x, float *y, int m, int nthr, const lcn_pf *pf, int npf) {
    (void)k, (void)x, (void)y, (void)m, (void)nthr, (void)pf, (void)npf;
}

#endif
