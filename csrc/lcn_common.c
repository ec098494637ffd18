/*
 * lcn_common.c: backend-independent code: errors, the live-handle counter,
 * network validation and shape inference, layout copies.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lcn_internal.h"

static int64_t lcn_live;

void lcn_live_add(int64_t d) { __atomic_add_fetch(&lcn_live, d, __ATOMIC_SEQ_CST); }

lcn_status lcn_live_handles(int64_t *out) {
    if (!out) return LCN_ERR_INVALID;
    *out = __atomic_load_n(&lcn_live, __ATOMIC_SEQ_CST);
    return LCN_OK;
}

lcn_status lcn_err_set(lcn_error *err, lcn_status code, int layer, const char *fmt, ...) {
    if (err) {
        memset(err, 0, sizeof *err);
        err->layer = layer;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Buffers of at least LCN_HUGE bytes (weights of big layers, activation
 * slots) start on a 2 MiB boundary and ask for transparent huge pages over
 * the whole 2 MiB pages they cover (the kernel's "madvise" mode, Debian's
 * default, gives none otherwise). A run streams such buffers: with 4 KiB
 * pages each one costs a TLB miss and a page walk every 4 KiB; measured on
 * a 6.5 MB read from L3 / memory: 274 -> 236 us / 552 -> 410 us. No memory
 * is added: the buffer's tail past its last whole huge page stays in 4 KiB
 * pages. LCNET_NO_HUGEPAGES=1 turns this off. */
#define LCN_HUGE (2u << 20)

int lcn_env_off(const char *name) {
    const char *off = getenv(name);
    return off && *off && strcmp(off, "0") != 0;
}

int lcn_env_switch(int *v, const char *name) {
    int x = __atomic_load_n(v, __ATOMIC_RELAXED);
    if (x < 0) {
        x = !lcn_env_off(name);
        __atomic_store_n(v, x, __ATOMIC_RELAXED);
    }
    return x;
}

/* Buffers of at least LCN_PREFAULT bytes have their pages mapped in by one
 * madvise(MADV_POPULATE_WRITE) (Linux 5.14+; ignored where it fails) instead
 * of one page fault per 4 KiB page as they are first written. Building a plan
 * writes megabytes of new memory (packed weights, activation slots); on some
 * VMs a fault costs 10+ us (a 2-vCPU AMD EPYC VM: 11.5 us a page, while the
 * call maps 12 MB in ~2 ms). Contents are unchanged. LCNET_NO_PREFAULT=1
 * turns it off (internal/prefault does the same for the Go side). */
#define LCN_PREFAULT (64u << 10)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static void lcn_prefault(void *p, size_t n) {
    static int off = -1;
    if (n < LCN_PREFAULT) return;
    if (off < 0) off = lcn_env_off("LCNET_NO_PREFAULT"); /* a benign race: same value */
    if (off) return;
    static uintptr_t pg;
    if (!pg) pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), b = ((uintptr_t)p + n) & ~(pg - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE); /* advice only */
}

void *lcn_aligned_alloc(size_t bytes) {
    size_t n = (bytes + LCN_ALIGN - 1) / LCN_ALIGN * LCN_ALIGN;
    if (n == 0) n = LCN_ALIGN;
    void *p;
#ifdef MADV_HUGEPAGE
    if (n >= LCN_HUGE && !lcn_env_off("LCNET_NO_HUGEPAGES")) {
        p = aligned_alloc(LCN_HUGE, n);
        if (p) (void)madvise(p, n / LCN_HUGE * LCN_HUGE, MADV_HUGEPAGE); /* advice only */
    } else
#endif
        p = aligned_alloc(LCN_ALIGN, n);
    if (p) lcn_prefault(p, n);
    return p;
}

void lcn_net_shape(const lcn_net *net, int *c, int *h, int *w) {
    if (net->n == 0) {
        *c = net->in_c, *h = net->in_h, *w = net->in_w;
        return;
    }
    const lcn_layer *l = &net->layers[net->n - 1];
    *c = l->oc, *h = l->oh, *w = l->ow;
}

