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
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lcn_act512.h"
#include "lcn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LCN_HAVE_DWPW 1
#define LCN_AVX512 __attribute__((target("avx512f,fma")))
#endif

/* Whether dw_row prefetches the input rows of the next output row (1, the
 * default; LCNET_NO_DWPF=1: 0). Process-wide; read at run time. */
static int dwpw_pf = -1;

void lcn_test_dwpw_prefetch(int on) { __atomic_store_n(&dwpw_pf, on ? 1 : 0, __ATOMIC_RELAXED); }

int lcn_avx512_supported(void) {
#ifdef LCN_HAVE_DWPW
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && !lcn_env_off("LCNET_NO_AVX512");
#else
    return 0;
#endif
}

int lcn_dwpw_supported(void) { return lcn_avx512_supported() || lcn_avx2_supported(); }

const char *lcn_dwpw_isa(void) {
    return lcn_avx512_supported() ? "avx512" : lcn_avx2_supported() ? "avx2" : "";
}

const char *lcn_kernel_isa(const char *name) {
    if (strcmp(name, "lcn_dwpw") == 0 || strcmp(name, "lcn_chain") == 0 || strcmp(name, "lcn_stem") == 0 ||
            strcmp(name, "lcn_fc32") == 0 || strcmp(name, "lcn_se32") == 0 || strcmp(name, "lcn_dw32") == 0)
        return lcn_dwpw_isa();
    return "";
}

static int pad16(int x) { return (x + 15) / 16 * 16; }

void lcn_dwpw_free(lcn_dwpw *k) {
    if (!k) return;
    free(k->wdw);
    free(k->zero);
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
    k->avx2 = !lcn_avx512_supported();
    k->wdw = lcn_aligned_alloc(sizeof(float) * kk * k->cpad);
    k->zero = lcn_aligned_alloc(sizeof(float) * ((size_t)k->iw * c + 16));
    k->bdw = lcn_aligned_alloc(sizeof(float) * k->cpad);
    k->wpw = lcn_aligned_alloc(sizeof(float) * (size_t)c * k->ocpad);
    k->bpw = lcn_aligned_alloc(sizeof(float) * k->ocpad);
    if (!k->wdw || !k->bdw || !k->wpw || !k->bpw || !k->zero) {
        lcn_dwpw_free(k);
        return NULL;
    }
    memset(k->wdw, 0, sizeof(float) * kk * k->cpad);
    memset(k->zero, 0, sizeof(float) * ((size_t)k->iw * c + 16));
    memset(k->bdw, 0, sizeof(float) * k->cpad);
    memset(k->bpw, 0, sizeof(float) * k->ocpad);
    /* depthwise weights: [c][1][kh][kw] -> [kh*kw][cpad] */
    for (int ch = 0; ch < c; ch++)
        for (int t = 0; t < kk; t++) k->wdw[(size_t)t * k->cpad + ch] = dw->w[0][(size_t)ch * kk + t];
    if (dw->w[1])
        for (int ch = 0; ch < c; ch++) k->bdw[ch] = dw->w[1][ch];
    /* pointwise weights: [oc][c] -> [c][ocpad], padding columns zeroed */
    lcn_transpose(pw->w[0], (size_t)c, oc, c, k->wpw, (size_t)k->ocpad);
    if (oc < k->ocpad)
        for (int ch = 0; ch < c; ch++)
            memset(k->wpw + (size_t)ch * k->ocpad + oc, 0, sizeof(float) * (size_t)(k->ocpad - oc));
    if (pw->w[1])
        for (int o = 0; o < oc; o++) k->bpw[o] = pw->w[1][o];
    return k;
}

#ifdef LCN_HAVE_DWPW

#define LCN_INLINE static inline __attribute__((always_inline))

/* Input lines to prefetch into L2 while a depthwise row is computed (the
 * rows the next output row reads first): p up to end, per lines a group. */
typedef struct dw_pf {
    const char *p, *end;
    int per;
} dw_pf;

LCN_INLINE void dw_pf_step(dw_pf *f) {
    for (int j = 0; j < f->per && f->p < f->end; j++, f->p += 64) _mm_prefetch(f->p, _MM_HINT_T1);
}

/* Activations (lcn_act512) are compile-time constants in the inlined
 * bodies below: each entry point switches once on the kind and calls the
 * body with a literal. */

/* The depthwise conv reads its input through rows[y], y in [0, kh): the
 * input row oy * sh - pt + y of the output row oy being computed (only rows
 * inside the input are read). The rows may lie in one image or in the ring
 * buffer of a chain (lcn_chain_run). */

