/*
 * lcn_fp32_avx2.c: the AVX2 + FMA bodies of the engine's fused depthwise +
 * 1x1 kernel (lcn_dwpw, and the chains built of it) and of its stem kernel
 * (lcn_stem), for CPUs without AVX-512 (AMD Zen 1-3, Intel client cores
 * since Alder Lake, older Xeons). oneDNN 2.6's AVX2 convolutions write
 * nChw8c (given NHWC they fall back to its reference code), so these
 * kernels are a set: the stem writes the NHWC the chains read.
 *
 * The packed layouts are the AVX-512 kernel's (lcn_fp32_dwpw.c): channels
 * padded to 16, so that one plan build packs once whatever the CPU. Here a
 * 16-channel block is two 8-lane halves: the depthwise conv runs half by
 * half (its K x K weights of one half fit in the 16 YMM registers for
 * K = 3), the 1x1 conv in 6-pixel x 16-channel register tiles (12
 * accumulators, the classic AVX2 SGEMM shape). Same formulas as the AVX-512
 * kernel and as oneDNN (fused multiply-adds in the same order per output),
 * so results agree to rounding.
 */
#include <stddef.h>
#include <stdint.h>

#include "lcn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>


#define A2_TGT __attribute__((target("avx2,fma")))
#define A2_INLINE static inline __attribute__((always_inline))

int lcn_avx2_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* act(x) of lcn_act512 on 8 lanes. */
A2_TGT A2_INLINE __m256 lcn_act256(__m256 x, const int act, float alpha, float beta) {
    switch (act) {
        case LCN_ACT_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
        case LCN_ACT_HARDSWISH: {
            __m256 r = _mm256_add_ps(x, _mm256_set1_ps(3.f));
            r = _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(6.f));
            return _mm256_mul_ps(_mm256_mul_ps(x, r), _mm256_set1_ps(1.f / 6.f));
        }
        case LCN_ACT_HARDSIGMOID: {
            __m256 r = _mm256_fmadd_ps(x, _mm256_set1_ps(alpha), _mm256_set1_ps(beta));
            return _mm256_min_ps(_mm256_max_ps(r, _mm256_setzero_ps()), _mm256_set1_ps(1.f));
        }
        default: return x;
    }
}