static int act_ok(const lcn_act *a) {
    return a->kind >= LCN_ACT_NONE && a->kind <= LCN_ACT_SIGMOID;
}

#define BAD(...) return lcn_err_set(err, LCN_ERR_INVALID, idx, __VA_ARGS__)

lcn_status lcn_net_add(lcn_net *net, const lcn_layer_desc *d, const float *const w[4],
        const size_t nw[4], int borrow, lcn_error *err) {
    int idx = net->n;
    int c, h, wd;
    lcn_net_shape(net, &c, &h, &wd);
    lcn_layer L;
    memset(&L, 0, sizeof L);
    L.d = *d;
    L.ic = c, L.ih = h, L.iw = wd;
    L.oc = c, L.oh = h, L.ow = wd;
    L.fused_into = -1;
    size_t want[4] = {0, 0, 0, 0};
    int opt[4] = {0, 0, 0, 0}; /* biases may be absent */
    switch (d->kind) {
        case LCN_LAYER_CONV: {
            int g = d->groups;
            if (d->in_c != c) BAD("conv: in_c %d != input channels %d", d->in_c, c);
            if (d->out_c <= 0 || g <= 0 || d->kh <= 0 || d->kw <= 0 || d->stride_h <= 0 ||
                    d->stride_w <= 0)
                BAD("conv: out_c, groups, kernel and strides must be positive");
            if (d->pad_t < 0 || d->pad_l < 0 || d->pad_b < 0 || d->pad_r < 0)
                BAD("conv: negative padding");
            if (c % g || d->out_c % g) BAD("conv: channels %d->%d not divisible by groups %d", c, d->out_c, g);
            int eh = h + d->pad_t + d->pad_b - d->kh, ew = wd + d->pad_l + d->pad_r - d->kw;
            if (eh < 0 || ew < 0) BAD("conv: kernel %dx%d larger than padded input %dx%d", d->kh, d->kw, h, wd);
            if (!act_ok(&d->act)) BAD("conv: bad activation kind %d", d->act.kind);
            L.oc = d->out_c, L.oh = eh / d->stride_h + 1, L.ow = ew / d->stride_w + 1;
            want[0] = (size_t)d->out_c * (c / g) * d->kh * d->kw;
            want[1] = (size_t)d->out_c;
            opt[1] = 1;
            break;
        }
        case LCN_LAYER_FC:
            if ((long)d->in_c != (long)c * h * wd)
                BAD("fc: in_c %d != input size %d*%d*%d", d->in_c, c, h, wd);
            if (d->out_c <= 0) BAD("fc: out_c must be positive");
            if (!act_ok(&d->act)) BAD("fc: bad activation kind %d", d->act.kind);
            L.oc = d->out_c, L.oh = 1, L.ow = 1;
            want[0] = (size_t)d->out_c * d->in_c;
            want[1] = (size_t)d->out_c;
            opt[1] = 1;
            break;
        case LCN_LAYER_SE:
            if (d->in_c != c) BAD("se: in_c %d != input channels %d", d->in_c, c);
            if (d->se_reduce <= 0) BAD("se: reduce must be positive");
            if (!act_ok(&d->gate)) BAD("se: bad gate kind %d", d->gate.kind);
            want[0] = (size_t)d->se_reduce * c;
            want[1] = (size_t)d->se_reduce;
            want[2] = (size_t)c * d->se_reduce;
            want[3] = (size_t)c;
            opt[1] = opt[3] = 1;
            break;
        case LCN_LAYER_GAP: L.oh = L.ow = 1; break;
        case LCN_LAYER_SOFTMAX:
        case LCN_LAYER_SCALE: break;
        case LCN_LAYER_ACTIVATION:
            if (!act_ok(&d->act)) BAD("activation: bad kind %d", d->act.kind);
            break;
        default: BAD("unknown layer kind %d", d->kind);
    }
    for (int i = 0; i < 4; i++) {
        if (opt[i] && nw[i] == 0) continue;
        if (nw[i] != want[i]) BAD("weights[%d]: got %zu floats, want %zu", i, nw[i], want[i]);
        if (want[i] && !w[i]) BAD("weights[%d]: NULL", i);
    }
    if (net->n == net->cap) {
        int nc = net->cap ? net->cap * 2 : 16;
        lcn_layer *nl = realloc(net->layers, sizeof(lcn_layer) * nc);
        if (!nl) return lcn_err_set(err, LCN_ERR_NOMEM, idx, "out of memory");
        net->layers = nl, net->cap = nc;
    }
    L.borrowed = borrow != 0;
    for (int i = 0; i < 4; i++) {
        if (!nw[i]) continue;
        if (borrow) {
            L.w[i] = (float *)w[i]; /* read only */
            L.nw[i] = nw[i];
            continue;
        }
        L.w[i] = lcn_aligned_alloc(nw[i] * sizeof(float));
        if (!L.w[i]) {
            for (int j = 0; j < i; j++) free(L.w[j]);
            return lcn_err_set(err, LCN_ERR_NOMEM, idx, "out of memory");
        }
        memcpy(L.w[i], w[i], nw[i] * sizeof(float));
        L.nw[i] = nw[i];
    }
    net->layers[net->n++] = L;
    return LCN_OK;
}
#undef BAD