/* One output pixel ox, channel block b, of the depthwise conv (any kernel
 * size, clipped at the borders), weights from memory. */
LCN_AVX512 LCN_INLINE void dw_px(const lcn_dwpw *k, const float *const *rows, int kh0, int kh1,
        int ox, int b, __mmask16 m, float *buf, const int act) {
    const int c = k->c, cp = k->cpad, kw = k->kw, iw = k->iw;
    int ix0 = ox * k->sw - k->pl, kw0 = ix0 < 0 ? -ix0 : 0, kw1 = iw - ix0 < kw ? iw - ix0 : kw;
    __m512 a = _mm512_load_ps(k->bdw + b * 16);
    for (int y = kh0; y < kh1; y++) {
        const float *row = rows[y] + (ptrdiff_t)ix0 * c + b * 16;
        const float *w = k->wdw + (size_t)y * kw * cp + b * 16;
        for (int x = kw0; x < kw1; x++)
            a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + (size_t)x * c),
                    _mm512_load_ps(w + (size_t)x * cp), a);
    }
    _mm512_store_ps(buf + (size_t)ox * cp + b * 16, lcn_act512(a, act, 0.f, 0.f));
}

/* One output row oy of the depthwise conv into buf [ow][cpad]. K > 0: a
 * K x K kernel with horizontal stride SW, both known at compile time, whose
 * weights stay in registers while G pixels at a time go through the
 * interior of the row: each input pixel of a kernel row is loaded once and
 * multiplied into every one of the G outputs it touches (a pointer walks
 * the row by c floats, so no per-tap offsets are kept in registers); K = 0:
 * any size, pixel by pixel. */
/* G output pixels of one channel block from the rows rz (interior of the
 * row: every tap inside the input), weights w in registers. FULL: all 16
 * channels are real (unmasked loads, ~15% faster than masked ones). */