/* The mask of the first n lanes (0 <= n <= 8) for maskload / maskstore. */
A2_TGT A2_INLINE __m256i a2_mask(int n) {
    static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

/* ---- depthwise rows ---- */

/* One output pixel ox, lanes off..off+7 of the channels (n real), any
 * kernel size, clipped at the borders, weights from memory. */
A2_TGT A2_INLINE void a2_dw_px(const lcn_dwpw *k, const float *const *rows, int kh0, int kh1, int ox,
        int off, __m256i m, float *buf, const int act) {
    const int c = k->c, cp = k->cpad, kw = k->kw, iw = k->iw;
    int ix0 = ox * k->sw - k->pl, kw0 = ix0 < 0 ? -ix0 : 0, kw1 = iw - ix0 < kw ? iw - ix0 : kw;
    __m256 a = _mm256_load_ps(k->bdw + off);
    for (int y = kh0; y < kh1; y++) {
        const float *row = rows[y] + (ptrdiff_t)ix0 * c + off;
        const float *w = k->wdw + (size_t)y * kw * cp + off;
        for (int x = kw0; x < kw1; x++)
            a = _mm256_fmadd_ps(_mm256_maskload_ps(row + (size_t)x * c, m), _mm256_load_ps(w + (size_t)x * cp), a);
    }
    _mm256_store_ps(buf + (size_t)ox * cp + off, lcn_act256(a, act, 0.f, 0.f));
}

/* G output pixels of 8 channels from the rows rz (interior: every tap
 * inside the input). K == 3: the weights wr in registers; otherwise read
 * from wm (tap t at wm + t * cp). FULL: all 8 lanes are real channels. */
A2_TGT A2_INLINE void a2_dw_group(const float *const *rz, size_t xoff, int c, const __m256 (*wr)[3],
        const float *wm, int cp, __m256 bias, float *d, __m256i m, const int act, const int K, const int G,
        const int SW, const int FULL) {
    const int SPAN = (G - 1) * SW + K;
    __m256 a[8];
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) a[j] = bias;
#pragma GCC unroll 8
    for (int y = 0; y < K; y++) {
        const float *q = rz[y] + xoff;
#pragma GCC unroll 32
        for (int t = 0; t < SPAN; t++) {
            const __m256 v = FULL ? _mm256_loadu_ps(q) : _mm256_maskload_ps(q, m);
            q += c;
#pragma GCC unroll 8
            for (int j = 0; j < G; j++) {
                const int x = t - j * SW;
                if (x >= 0 && x < K) {
                    const __m256 w = K == 3 ? wr[y][x] : _mm256_load_ps(wm + (size_t)(y * K + x) * cp);
                    a[j] = _mm256_fmadd_ps(v, w, a[j]);
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) _mm256_store_ps(d + (size_t)j * cp, lcn_act256(a[j], act, 0.f, 0.f));
}

A2_TGT A2_INLINE void a2_dw_row_t(const lcn_dwpw *k, const float *const *rows, int oy, float *buf,
        const int act, const int K, const int G, const int SW) {
    const int c = k->c, cp = k->cpad, kh = k->kh, kw = k->kw, iw = k->iw, sw = k->sw;
    int kh0 = k->pt - oy * k->sh, kh1 = k->ih + k->pt - oy * k->sh;
    if (kh0 < 0) kh0 = 0;
    if (kh1 > kh) kh1 = kh;
    int lo = (k->pl + sw - 1) / sw, hi = iw - kw + k->pl < 0 ? -1 : (iw - kw + k->pl) / sw;
    if (hi >= k->ow) hi = k->ow - 1;
    if (lo > k->ow) lo = k->ow;
    const float *rz[LCN_DWPW_MAXK];
    for (int y = 0; y < kh; y++) rz[y] = y >= kh0 && y < kh1 ? rows[y] : k->zero;
    for (int off = 0; off < cp; off += 8) {
        const int n = c - off;
        if (n <= 0) {
            /* padding lanes: zeros, as the AVX-512 kernel leaves them */
            for (int ox = 0; ox < k->ow; ox++) _mm256_store_ps(buf + (size_t)ox * cp + off, _mm256_setzero_ps());
            continue;
        }
        const __m256i m = a2_mask(n < 8 ? n : 8);
        int ox = 0;
        for (; ox < lo; ox++) a2_dw_px(k, rows, kh0, kh1, ox, off, m, buf, act);
        if (K > 0) {
            const int KK = K > 0 ? K : 1;
            __m256 wr[3][3];
            if (KK == 3)
#pragma GCC unroll 3
                for (int y = 0; y < 3; y++)
#pragma GCC unroll 3
                    for (int x = 0; x < 3; x++) wr[y][x] = _mm256_load_ps(k->wdw + (size_t)(y * 3 + x) * cp + off);
            const __m256 bias = _mm256_load_ps(k->bdw + off);
            const float *wm = k->wdw + off;
#define A2_DW_GROUPS(GG, FULL)                                                                     \
    for (; ox + (GG) - 1 <= hi; ox += (GG))                                                        \
        a2_dw_group(rz, (size_t)(ox * SW - k->pl) * c + off, c, (const __m256(*)[3])wr, wm, cp, bias, \
                buf + (size_t)ox * cp + off, m, act, KK, (GG), SW, FULL);
            if (n >= 8) {
                A2_DW_GROUPS(G, 1)
                if (G > 2) A2_DW_GROUPS(2, 1)
                if (G > 1) A2_DW_GROUPS(1, 1)
            } else {
                A2_DW_GROUPS(G, 0)
                if (G > 2) A2_DW_GROUPS(2, 0)
                if (G > 1) A2_DW_GROUPS(1, 0)
            }
#undef A2_DW_GROUPS
        }
        for (; ox < k->ow; ox++) a2_dw_px(k, rows, kh0, kh1, ox, off, m, buf, act);
    }
}

#define A2_DW_ROW(ACT, NAME)                                                                       \
    A2_TGT static void NAME(const lcn_dwpw *k, const float *const *rows, int oy, float *buf) {      \
        if (k->kh == 3 && k->kw == 3 && k->sw == 1)                                                \
            a2_dw_row_t(k, rows, oy, buf, ACT, 3, 4, 1);                                           \
        else if (k->kh == 3 && k->kw == 3 && k->sw == 2)                                           \
            a2_dw_row_t(k, rows, oy, buf, ACT, 3, 4, 2);                                           \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 1)                                           \
            a2_dw_row_t(k, rows, oy, buf, ACT, 5, 8, 1);                                           \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 2)                                           \
            a2_dw_row_t(k, rows, oy, buf, ACT, 5, 4, 2);                                           \
        else                                                                                       \
            a2_dw_row_t(k, rows, oy, buf, ACT, 0, 1, 1);                                           \
    }
A2_DW_ROW(LCN_ACT_NONE, a2_dw_row_none)
A2_DW_ROW(LCN_ACT_RELU, a2_dw_row_relu)
A2_DW_ROW(LCN_ACT_HARDSWISH, a2_dw_row_hswish)

void lcn_dwpw_dw_row_avx2(const lcn_dwpw *k, const float *const *rows, int oy, float *buf) {
    switch (k->act1) {
        case LCN_ACT_RELU: a2_dw_row_relu(k, rows, oy, buf); break;
        case LCN_ACT_HARDSWISH: a2_dw_row_hswish(k, rows, oy, buf); break;
        default: a2_dw_row_none(k, rows, oy, buf); break;
    }
}

/* ---- 1x1 rows ---- */

/* Stores 8 lanes at d: all, the first n (0 < n < 8), or none. */
A2_TGT A2_INLINE void a2_store(float *d, __m256 r, int n) {
    if (n >= 8)
        _mm256_storeu_ps(d, r);
    else if (n > 0)
        _mm256_maskstore_ps(d, a2_mask(n), r);
}

/* P pixels x 16 output channels (two vectors) of the 1x1 conv: a [P][cp]
 * inputs, w [c][ocp] weights at the block, d [P][oc] outputs at the block,
 * n real channels in the block (the last one may have fewer than 16). */
A2_TGT A2_INLINE void a2_pw_tile(const float *a, int c, int cp, const float *w, int ocp, const float *bias,
        float *d, int oc, int n, const int act, const int P) {
    __m256 acc[6][2];
    const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) acc[p][0] = b0, acc[p][1] = b1;
    for (int i = 0; i < c; i++) {
        const __m256 w0 = _mm256_load_ps(w + (size_t)i * ocp), w1 = _mm256_load_ps(w + (size_t)i * ocp + 8);
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) {
            const __m256 x = _mm256_broadcast_ss(a + (size_t)p * cp + i);
            acc[p][0] = _mm256_fmadd_ps(x, w0, acc[p][0]);
            acc[p][1] = _mm256_fmadd_ps(x, w1, acc[p][1]);
        }
    }
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) {
        a2_store(d + (size_t)p * oc, lcn_act256(acc[p][0], act, 0.f, 0.f), n);
        a2_store(d + (size_t)p * oc + 8, lcn_act256(acc[p][1], act, 0.f, 0.f), n - 8);
    }
}

A2_TGT A2_INLINE void a2_pw_rows_t(const lcn_dwpw *k, const float *buf, float *d, int np, const int act) {
    const int c = k->c, cp = k->cpad, ocp = k->ocpad, oc = k->oc;
    for (int o = 0; o < ocp; o += 16) {
        const float *w = k->wpw + o, *bias = k->bpw + o;
        const int n = oc - o;
        int p = 0;
        for (; p + 6 <= np; p += 6)
            a2_pw_tile(buf + (size_t)p * cp, c, cp, w, ocp, bias, d + (size_t)p * oc + o, oc, n, act, 6);
        switch (np - p) {
            case 5: a2_pw_tile(buf + (size_t)p * cp, c, cp, w, ocp, bias, d + (size_t)p * oc + o, oc, n, act, 5); break;
            case 4: a2_pw_tile(buf + (size_t)p * cp, c, cp, w, ocp, bias, d + (size_t)p * oc + o, oc, n, act, 4); break;
            case 3: a2_pw_tile(buf + (size_t)p * cp, c, cp, w, ocp, bias, d + (size_t)p * oc + o, oc, n, act, 3); break;
            case 2: a2_pw_tile(buf + (size_t)p * cp, c, cp, w, ocp, bias, d + (size_t)p * oc + o, oc, n, act, 2); break;
            case 1: a2_pw_tile(buf + (size_t)p * cp, c, cp, w, ocp, bias, d + (size_t)p * oc + o, oc, n, act, 1); break;
            default: break;
        }
    }
}