void lcn_net_free_weights(lcn_net *net) {
    for (int i = 0; i < net->n; i++)
        for (int k = 0; k < 4; k++) {
            if (!net->layers[i].borrowed) free(net->layers[i].w[k]);
            net->layers[i].w[k] = NULL;
        }
}

void lcn_net_free(lcn_net *net) {
    lcn_net_free_weights(net);
    free(net->layers);
    net->layers = NULL;
    net->n = net->cap = 0;
}

/* Both copies split the pixels into blocks and, when nthr > 1, share the
 * blocks among nthr OpenMP threads. The loops are simple enough for the
 * compiler to vectorise (-O3); target_clones builds AVX-512 and AVX2
 * versions picked at load time (3x224x224 NCHW->NHWC: 34 us scalar, 16 us
 * AVX-512, memcpy 15 us). */
#define LCN_TBLK 256
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define LCN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef LCN_CLONES
#define LCN_CLONES
#endif

LCN_CLONES void lcn_nchw_to_nhwc(const float *src, float *dst, int n, int c, int hw, int nthr) {
    long nblk = (hw + LCN_TBLK - 1) / LCN_TBLK, total = nblk * n;
#pragma omp parallel for num_threads(nthr) if (nthr > 1 && total > 8) schedule(static)
    for (long k = 0; k < total; k++) {
        long b = k / nblk;
        int i0 = (int)(k % nblk) * LCN_TBLK, i1 = i0 + LCN_TBLK < hw ? i0 + LCN_TBLK : hw;
        const float *s = src + (size_t)b * c * hw;
        float *d = dst + (size_t)b * c * hw;
        if (c == 3) {
            const float *s0 = s, *s1 = s + hw, *s2 = s + 2 * (size_t)hw;
            for (int i = i0; i < i1; i++) {
                d[3 * (size_t)i] = s0[i];
                d[3 * (size_t)i + 1] = s1[i];
                d[3 * (size_t)i + 2] = s2[i];
            }
            continue;
        }
        for (int ch = 0; ch < c; ch++)
            for (int i = i0; i < i1; i++) d[(size_t)i * c + ch] = s[(size_t)ch * hw + i];
    }
}