LCN_AVX512 LCN_INLINE void dw_group(const float *const *rz, size_t xoff, int c, const __m512 (*w)[5],
        __m512 bias, float *d, int cp, __mmask16 m, const int act, const int K, const int G,
        const int SW, const int FULL) {
    const int SPAN = (G - 1) * SW + K;
    __m512 a[8]; /* G <= 8: a fixed size, or GCC makes it a VLA on the stack */
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) a[j] = bias;
#pragma GCC unroll 8
    for (int y = 0; y < K; y++) {
        const float *q = rz[y] + xoff;
#pragma GCC unroll 32
        for (int t = 0; t < SPAN; t++) {
            const __m512 v = FULL ? _mm512_loadu_ps(q) : _mm512_maskz_loadu_ps(m, q);
            q += c;
#pragma GCC unroll 8
            for (int j = 0; j < G; j++) {
                const int x = t - j * SW;
                if (x >= 0 && x < K) a[j] = _mm512_fmadd_ps(v, w[y][x], a[j]);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) _mm512_store_ps(d + (size_t)j * cp, lcn_act512(a[j], act, 0.f, 0.f));
}

LCN_AVX512 LCN_INLINE void dw_row_t(const lcn_dwpw *k, const float *const *rows, int oy, float *buf,
        dw_pf *pf, const int act, const int K, const int G, const int SW) {
    const int c = k->c, cp = k->cpad, kh = k->kh, kw = k->kw, iw = k->iw, sw = k->sw;
    const int nb = cp / 16;
    const __mmask16 tail = (c % 16) ? (__mmask16)((1u << (c % 16)) - 1) : (__mmask16)0xffff;
    int kh0 = k->pt - oy * k->sh, kh1 = k->ih + k->pt - oy * k->sh;
    if (kh0 < 0) kh0 = 0;
    if (kh1 > kh) kh1 = kh;
    /* ox whose whole kernel row lies inside the input: [lo, hi] */
    int lo = (k->pl + sw - 1) / sw, hi = iw - kw + k->pl < 0 ? -1 : (iw - kw + k->pl) / sw;
    if (hi >= k->ow) hi = k->ow - 1;
    if (lo > k->ow) lo = k->ow;
    /* rows outside the input read zeros: no branch in the sums */
    const float *rz[5];
    for (int y = 0; y < 5 && y < kh; y++) rz[y] = y >= kh0 && y < kh1 ? rows[y] : k->zero;
    for (int b = 0; b < nb; b++) {
        const __mmask16 m = b == nb - 1 ? tail : (__mmask16)0xffff;
        int ox = 0;
        for (; ox < lo; ox++) dw_px(k, rows, kh0, kh1, ox, b, m, buf, act);
        if (K > 0) {
            const int KK = K > 0 ? K : 1;
            __m512 w[5][5];
#pragma GCC unroll 8
            for (int y = 0; y < KK; y++)
#pragma GCC unroll 8
                for (int x = 0; x < KK; x++)
                    w[y][x] = _mm512_load_ps(k->wdw + (size_t)(y * KK + x) * cp + b * 16);
            const __m512 bias = _mm512_load_ps(k->bdw + b * 16);
            /* groups of G, then the interior's rest in groups of 4, 2, 1
             * (dw_px, the generic path, is several times slower a pixel) */
#define DW_GROUPS(GG, FULL)                                                                        \
    for (; ox + (GG) - 1 <= hi; ox += (GG))                                                        \
        dw_group(rz, (size_t)(ox * SW - k->pl) * c + b * 16, c, (const __m512(*)[5])w, bias,       \
                buf + (size_t)ox * cp + b * 16, cp, m, act, KK, (GG), SW, FULL), dw_pf_step(pf);
            if (m == (__mmask16)0xffff) {
                DW_GROUPS(G, 1)
                if (G > 4) DW_GROUPS(4, 1)
                if (G > 2) DW_GROUPS(2, 1)
                if (G > 1) DW_GROUPS(1, 1)
            } else {
                DW_GROUPS(G, 0)
                if (G > 4) DW_GROUPS(4, 0)
                if (G > 2) DW_GROUPS(2, 0)
                if (G > 1) DW_GROUPS(1, 0)
            }
#undef DW_GROUPS
        }
        for (; ox < k->ow; ox++) dw_px(k, rows, kh0, kh1, ox, b, m, buf, act);
    }
    while (pf->p < pf->end) dw_pf_step(pf);
}

#define DW_ROW(ACT, NAME)                                                                          \
    LCN_AVX512 static void NAME(const lcn_dwpw *k, const float *const *rows, int oy, float *buf,   \
            dw_pf *pf) {                                                                           \
        if (k->kh == 3 && k->kw == 3 && k->sw == 1)                                                \
            dw_row_t(k, rows, oy, buf, pf, ACT, 3, 8, 1);                                          \
        else if (k->kh == 3 && k->kw == 3 && k->sw == 2)                                           \
            dw_row_t(k, rows, oy, buf, pf, ACT, 3, 8, 2);                                          \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 1)                                           \
            dw_row_t(k, rows, oy, buf, pf, ACT, 5, 4, 1);                                          \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 2)                                           \
            dw_row_t(k, rows, oy, buf, pf, ACT, 5, 4, 2);                                          \
        else                                                                                       \
            dw_row_t(k, rows, oy, buf, pf, ACT, 0, 1, 1);                                          \
    }
DW_ROW(LCN_ACT_NONE, dw_row_none)
DW_ROW(LCN_ACT_RELU, dw_row_relu)
DW_ROW(LCN_ACT_HARDSWISH, dw_row_hswish)

/* P pixels x V vectors of 16 output channels of the 1x1 conv (P and V
 * literal so that the accumulators live in registers). */
#define PW_TILE(P, V)                                                                          \
    LCN_AVX512 LCN_INLINE void pw_tile_##P##_##V(const lcn_dwpw *k, const float *a,            \
            const float *w, const float *bias, float *d, __mmask16 last, const int act) {      \
        const int c = k->c, cp = k->cpad, ocp = k->ocpad, oc = k->oc;                          \
        __m512 acc[P][V];                                                                      \
        _Pragma("GCC unroll 16") for (int v = 0; v < V; v++) {                                 \
            __m512 b = _mm512_load_ps(bias + 16 * v);                                          \
            _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) acc[p][v] = b;                \
        }                                                                                      \
        for (int i = 0; i < c; i++) {                                                          \
            __m512 wv[V];                                                                      \
            _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                               \
                wv[v] = _mm512_load_ps(w + (size_t)i * ocp + 16 * v);                         \
            _Pragma("GCC unroll 16") for (int p = 0; p < P; p++) {                             \
                __m512 x = _mm512_set1_ps(a[(size_t)p * cp + i]);                              \
                _Pragma("GCC unroll 16") for (int v = 0; v < V; v++)                           \
                    acc[p][v] = _mm512_fmadd_ps(x, wv[v], acc[p][v]);                          \
            }                                                                                  \
        }                                                                                      \
        LCN_TILE_STORE(acc, P, V, d, oc, last, act, 0.f, 0.f, 1.f)                             \
    }