A2_TGT static void a2_pw_rows_none(const lcn_dwpw *k, const float *b, float *d, int np) {
    a2_pw_rows_t(k, b, d, np, LCN_ACT_NONE);
}
A2_TGT static void a2_pw_rows_relu(const lcn_dwpw *k, const float *b, float *d, int np) {
    a2_pw_rows_t(k, b, d, np, LCN_ACT_RELU);
}
A2_TGT static void a2_pw_rows_hswish(const lcn_dwpw *k, const float *b, float *d, int np) {
    a2_pw_rows_t(k, b, d, np, LCN_ACT_HARDSWISH);
}

void lcn_dwpw_pw_rows_avx2(const lcn_dwpw *k, const float *buf, float *d, int np) {
    switch (k->act2) {
        case LCN_ACT_RELU: a2_pw_rows_relu(k, buf, d, np); break;
        case LCN_ACT_HARDSWISH: a2_pw_rows_hswish(k, buf, d, np); break;
        default: a2_pw_rows_none(k, buf, d, np); break;
    }
}

/* ---- stem (lcn_stem: NCHW input, NHWC output) ---- */

/* One pixel at the border, 16 channels at ob: taps outside are skipped. */
A2_TGT A2_INLINE void a2_stem_px(const lcn_stem *k, const float *src, int iy0, int ky0, int ky1, int ox,
        int ob, float *d, int n, const int act) {
    const int ocp = k->ocpad, kw = k->kw, iw = k->iw;
    const size_t plane = (size_t)k->ih * iw;
    const int ix0 = ox * k->sw - k->pl, kx0 = ix0 < 0 ? -ix0 : 0, kx1 = iw - ix0 < kw ? iw - ix0 : kw;
    __m256 a0 = _mm256_load_ps(k->b + ob), a1 = _mm256_load_ps(k->b + ob + 8);
    for (int c = 0; c < k->ic; c++)
        for (int y = ky0; y < ky1; y++) {
            const float *row = src + c * plane + (size_t)(iy0 + y) * iw + ix0;
            const float *w = k->w + ((size_t)(c * k->kh + y) * kw) * ocp + ob;
            for (int x = kx0; x < kx1; x++) {
                const __m256 xv = _mm256_broadcast_ss(row + x);
                a0 = _mm256_fmadd_ps(xv, _mm256_load_ps(w + (size_t)x * ocp), a0);
                a1 = _mm256_fmadd_ps(xv, _mm256_load_ps(w + (size_t)x * ocp + 8), a1);
            }
        }
    a2_store(d, lcn_act256(a0, act, 0.f, 0.f), n);
    a2_store(d + 8, lcn_act256(a1, act, 0.f, 0.f), n - 8);
}

/* P interior pixels from ox (P <= 12) x V vectors of 8 channels at ob
 * (V <= 2, P x V <= 12: the sums, V weights and the broadcast input in the
 * 16 YMM registers; the activation is applied by the caller, over the
 * row, as its constants here made the sums spill). T33 (3 input channels, 3x3,
 * horizontal stride SW, all literal): rows[c*3 + y] is row y of the window
 * in plane c (a zero row outside the input); otherwise any shape, rows
 * [ky0, ky1). */
A2_TGT A2_INLINE void a2_stem_tile(const lcn_stem *k, const float *src, const float *const *rows, int iy0,
        int ky0, int ky1, int ox, int ob, float *d, int n, const int act, const int P, const int V,
        const int T33, const int SW) {
    const int ocp = k->ocpad, oc = k->oc;
    __m256 acc[12][2];
#pragma GCC unroll 2
    for (int v = 0; v < V; v++) {
        const __m256 b = _mm256_load_ps(k->b + ob + 8 * v);
#pragma GCC unroll 12
        for (int p = 0; p < P; p++) acc[p][v] = b;
    }
    const int ntap = T33 ? 9 : k->ic * (ky1 - ky0);
    const int kw = T33 ? 3 : k->kw, sw = T33 ? SW : k->sw;
    const int ix0 = ox * sw - k->pl;
    const size_t plane = (size_t)k->ih * k->iw;
    /* not unrolled over the taps: unrolled, GCC hoists weight loads and
     * spills accumulators (16 YMM registers) */
#pragma GCC unroll 1
    for (int t = 0; t < ntap; t++) {
        const float *row, *w;
        if (T33) {
            row = rows[t] + ix0;
            w = k->w + (size_t)t * 3 * ocp + ob;
        } else {
            const int c = t / (ky1 - ky0), y = ky0 + t % (ky1 - ky0);
            row = src + c * plane + (size_t)(iy0 + y) * k->iw + ix0;
            w = k->w + ((size_t)(c * k->kh + y) * kw) * ocp + ob;
        }
#pragma GCC unroll 3
        for (int x = 0; x < kw; x++) {
            __m256 wv[2];
#pragma GCC unroll 2
            for (int v = 0; v < V; v++) wv[v] = _mm256_load_ps(w + (size_t)x * ocp + 8 * v);
#pragma GCC unroll 12
            for (int p = 0; p < P; p++) {
                const __m256 xv = _mm256_broadcast_ss(row + p * sw + x);
#pragma GCC unroll 2
                for (int v = 0; v < V; v++) acc[p][v] = _mm256_fmadd_ps(xv, wv[v], acc[p][v]);
            }
        }
    }
#pragma GCC unroll 12
    for (int p = 0; p < P; p++)
#pragma GCC unroll 2
        for (int v = 0; v < V; v++)
            a2_store(d + (size_t)p * oc + 8 * v, lcn_act256(acc[p][v], act, 0.f, 0.f), n - 8 * v);
}