LCN_CLONES void lcn_nhwc_to_nchw(const float *src, float *dst, int n, int c, int hw, int nthr) {
    long nblk = (hw + LCN_TBLK - 1) / LCN_TBLK, total = nblk * n;
#pragma omp parallel for num_threads(nthr) if (nthr > 1 && total > 8) schedule(static)
    for (long k = 0; k < total; k++) {
        long b = k / nblk;
        int i0 = (int)(k % nblk) * LCN_TBLK, i1 = i0 + LCN_TBLK < hw ? i0 + LCN_TBLK : hw;
        const float *s = src + (size_t)b * c * hw;
        float *d = dst + (size_t)b * c * hw;
        for (int ch = 0; ch < c; ch++)
            for (int i = i0; i < i1; i++) d[(size_t)ch * hw + i] = s[(size_t)i * c + ch];
    }
}

/* lcn_release_omp_pool frees the calling OS thread's libgomp thread pool
 * (omp_pause_resource on the host device releases the pool of the calling
 * thread and waits for its threads). Called by a thread that ran parallel
 * regions right before it ends: libgomp stops spinning between parallel
 * regions while it counts more OpenMP threads than CPUs, and a pool freed
 * only by the thread-exit destructor is still counted for a while after
 * Go has moved on (measured: a plan built on a throw-away thread left the
 * next instance's 2-thread runs 2x slower in about half the processes). */
void lcn_release_omp_pool(void) {
    if (omp_in_parallel()) return;
    omp_pause_resource(omp_pause_hard, omp_get_initial_device());
}

/* lcn_transpose: dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols.
 * Packing weights is mostly this ([oc][ic] -> [ic][oc] panels). Element by
 * element, one of the two sides strided, x1.0's classifier (1000 x 1280)
 * took 1.3 ms to pack; by tiles of 16 x 16 through sixteen registers on
 * AVX-512 (loads and stores of whole cache lines) 0.28 ms (a C harness,
 * best of 60). Edges go element by element. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LCN_HAVE_TR512 1
__attribute__((target("avx512f"))) static void tr16x16(const float *s, size_t lds, float *d, size_t ldd) {
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++) r[k] = _mm512_loadu_ps(s + (size_t)k * lds);
#pragma GCC unroll 8
    for (int k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    /* pairs of rows interleaved by 32 bits, then by 64 bits, then the
     * 128-bit lanes gathered in two rounds */
#pragma GCC unroll 4
    for (int k = 0; k < 16; k += 4) {
        __m512d a = _mm512_castps_pd(t[k]), b = _mm512_castps_pd(t[k + 1]);
        __m512d c = _mm512_castps_pd(t[k + 2]), e = _mm512_castps_pd(t[k + 3]);
        r[k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
        r[k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0x88);
        t[k + 4] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0xdd);
        t[k + 8] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0x88);
        t[k + 12] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0xdd);
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
    }
    /* r[k] is column k of the tile: rows 0..15 in order */
#pragma GCC unroll 16
    for (int k = 0; k < 16; k++) _mm512_storeu_ps(d + (size_t)k * ldd, r[k]);
}
#endif

static void tr_scalar(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) dst[(size_t)j * ldd + i] = src[(size_t)i * lds + j];
}

void lcn_transpose_mode(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd, int simd) {
    enum { T = 16 };
    /* a band of 16 source columns at a time: 16 whole destination rows */
    for (int j0 = 0; j0 < cols; j0 += T)
        for (int i0 = 0; i0 < rows; i0 += T) {
            const int ni = rows - i0 < T ? rows - i0 : T, nj = cols - j0 < T ? cols - j0 : T;
            const float *s = src + (size_t)i0 * lds + j0;
            float *d = dst + (size_t)j0 * ldd + i0;
#ifdef LCN_HAVE_TR512
            if (simd && ni == T && nj == T) {
                tr16x16(s, lds, d, ldd);
                continue;
            }
#endif
            tr_scalar(s, lds, ni, nj, d, ldd);
        }
}

void lcn_transpose(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd) {
    static int simd = -1;
    if (simd < 0) { /* a benign race: same value */
#ifdef LCN_HAVE_TR512
        __builtin_cpu_init();
        simd = __builtin_cpu_supports("avx512f");
#else
        simd = 0;
#endif
    }
    lcn_transpose_mode(src, lds, rows, cols, dst, ldd, simd);
}