PW_TILE(6, 4)
PW_TILE(4, 4)
PW_TILE(2, 4)
PW_TILE(1, 4)
PW_TILE(8, 3)
PW_TILE(4, 3)
PW_TILE(2, 3)
PW_TILE(1, 3)
PW_TILE(12, 2)
PW_TILE(4, 2)
PW_TILE(2, 2)
PW_TILE(1, 2)
PW_TILE(12, 1)
PW_TILE(4, 1)
PW_TILE(2, 1)
PW_TILE(1, 1)

/* Pixels [0, np) with V vectors: tiles of P, then of 4, 2, 1. */
#define PW_COLS(P, V)                                                                          \
    {                                                                                          \
        int p = 0;                                                                             \
        for (; p + P <= np; p += P)                                                            \
            pw_tile_##P##_##V(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last, act); \
        for (; p + 4 <= np; p += 4)                                                            \
            pw_tile_4_##V(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last, act);   \
        for (; p + 2 <= np; p += 2)                                                            \
            pw_tile_2_##V(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last, act);   \
        for (; p < np; p++)                                                                    \
            pw_tile_1_##V(k, buf + (size_t)p * cp, w, bias, dd + (size_t)p * oc, last, act);   \
    }

/* The 1x1 conv of np pixels: buf [np][cpad] -> d [np][oc]. */
LCN_AVX512 LCN_INLINE void pw_row_t(const lcn_dwpw *k, const float *buf, float *d, int np, const int act) {
    const int ocp = k->ocpad, oc = k->oc, cp = k->cpad;
    for (int o = 0; o < ocp; o += 64) {
        int nv = (ocp - o) / 16 < 4 ? (ocp - o) / 16 : 4;
        int rem = oc - (o + 16 * (nv - 1)); /* channels in the last vector */
        __mmask16 last = rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1);
        const float *w = k->wpw + o, *bias = k->bpw + o;
        float *dd = d + o;
        switch (nv) {
            case 4: PW_COLS(6, 4) break;
            case 3: PW_COLS(8, 3) break;
            case 2: PW_COLS(12, 2) break;
            default: PW_COLS(12, 1) break;
        }
    }
}

LCN_AVX512 static void pw_row_none(const lcn_dwpw *k, const float *b, float *d, int np) {
    pw_row_t(k, b, d, np, LCN_ACT_NONE);
}
LCN_AVX512 static void pw_row_relu(const lcn_dwpw *k, const float *b, float *d, int np) {
    pw_row_t(k, b, d, np, LCN_ACT_RELU);
}
LCN_AVX512 static void pw_row_hswish(const lcn_dwpw *k, const float *b, float *d, int np) {
    pw_row_t(k, b, d, np, LCN_ACT_HARDSWISH);
}

/* The input rows output row oy + 1 reads that row oy does not (its last
 * sh), as the prefetch of dw_row computing row oy: the image's rows come
 * from L3 or memory in a run (the layer before wrote them), and the
 * hardware prefetcher does not follow a depthwise row's walk, one 64-byte
 * channel block of each pixel at a time. x2.5 at 1 thread, one kernel
 * cache, three alternating processes (lcnet-bench paper, medians): 10.7 /
 * 10.7 / 10.4 ms vs 11.0 / 10.8 / 10.5 without (x2.0 level).
 * LCNET_NO_DWPF=1 turns it off. */
static dw_pf dw_pf_next(const lcn_dwpw *k, const float *img, int oy, int groups) {
    dw_pf f = {NULL, NULL, 0};
    if (!img || oy + 1 >= k->oh || !lcn_env_switch(&dwpw_pf, "LCNET_NO_DWPF")) return f;
    int lo = oy * k->sh - k->pt + k->kh, hi = (oy + 1) * k->sh - k->pt + k->kh - 1;
    if (lo < 0) lo = 0;
    if (hi > k->ih - 1) hi = k->ih - 1;
    if (hi < lo) return f;
    size_t row = (size_t)k->iw * k->c * sizeof(float);
    f.p = (const char *)img + (size_t)lo * row;
    f.end = (const char *)img + (size_t)(hi + 1) * row;
    size_t lines = (size_t)(f.end - f.p + 63) / 64;
    f.per = (int)((lines + groups - 1) / groups);
    return f;
}