A2_TGT A2_INLINE void a2_stem_row_t(const lcn_stem *k, const float *src, int oy, float *d, const int act) {
    const int oc = k->oc, ocp = k->ocpad, sw = k->sw, iw = k->iw, kw = k->kw;
    const int iy0 = oy * k->sh - k->pt;
    int ky0 = -iy0 > 0 ? -iy0 : 0, ky1 = k->ih - iy0 < k->kh ? k->ih - iy0 : k->kh;
    int lo = (k->pl + sw - 1) / sw, hi = iw - kw + k->pl < 0 ? -1 : (iw - kw + k->pl) / sw;
    if (hi >= k->ow) hi = k->ow - 1;
    if (lo > k->ow) lo = k->ow;
    const int t33 = k->ic == 3 && k->kh == 3 && k->kw == 3 && (sw == 1 || sw == 2);
    const float *rows[9];
    if (t33) {
        const size_t plane = (size_t)k->ih * iw;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++) {
                int iy = iy0 + y;
                rows[c * 3 + y] = iy >= 0 && iy < k->ih ? src + c * plane + (size_t)iy * iw : k->zero;
            }
    }
    for (int ob = 0; ob < ocp; ob += 16) {
        const int n = oc - ob;
        float *db = d + ob;
        int ox = 0;
        for (; ox < lo; ox++) a2_stem_px(k, src, iy0, ky0, ky1, ox, ob, db + (size_t)ox * oc, n, LCN_ACT_NONE);
#define A2_STEM_LOOP(P, V, T, SW)                                                                  \
    for (; ox + (P) - 1 <= hi; ox += (P))                                                          \
        a2_stem_tile(k, src, rows, iy0, ky0, ky1, ox, ob, db + (size_t)ox * oc, n, LCN_ACT_NONE, P, V, T, SW);
#define A2_STEM_LOOPS(T, SW)                                                                       \
    if (n <= 8) {                                                                                  \
        A2_STEM_LOOP(12, 1, T, SW)                                                                 \
        A2_STEM_LOOP(4, 1, T, SW)                                                                  \
        A2_STEM_LOOP(1, 1, T, SW)                                                                  \
    } else {                                                                                       \
        A2_STEM_LOOP(6, 2, T, SW)                                                                  \
        A2_STEM_LOOP(2, 2, T, SW)                                                                  \
        A2_STEM_LOOP(1, 2, T, SW)                                                                  \
    }
        if (t33 && sw == 1)
            A2_STEM_LOOPS(1, 1)
        else if (t33)
            A2_STEM_LOOPS(1, 2)
        else
            A2_STEM_LOOPS(0, 1)
#undef A2_STEM_LOOPS
#undef A2_STEM_LOOP
        for (; ox < k->ow; ox++) a2_stem_px(k, src, iy0, ky0, ky1, ox, ob, db + (size_t)ox * oc, n, LCN_ACT_NONE);
    }
    if (act != LCN_ACT_NONE) { /* the row's ow x oc outputs, contiguous */
        const size_t all = (size_t)k->ow * oc;
        size_t j = 0;
        for (; j + 8 <= all; j += 8) _mm256_storeu_ps(d + j, lcn_act256(_mm256_loadu_ps(d + j), act, 0.f, 0.f));
        if (j < all) {
            const __m256i m = a2_mask((int)(all - j));
            _mm256_maskstore_ps(d + j, m, lcn_act256(_mm256_maskload_ps(d + j, m), act, 0.f, 0.f));
        }
    }
}

A2_TGT static void a2_stem_row_none(const lcn_stem *k, const float *s, int oy, float *d) {
    a2_stem_row_t(k, s, oy, d, LCN_ACT_NONE);
}
A2_TGT static void a2_stem_row_relu(const lcn_stem *k, const float *s, int oy, float *d) {
    a2_stem_row_t(k, s, oy, d, LCN_ACT_RELU);
}
A2_TGT static void a2_stem_row_hswish(const lcn_stem *k, const float *s, int oy, float *d) {
    a2_stem_row_t(k, s, oy, d, LCN_ACT_HARDSWISH);
}

void lcn_stem_row_avx2(const lcn_stem *k, const float *src, int oy, float *d) {
    switch (k->act) {
        case LCN_ACT_RELU: a2_stem_row_relu(k, src, oy, d); break;
        case LCN_ACT_HARDSWISH: a2_stem_row_hswish(k, src, oy, d); break;
        default: a2_stem_row_none(k, src, oy, d); break;
    }
}

/* ---- lcn_fc32: y = act(x W^T + b) * scale, weights in 64-column panels ---- */

/* Stores act(a) * scale to columns [col, col + 8) of the row d of n
 * outputs (masked past n; nothing when col >= n). */
A2_TGT A2_INLINE void a2_fc_store(float *d, int col, int n, __m256 a, const int act, float alpha, float beta,
        float scale) {
    if (col >= n) return;
    __m256 r = lcn_act256(a, act, alpha, beta);
    if (scale != 1.f) r = _mm256_mul_ps(r, _mm256_set1_ps(scale));
    if (n - col >= 8)
        _mm256_storeu_ps(d + col, r);
    else
        _mm256_maskstore_ps(d + col, a2_mask(n - col), r);
}

/* One row x over a whole panel (w [kk][8 V], bias [8 V]): V accumulators,
 * the panel read as one sequential stream; outputs from column col0 of the
 * row d (n outputs). */
A2_TGT A2_INLINE void a2_fc_row(const lcn_fc32 *k, const float *x, const float *w, const float *bias, float *d,
        int col0, const int act, const int V) {
    const int kk = k->k, pw = 8 * V;
    __m256 acc[8];
#pragma GCC unroll 8
    for (int v = 0; v < V; v++) acc[v] = _mm256_load_ps(bias + 8 * v);
    for (int i = 0; i < kk; i++) {
        const __m256 xv = _mm256_broadcast_ss(x + i);
        const float *wi = w + (size_t)i * pw;
#pragma GCC unroll 8
        for (int v = 0; v < V; v++) acc[v] = _mm256_fmadd_ps(xv, _mm256_load_ps(wi + 8 * v), acc[v]);
    }
#pragma GCC unroll 8
    for (int v = 0; v < V; v++) a2_fc_store(d, col0 + 8 * v, k->n, acc[v], act, k->alpha, k->beta, k->scale);
}

/* P rows (x, stride ldx) over a 16-column strip of a panel (w: the strip's
 * first column, rows pw floats apart): the classic 6 x 16 AVX2 register
 * tile (12 accumulators); outputs from column col0 of the rows d (stride
 * ldd). */
A2_TGT A2_INLINE void a2_fc_strip(const lcn_fc32 *k, const float *x, size_t ldx, const float *w, int pw,
        const float *bias, float *d, size_t ldd, int col0, const int act, const int P) {
    const int kk = k->k;
    __m256 a0[6], a1[6];
    const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) a0[p] = b0, a1[p] = b1;
    for (int i = 0; i < kk; i++) {
        const __m256 w0 = _mm256_load_ps(w + (size_t)i * pw), w1 = _mm256_load_ps(w + (size_t)i * pw + 8);
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) {
            const __m256 xv = _mm256_broadcast_ss(x + (size_t)p * ldx + i);
            a0[p] = _mm256_fmadd_ps(xv, w0, a0[p]);
            a1[p] = _mm256_fmadd_ps(xv, w1, a1[p]);
        }
    }
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) {
        a2_fc_store(d + (size_t)p * ldd, col0, k->n, a0[p], act, k->alpha, k->beta, k->scale);
        a2_fc_store(d + (size_t)p * ldd, col0 + 8, k->n, a1[p], act, k->alpha, k->beta, k->scale);
    }
}

/* Panels [q0, q1) for m rows: under 6 rows row by row over whole panels
 * (the panel streams once from L3 or memory, then from L2), else by
 * 16-column strips in 6-row tiles (a strip stays in L1/L2 over the rows). */
A2_TGT A2_INLINE void a2_fc_panels(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1,
        const int act) {
    const int kk = k->k, n = k->n;
    for (int q = q0; q < q1; q++) {
        const int p0 = q * LCN_FC_PANEL, pw = k->npad - p0 < LCN_FC_PANEL ? k->npad - p0 : LCN_FC_PANEL;
        const float *w = k->w + (size_t)p0 * kk, *bias = k->b + p0;
        if (m < 6) {
            for (int r = 0; r < m; r++) {
                const float *xr = x + (size_t)r * kk;
                float *d = y + (size_t)r * n;
                switch (pw / 8) {
                    case 8: a2_fc_row(k, xr, w, bias, d, p0, act, 8); break;
                    case 6: a2_fc_row(k, xr, w, bias, d, p0, act, 6); break;
                    case 4: a2_fc_row(k, xr, w, bias, d, p0, act, 4); break;
                    default: a2_fc_row(k, xr, w, bias, d, p0, act, 2); break;
                }
            }
            continue;
        }
        for (int s = 0; s < pw; s += 16) {
            int r = 0;
            for (; r + 6 <= m; r += 6)
                a2_fc_strip(k, x + (size_t)r * kk, kk, w + s, pw, bias + s, y + (size_t)r * n, n, p0 + s, act, 6);
            const float *xr = x + (size_t)r * kk;
            float *d = y + (size_t)r * n;
            switch (m - r) {
                case 5: a2_fc_strip(k, xr, kk, w + s, pw, bias + s, d, n, p0 + s, act, 5); break;
                case 4: a2_fc_strip(k, xr, kk, w + s, pw, bias + s, d, n, p0 + s, act, 4); break;
                case 3: a2_fc_strip(k, xr, kk, w + s, pw, bias + s, d, n, p0 + s, act, 3); break;
                case 2: a2_fc_strip(k, xr, kk, w + s, pw, bias + s, d, n, p0 + s, act, 2); break;
                case 1: a2_fc_strip(k, xr, kk, w + s, pw, bias + s, d, n, p0 + s, act, 1); break;
                default: break;
            }
        }
    }
}

A2_TGT static void a2_fc_none(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    a2_fc_panels(k, x, y, m, q0, q1, LCN_ACT_NONE);
}
A2_TGT static void a2_fc_relu(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    a2_fc_panels(k, x, y, m, q0, q1, LCN_ACT_RELU);
}
A2_TGT static void a2_fc_hswish(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    a2_fc_panels(k, x, y, m, q0, q1, LCN_ACT_HARDSWISH);
}
A2_TGT static void a2_fc_hsig(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    a2_fc_panels(k, x, y, m, q0, q1, LCN_ACT_HARDSIGMOID);
}

void lcn_fc32_panels_avx2(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    switch (k->act) {
        case LCN_ACT_RELU: a2_fc_relu(k, x, y, m, q0, q1); break;
        case LCN_ACT_HARDSWISH: a2_fc_hswish(k, x, y, m, q0, q1); break;
        case LCN_ACT_HARDSIGMOID: a2_fc_hsig(k, x, y, m, q0, q1); break;
        default: a2_fc_none(k, x, y, m, q0, q1); break;
    }
}

/* ---- lcn_se32: the squeeze-excite pool and scale ---- */

/* Where channel ch of pixel p of an image x is: NHWC (c channels a pixel)
 * or nChw8c (blk: blocks of 8 channels, each [hw][8]). */
A2_INLINE size_t a2_se_at(int blk, int c, int hw, int p, int ch) {
    return blk ? ((size_t)(ch / 8) * hw + p) * 8 + ch % 8 : (size_t)p * c + ch;
}

A2_TGT void lcn_se_pool_avx2(const float *x, int hw, int c, int blk, float *v, int c0, int c1) {
    const __m256 inv = _mm256_set1_ps(1.f / (float)hw);
    for (int b = c0; b < c1; b += 32) {
        const int nb = (c1 - b + 7) / 8 < 4 ? (c1 - b + 7) / 8 : 4;
        __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        __m256i m[4];
        for (int j = 0; j < nb; j++) m[j] = a2_mask(c - (b + 8 * j) < 8 ? c - (b + 8 * j) : 8);
        for (int p = 0; p < hw; p++)
            for (int j = 0; j < nb; j++)
                a[j] = _mm256_add_ps(a[j], _mm256_maskload_ps(x + a2_se_at(blk, c, hw, p, b + 8 * j), m[j]));
        for (int j = 0; j < nb; j++) _mm256_store_ps(v + b + 8 * j, _mm256_mul_ps(a[j], inv));
    }
}