/* Groups of the depthwise row (dw_row_t's group calls, about). */
static int dw_row_groups(const lcn_dwpw *k) {
    int g = k->kh == 5 ? 4 : 8;
    return (k->cpad / 16) * ((k->ow + g - 1) / g);
}

static void dw_row(const lcn_dwpw *k, const float *const *rows, int oy, float *buf, const float *img) {
    if (k->avx2) {
        lcn_dwpw_dw_row_avx2(k, rows, oy, buf);
        return;
    }
    dw_pf pf = dw_pf_next(k, img, oy, dw_row_groups(k));
    switch (k->act1) {
        case LCN_ACT_RELU: dw_row_relu(k, rows, oy, buf, &pf); break;
        case LCN_ACT_HARDSWISH: dw_row_hswish(k, rows, oy, buf, &pf); break;
        default: dw_row_none(k, rows, oy, buf, &pf); break;
    }
}

/* dw_row reading the input rows of output row oy from the image img. */
static void dw_row_img(const lcn_dwpw *k, const float *img, int oy, float *buf) {
    const float *rows[LCN_DWPW_MAXK];
    int iy0 = oy * k->sh - k->pt;
    for (int y = 0; y < k->kh; y++) {
        int iy = iy0 + y;
        rows[y] = iy >= 0 && iy < k->ih ? img + (size_t)iy * k->iw * k->c : NULL;
    }
    dw_row(k, rows, oy, buf, img);
}

static void pw_rows(const lcn_dwpw *k, const float *buf, float *d, int np) {
    if (k->avx2) {
        lcn_dwpw_pw_rows_avx2(k, buf, d, np);
        return;
    }
    switch (k->act2) {
        case LCN_ACT_RELU: pw_row_relu(k, buf, d, np); break;
        case LCN_ACT_HARDSWISH: pw_row_hswish(k, buf, d, np); break;
        default: pw_row_none(k, buf, d, np); break;
    }
}

/* Rows of the depthwise output per 1x1 step: at least 24 pixels when the
 * buffer stays within 64 KiB, so that the 1x1 tiles are full. */
static int chunk_rows(const lcn_dwpw *k) {
    int r = (24 + k->ow - 1) / k->ow;
    while (r > 1 && (size_t)r * k->ow * k->cpad * sizeof(float) > (64u << 10)) r--;
    return r < k->oh ? r : k->oh;
}