A2_TGT void lcn_se_mul_avx2(float *x, int hw, int c, int blk, const float *g, int c0, int c1) {
    for (int b = c0; b < c1; b += 8) {
        const __m256i m = a2_mask(c - b < 8 ? c - b : 8);
        const __m256 gv = _mm256_load_ps(g + b);
        for (int p = 0; p < hw; p++) {
            float *q = x + a2_se_at(blk, c, hw, p, b);
            _mm256_maskstore_ps(q, m, _mm256_mul_ps(_mm256_maskload_ps(q, m), gv));
        }
    }
}

/* ---- lcn_fc32 on nChw8c: a 1x1 conv in oneDNN's AVX2 layout ---- */

/* The weights in strips of 16 columns, each [k][16] (lcn_fc32_use_strips):
 * a strip is one sequential stream, its rows 64 bytes apart (in the 64-
 * column panels of the dense body a strip's rows were 256 bytes apart and
 * fell in a quarter of L1's sets). A strip runs over the pixels in chunks
 * of A2_BLK_KC inputs (16 KB of its weights, kept in L1 across the chunk's
 * tiles; the partial sums wait in y), and the first tile of each chunk
 * prefetches the weights A2_BLK_PFD floats on into L2, one chunk ahead: at
 * 7x7 a weight serves only 49 pixels, and without it the first tile of a
 * chunk waited on memory (1024 -> 1024 at 7x7, 1 thread, apart: 1250 us
 * without, 1150 with; oneDNN's jit_1x1 1240). */
enum { A2_BLK_KC = 256, A2_BLK_PFD = 4096 };

/* P consecutive pixels (x: the first one's channel 0 in nChw8c, blocks hw
 * * 8 floats apart) over the strip w (16 columns from col0), inputs [k0,
 * k1): 6 x 16 register tile as a2_fc_strip, the inputs taken 8 channels
 * (one block) at a time. d: output block col0 / 8 at the first pixel. The
 * first chunk starts from the bias, later ones from the partial sums in d;
 * the last applies the activation and scale. Outputs are whole blocks of 8
 * (n a multiple of 8): the strip's upper half is not written when it is
 * past n (two = 0). pf: prefetch the weights one chunk on. */
A2_TGT A2_INLINE void a2_fc_tile_blk(const lcn_fc32 *k, const float *x, int hw, const float *w,
        const float *bias, float *d, int two, int k0, int k1, const int act, const int P, int pf) {
    __m256 a0[6], a1[6];
    float *d1 = d + (size_t)hw * 8;
    if (k0 == 0) {
        const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) a0[p] = b0, a1[p] = b1;
    } else {
#pragma GCC unroll 6
        for (int p = 0; p < P; p++) {
            a0[p] = _mm256_load_ps(d + 8 * p);
            a1[p] = two ? _mm256_load_ps(d1 + 8 * p) : _mm256_setzero_ps();
        }
    }
    for (int ib = k0; ib < k1; ib += 8) {
        const float *xb = x + (size_t)ib * hw, *wb = w + (size_t)ib * 16;
        if (pf)
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                _mm_prefetch((const char *)((uintptr_t)(wb + 16 * j) + sizeof(float) * A2_BLK_PFD), _MM_HINT_T1);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            const __m256 w0 = _mm256_load_ps(wb + 16 * j), w1 = _mm256_load_ps(wb + 16 * j + 8);
#pragma GCC unroll 6
            for (int p = 0; p < P; p++) {
                const __m256 xv = _mm256_broadcast_ss(xb + 8 * p + j);
                a0[p] = _mm256_fmadd_ps(xv, w0, a0[p]);
                a1[p] = _mm256_fmadd_ps(xv, w1, a1[p]);
            }
        }
    }
    const int last = k1 == k->k;
#pragma GCC unroll 6
    for (int p = 0; p < P; p++) {
        __m256 r0 = a0[p], r1 = a1[p];
        if (last) {
            r0 = lcn_act256(r0, act, k->alpha, k->beta), r1 = lcn_act256(r1, act, k->alpha, k->beta);
            if (k->scale != 1.f) {
                r0 = _mm256_mul_ps(r0, _mm256_set1_ps(k->scale));
                r1 = _mm256_mul_ps(r1, _mm256_set1_ps(k->scale));
            }
        }
        _mm256_store_ps(d + 8 * p, r0);
        if (two) _mm256_store_ps(d1 + 8 * p, r1);
    }
}

/* Strips [g0, g1) for rows [r0, r1) of images of hw pixels, x and y
 * nChw8c (k->k and k->n multiples of 8). The pixels of an image run in
 * tiles of 6, and a tail that would leave a tile of fewer than 4 (2 or 6
 * accumulators: bound by the multiply-add latency) is cut into tiles of 4
 * and 5 (49 = 6 x 6 + 5 + 4 + 4). */
A2_TGT A2_INLINE void a2_fc_blk(const lcn_fc32 *k, const float *x, float *y, int hw, int r0, int r1, int g0,
        int g1, const int act) {
    const int kk = k->k, n = k->n;
    const size_t ximg = (size_t)kk * hw, yimg = (size_t)n * hw;
#define A2_TILE(P)                                                                                          \
    do {                                                                                                    \
        a2_fc_tile_blk(k, xi + 8 * j, hw, w, bias, yi + 8 * j, two, k0, k1, act, P, pf);                  \
        pf = 0, j += P;                                                                                     \
    } while (0)
    for (int g = g0; g < g1; g++) {
        const int col0 = 16 * g, two = col0 + 8 < n;
        const float *w = k->w + (size_t)col0 * kk, *bias = k->b + col0;
        for (int k0 = 0; k0 < kk; k0 += A2_BLK_KC) {
            const int k1 = kk - k0 < A2_BLK_KC ? kk : k0 + A2_BLK_KC;
            int pf = 1;
            for (int r = r0; r < r1;) {
                const int b = r / hw, p = r % hw, e = r1 - r < hw - p ? r1 - r : hw - p;
                const float *xi = x + (size_t)b * ximg + (size_t)p * 8;
                float *yi = y + (size_t)b * yimg + (size_t)col0 * hw + (size_t)p * 8;
                int full = e; /* pixels in tiles of 6; the tail after them */
                if (e % 6 == 1 && e >= 7) full = e >= 13 ? e - 13 : e - 7;
                if (e % 6 == 2 && e >= 8) full = e - 8;
                if (e % 6 == 3 && e >= 9) full = e - 9;
                int j = 0;
                while (j + 6 <= full) A2_TILE(6);
                switch (e - j) {
                    case 13: A2_TILE(5); A2_TILE(4); A2_TILE(4); break;
                    case 9: A2_TILE(5); A2_TILE(4); break;
                    case 8: A2_TILE(4); A2_TILE(4); break;
                    case 7: A2_TILE(4); A2_TILE(3); break;
                    case 5: A2_TILE(5); break;
                    case 4: A2_TILE(4); break;
                    case 3: A2_TILE(3); break;
                    case 2: A2_TILE(2); break;
                    case 1: A2_TILE(1); break;
                    default: break;
                }
                r += e;
            }
        }
    }
#undef A2_TILE
}

#define A2_FC_BLK(ACT, NAME)                                                                        \
    A2_TGT static void NAME(const lcn_fc32 *k, const float *x, float *y, int hw, int r0, int r1, int g0, \
            int g1) {                                                                               \
        a2_fc_blk(k, x, y, hw, r0, r1, g0, g1, ACT);                                                \
    }
A2_FC_BLK(LCN_ACT_NONE, a2_fc_blk_none)
A2_FC_BLK(LCN_ACT_RELU, a2_fc_blk_relu)
A2_FC_BLK(LCN_ACT_HARDSWISH, a2_fc_blk_hswish)
A2_FC_BLK(LCN_ACT_HARDSIGMOID, a2_fc_blk_hsig)
#undef A2_FC_BLK

void lcn_fc32_blk_avx2(const lcn_fc32 *k, const float *x, float *y, int hw, int r0, int r1, int g0, int g1) {
    switch (k->act) {
        case LCN_ACT_RELU: a2_fc_blk_relu(k, x, y, hw, r0, r1, g0, g1); break;
        case LCN_ACT_HARDSWISH: a2_fc_blk_hswish(k, x, y, hw, r0, r1, g0, g1); break;
        case LCN_ACT_HARDSIGMOID: a2_fc_blk_hsig(k, x, y, hw, r0, r1, g0, g1); break;
        default: a2_fc_blk_none(k, x, y, hw, r0, r1, g0, g1); break;
    }
}

/* ---- lcn_dw32 on nChw8c: a depthwise conv in oneDNN's AVX2 layout ---- */

/* G output pixels of one 8-channel block from the padded rows r[0..KH)
 * (NULL: a row of the padding, skipped; the pixels' first tap at column
 * x0), KH x KW kernel, horizontal stride
 * SW; w: the block's weights [KH * KW][8]. The body of lcn_dw32.c's
 * dw32_group on 8 lanes: one kernel row's weights in registers, each input
 * vector loaded once and multiplied into every sum it touches (G + KW + 1
 * <= 16 registers). Stores act(sum) at d, pixels 8 floats apart. */
A2_TGT A2_INLINE void a2_dwb_group(const float *const *r, int x0, const float *w, __m256 bias, float *d,
        const int act, const int KH, const int KW, const int SW, const int G) {
    const int SPAN = (G - 1) * SW + KW;
    __m256 a[8];
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) a[j] = bias;
#pragma GCC unroll 7
    for (int y = 0; y < KH; y++) {
        if (!r[y]) continue; /* a row of the padding */
        __m256 wy[LCN_DW32_MAXK];
#pragma GCC unroll 7
        for (int x = 0; x < KW; x++) wy[x] = _mm256_load_ps(w + (size_t)(y * KW + x) * 8);
        const float *q = r[y] + (size_t)x0 * 8;
#pragma GCC unroll 32
        for (int t = 0; t < SPAN; t++) {
            const __m256 v = _mm256_load_ps(q + (size_t)t * 8);
#pragma GCC unroll 8
            for (int j = 0; j < G; j++) {
                const int x = t - j * SW;
                if (x >= 0 && x < KW) a[j] = _mm256_fmadd_ps(v, wy[x], a[j]);
            }
        }
    }
#pragma GCC unroll 8
    for (int j = 0; j < G; j++) _mm256_store_ps(d + (size_t)j * 8, lcn_act256(a[j], act, 0.f, 0.f));
}

/* cnt groups of g pixels from pixel ox on; returns the pixel after them. */
A2_TGT A2_INLINE int a2_dwb_groups(const float *const *r, const float *w, __m256 bias, float *d, int ox, int g,
        int cnt, const int act, const int KH, const int KW, const int SW) {
    switch (g) {
#define A2_DWG(N)                                                                                  \
    case N:                                                                                        \
        for (int i = 0; i < cnt; i++, ox += N) a2_dwb_group(r, ox * SW, w, bias, d + (size_t)ox * 8, act, KH, KW, SW, N); \
        break;
        A2_DWG(1)
        A2_DWG(2)
        A2_DWG(3)
        A2_DWG(4)
        A2_DWG(5)
        A2_DWG(6)
        A2_DWG(7)
        A2_DWG(8)
#undef A2_DWG
        default: break;
    }
    return ox;
}

/* Output rows [oy0, oy1) of one 8-channel block: src and dst are the
 * block's planes ([ih][iw][8], [oh][ow][8]), w its weights, bias its 8
 * biases; ring: (kh + 1) padded rows of sw_cols x 8 floats (the last one
 * zero). Each input row is copied once into the ring with its zero
 * columns, so that every output pixel is an interior one. KH = 0: any
 * kernel, pixel by pixel with the weights from memory. */