static void dwpw_rows(const lcn_dwpw *k, const float *src, float *dst, long r0, long r1) {
    int R = chunk_rows(k);
    float *buf = __builtin_alloca(sizeof(float) * (size_t)R * k->ow * k->cpad + 64);
    buf = (float *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    size_t in_img = (size_t)k->ih * k->iw * k->c, out_img = (size_t)k->oh * k->ow * k->oc;
    size_t row = (size_t)k->ow * k->cpad;
    for (long r = r0; r < r1;) {
        long b = r / k->oh;
        int oy = (int)(r % k->oh), nr = R;
        if (nr > k->oh - oy) nr = k->oh - oy;
        if (nr > r1 - r) nr = (int)(r1 - r);
        for (int j = 0; j < nr; j++) dw_row_img(k, src + b * in_img, oy + j, buf + j * row);
        pw_rows(k, buf, dst + b * out_img + (size_t)oy * k->ow * k->oc, nr * k->ow);
        r += nr;
    }
}

/* ---- chains ---- */

typedef struct chain_ctx {
    const lcn_chain *ch;
    const float *img; /* stage 0 input of the current image */
    float *out;       /* last stage output of the current image */
    float *ring[LCN_CHAIN_MAX];
    float *buf; /* one depthwise output row */
    long next[LCN_CHAIN_MAX]; /* next row each stage computes */
} chain_ctx;

static void chain_compute(chain_ctx *x, int s, int q);

/* Rows [lo, hi] of stage s's output are in its ring after the call (rows
 * are computed in order; rows below lo that were never computed are not
 * needed and are skipped). */
static void chain_ensure(chain_ctx *x, int s, long lo, long hi) {
    if (x->next[s] < lo) x->next[s] = lo;
    while (x->next[s] <= hi) chain_compute(x, s, (int)x->next[s]++);
}

/* Output row q of stage s: its input rows first (from the previous stage),
 * then the depthwise row into buf, then the 1x1 into the ring or dst. */
static void chain_compute(chain_ctx *x, int s, int q) {
    const lcn_chain *ch = x->ch;
    const lcn_dwpw *k = ch->st[s];
    int iy0 = q * k->sh - k->pt;
    if (s > 0) {
        long lo = iy0 < 0 ? 0 : iy0, hi = iy0 + k->kh - 1;
        if (hi > k->ih - 1) hi = k->ih - 1;
        chain_ensure(x, s - 1, lo, hi);
    }
    const float *rows[LCN_DWPW_MAXK];
    size_t rowlen = (size_t)k->iw * k->c;
    for (int y = 0; y < k->kh; y++) {
        int iy = iy0 + y;
        if (iy < 0 || iy >= k->ih)
            rows[y] = NULL;
        else
            rows[y] = s == 0 ? x->img + (size_t)iy * rowlen : x->ring[s - 1] + (size_t)(iy % k->kh) * rowlen;
    }
    dw_row(k, rows, q, x->buf, s == 0 ? x->img : NULL);
    size_t olen = (size_t)k->ow * k->oc;
    float *d = s == ch->n - 1 ? x->out + (size_t)q * olen
                              : x->ring[s] + (size_t)(q % ch->st[s + 1]->kh) * olen;
    pw_rows(k, x->buf, d, k->ow);
}

static size_t round64(size_t x) { return (x + 63) & ~(size_t)63; }

size_t lcn_chain_scratch(lcn_dwpw *const *st, int n) {
    size_t b = 64, row = 0;
    for (int s = 0; s < n; s++) {
        size_t r = (size_t)st[s]->ow * st[s]->cpad * sizeof(float);
        if (r > row) row = r;
        if (s < n - 1) b += round64((size_t)st[s + 1]->kh * st[s]->ow * st[s]->oc * sizeof(float));
    }
    return b + round64(row);
}

static void chain_rows(const lcn_chain *ch, const float *src, float *dst, long r0, long r1, char *mem) {
    chain_ctx x;
    memset(&x, 0, sizeof x);
    x.ch = ch;
    mem = (char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    const lcn_dwpw *first = ch->st[0], *last = ch->st[ch->n - 1];
    for (int s = 0; s < ch->n - 1; s++) {
        x.ring[s] = (float *)mem;
        mem += round64((size_t)ch->st[s + 1]->kh * ch->st[s]->ow * ch->st[s]->oc * sizeof(float));
    }
    x.buf = (float *)mem;
    size_t in_img = (size_t)first->ih * first->iw * first->c, out_img = (size_t)last->oh * last->ow * last->oc;
    long cur = -1;
    for (long r = r0; r < r1; r++) {
        long b = r / last->oh;
        if (b != cur) {
            cur = b;
            x.img = src + b * in_img;
            x.out = dst + b * out_img;
            for (int s = 0; s < ch->n; s++) x.next[s] = 0;
        }
        chain_compute(&x, ch->n - 1, (int)(r % last->oh));
    }
}

void lcn_chain_run(const lcn_chain *ch, const float *src, float *dst, int n, int nthr, void *scratch) {
    long rows = (long)n * ch->st[ch->n - 1]->oh;
    size_t per = round64(ch->scratch);
    if (nthr <= 1 || rows < 2) {
        chain_rows(ch, src, dst, 0, rows, scratch);
        return;
    }
#pragma omp parallel num_threads(nthr)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        long r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
        chain_rows(ch, src, dst, r0, r1, (char *)scratch + (size_t)t * per);
    }
}

size_t lcn_chain_scratch_bytes(const lcn_chain *ch, int nthr) {
    return round64(ch->scratch) * (size_t)(nthr > 1 ? nthr : 1);
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

size_t lcn_chain_scratch(lcn_dwpw *const *st, int n) {
    (void)st, (void)n;
    return 0;
}

void lcn_chain_run(const lcn_chain *ch, const float *src, float *dst, int n, int nthr, void *scratch) {
    (void)ch, (void)src, (void)dst, (void)n, (void)nthr, (void)scratch;
}

size_t lcn_chain_scratch_bytes(const lcn_chain *ch, int nthr) {
    (void)ch, (void)nthr;
    return 64;
}

#endif

lcn_chain *lcn_chain_new(lcn_dwpw *const *st, int n) {
    if (n < 2 || n > LCN_CHAIN_MAX || lcn_chain_scratch(st, n) > LCN_CHAIN_SCRATCH_MAX) return NULL;
    lcn_chain *ch = calloc(1, sizeof *ch);
    if (!ch) return NULL;
    ch->n = n;
    for (int s = 0; s < n; s++) ch->st[s] = st[s];
    ch->scratch = lcn_chain_scratch(st, n);
    return ch;
}

void lcn_chain_free(lcn_chain *ch) { free(ch); }