A2_TGT A2_INLINE void a2_dw_band(const lcn_dw32 *k, const float *src, float *dst, const float *w,
        const float *bias, int oy0, int oy1, float *ring, const int act, const int KH, const int KW,
        const int SW) {
    const int kh = k->kh, kw = k->kw, ncol = k->sw_cols, pl = k->pl, iw = k->iw;
    const size_t strip = (size_t)ncol * 8;
    float *zero = ring + (size_t)kh * strip;
    const int end = pl + iw < ncol ? pl + iw : ncol; /* columns past end are zero */
    const __m256 b = _mm256_load_ps(bias), z = _mm256_setzero_ps();
    for (int j = 0; j < ncol; j++) _mm256_store_ps(zero + (size_t)j * 8, z);
    int next = -(1 << 30); /* the next input row to copy */
    for (int oy = oy0; oy < oy1; oy++) {
        const int iy0 = oy * k->sh - k->pt;
        if (next < iy0) next = iy0;
        for (; next < iy0 + kh; next++) {
            if (next < 0 || next >= k->ih) continue;
            float *s = ring + (size_t)(next % kh) * strip;
            const float *row = src + (size_t)next * iw * 8;
            for (int j = 0; j < pl && j < ncol; j++) _mm256_store_ps(s + (size_t)j * 8, z);
            for (int j = pl; j < end; j++) _mm256_store_ps(s + (size_t)j * 8, _mm256_load_ps(row + (size_t)(j - pl) * 8));
            for (int j = end > pl ? end : pl; j < ncol; j++) _mm256_store_ps(s + (size_t)j * 8, z);
        }
        const float *r[LCN_DW32_MAXK], *rz[LCN_DW32_MAXK];
        for (int y = 0; y < kh; y++) {
            const int iy = iy0 + y;
            r[y] = iy >= 0 && iy < k->ih ? ring + (size_t)(iy % kh) * strip : NULL;
            rz[y] = r[y] ? r[y] : zero;
        }
        float *d = dst + (size_t)oy * k->ow * 8;
        if (KH > 0) {
            /* the sums first, the activation over the row after (in L1): its
             * constants in the groups' registers made them spill (x1.5's 5x5
             * at 14x14 with hardswish: 68 us vs 57 with ReLU; after: 57) */
            int ox = a2_dwb_groups(r, w, b, d, 0, k->g1, k->n1, LCN_ACT_NONE, KH, KW, SW);
            a2_dwb_groups(r, w, b, d, ox, k->g1 - 1, k->n2, LCN_ACT_NONE, KH, KW, SW);
            if (act != LCN_ACT_NONE)
                for (int j = 0; j < k->ow; j++)
                    _mm256_store_ps(d + (size_t)j * 8, lcn_act256(_mm256_load_ps(d + (size_t)j * 8), act, 0.f, 0.f));
        } else {
            for (int ox = 0; ox < k->ow; ox++) {
                __m256 a = b;
                for (int y = 0; y < kh; y++) {
                    const float *q = rz[y] + (size_t)ox * k->sw * 8;
                    for (int x = 0; x < kw; x++)
                        a = _mm256_fmadd_ps(_mm256_load_ps(q + (size_t)x * 8), _mm256_load_ps(w + (size_t)(y * kw + x) * 8), a);
                }
                _mm256_store_ps(d + (size_t)ox * 8, lcn_act256(a, act, 0.f, 0.f));
            }
        }
    }
}

#define A2_DW_BAND(ACT, NAME)                                                                           \
    A2_TGT static void NAME(const lcn_dw32 *k, const float *src, float *dst, const float *w,           \
            const float *bias, int oy0, int oy1, float *ring) {                                         \
        if (k->kh == 3 && k->kw == 3 && k->sw == 1)                                                     \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 3, 3, 1);                             \
        else if (k->kh == 3 && k->kw == 3 && k->sw == 2)                                                \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 3, 3, 2);                             \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 1)                                                \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 5, 5, 1);                             \
        else if (k->kh == 5 && k->kw == 5 && k->sw == 2)                                                \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 5, 5, 2);                             \
        else if (k->kh == 7 && k->kw == 7 && k->sw == 1)                                                \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 7, 7, 1);                             \
        else if (k->kh == 7 && k->kw == 7 && k->sw == 2)                                                \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 7, 7, 2);                             \
        else                                                                                            \
            a2_dw_band(k, src, dst, w, bias, oy0, oy1, ring, ACT, 0, 0, 0);                             \
    }
A2_DW_BAND(LCN_ACT_NONE, a2_dw_band_none)
A2_DW_BAND(LCN_ACT_RELU, a2_dw_band_relu)
A2_DW_BAND(LCN_ACT_HARDSWISH, a2_dw_band_hswish)
#undef A2_DW_BAND

void lcn_dw32_blk_avx2(const lcn_dw32 *k, const float *src, float *dst, int b, int oy0, int oy1, float *ring) {
    const float *s = src + (size_t)b * k->ih * k->iw * 8, *w = k->w + (size_t)b * k->kh * k->kw * 8,
                *bias = k->b + (size_t)b * 8;
    float *d = dst + (size_t)b * k->oh * k->ow * 8;
    switch (k->act) {
        case LCN_ACT_RELU: a2_dw_band_relu(k, s, d, w, bias, oy0, oy1, ring); break;
        case LCN_ACT_HARDSWISH: a2_dw_band_hswish(k, s, d, w, bias, oy0, oy1, ring); break;
        default: a2_dw_band_none(k, s, d, w, bias, oy0, oy1, ring); break;
    }
}

#else

int lcn_avx2_supported(void) { return 0; }
void lcn_dwpw_dw_row_avx2(const lcn_dwpw *k, const float *const *rows, int oy, float *buf) {
    (void)k, (void)rows, (void)oy, (void)buf;
}
void lcn_dwpw_pw_rows_avx2(const lcn_dwpw *k, const float *buf, float *d, int np) {
    (void)k, (void)buf, (void)d, (void)np;
}
void lcn_stem_row_avx2(const lcn_stem *k, const float *src, int oy, float *d) {
    (void)k, (void)src, (void)oy, (void)d;
}
void lcn_fc32_panels_avx2(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1) {
    (void)k, (void)x, (void)y, (void)m, (void)q0, (void)q1;
}
void lcn_fc32_blk_avx2(const lcn_fc32 *k, const float *x, float *y, int hw, int r0, int r1, int g0, int g1) {
    (void)k, (void)x, (void)y, (void)hw, (void)r0, (void)r1, (void)g0, (void)g1;
}
void lcn_se_pool_avx2(const float *x, int hw, int c, int blk, float *v, int c0, int c1) {
    (void)x, (void)hw, (void)c, (void)blk, (void)v, (void)c0, (void)c1;
}
void lcn_se_mul_avx2(float *x, int hw, int c, int blk, const float *g, int c0, int c1) {
    (void)x, (void)hw, (void)c, (void)blk, (void)g, (void)c0, (void)c1;
}
void lcn_dw32_blk_avx2(const lcn_dw32 *k, const float *src, float *dst, int b, int oy0, int oy1, float *ring) {
    (void)k, (void)src, (void)dst, (void)b, (void)oy0, (void)oy1, (void)ring;
}

#endif
