/*
 * lcn_int8_dnnl26.c: the int8 conv chain of lcn_int8.h on oneDNN 2.x.
 *
 * A batch context holds, for one batch size: the quantizing reorder (fp32
 * NCHW caller memory -> s8 NHWC, output scale in_scale), one s8 convolution
 * per layer (s8 NHWC in and out, per-channel output scales, activation as an
 * eltwise post-op whose scale requantizes), and the dequantizing reorder
 * (s8 NHWC -> fp32 NCHW caller memory, scale 1/out_scale). oneDNN 2.x adds
 * an int8 convolution's bias before the output scales, so biases are stored
 * multiplied by s_x * ws[oc].
 *
 * All statics are prefixed q8_: this file is compiled in one translation
 * unit with lcn_dnnl26.c (see ../dnn/csrc.c).
 */
#include <math.h>
#include <time.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oneapi/dnnl/dnnl.h"
#include "oneapi/dnnl/dnnl_debug.h"

#include "lcn_dw8.h"
#include "lcn_pw8.h"
#include "lcn_st8.h"
#include "lcn_int8.h"
#include "lcn_internal.h"

#if DNNL_VERSION_MAJOR != 2
#error "lcn_int8_dnnl26.c is for oneDNN 2.x"
#endif

struct lcn_i8plan {
    lcn_net net;      /* layers with fp32 weight copies (owned) */
    float in_scale;
    float *out_scale; /* per layer (owned) */
    unsigned char *fp32; /* per layer: 1 = CONV/FC run in fp32 inside the chain (owned) */
    int cap_scale;
    int threads;
    int refs;
    int finalized;
    int no_tuning;
    dnnl_engine_t eng;
};

struct q8_step;

/* A step this library computes itself (no oneDNN primitive): reads and
 * writes the data handles of st->args at run time; kd holds its
 * parameters. Returns LCN_OK or fills err. */
typedef lcn_status (*q8_kernel)(const struct q8_step *st, int nthr, lcn_error *err);

typedef struct q8_step {
    dnnl_primitive_t prim; /* NULL for a custom step */
    q8_kernel fn;          /* custom step, or NULL */
    void *kd;              /* custom step parameters (owned, freed with kd_free) */
    void (*kd_free)(void *);
    int nargs;
    dnnl_exec_arg_t args[5];
    int layer;     /* the layer it belongs to, -1 for the input/output conversions */
    char what[48]; /* what runs: oneDNN's implementation or the kernel's name */
    double prof_s; /* seconds spent, summed over profiled runs */
} q8_step;

typedef struct q8_ctx {
    int n; /* batch */
    q8_step *steps; /* quantize, convs..., dequantize */
    int nsteps;
    dnnl_memory_t *mems; /* owned memories */
    int nmems, capmems;
    dnnl_memory_t user_in, user_out; /* handles set per run */
    void *scratch;
    dnnl_memory_t scratch_mem;
    long prof_runs;
} q8_ctx;

struct lcn_i8inst {
    lcn_i8plan *plan;
    dnnl_stream_t strm;
    q8_ctx *ctx;
    int profile; /* time every step (lcn_i8inst_set_profile) */
};

static lcn_status q8_dn(lcn_error *err, dnnl_status_t s, int layer, const char *what) {
    lcn_err_set(err, LCN_ERR_DNNL, layer, "int8 %s", what);
    if (err) {
        err->dnnl_status = (int)s;
        snprintf(err->status_name, sizeof err->status_name, "%s", dnnl_status2str(s));
    }
    return LCN_ERR_DNNL;
}

#define Q8CHK(call, layer, what)                                         \
    do {                                                                 \
        dnnl_status_t s_ = (call);                                       \
        if (s_ != dnnl_success) { rc = q8_dn(err, s_, layer, what); goto done; } \
    } while (0)

lcn_status lcn_i8plan_create(int in_c, int in_h, int in_w, int threads, float in_scale,
        lcn_i8plan **out, lcn_error *err) {
    if (!out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil out");
    *out = NULL;
    if (in_c <= 0 || in_h <= 0 || in_w <= 0 || threads <= 0)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "int8: bad input shape or threads");
    if (!(in_scale > 0) || !isfinite(in_scale))
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "int8: input scale %g", in_scale);
    lcn_i8plan *p = calloc(1, sizeof *p);
    if (!p) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    p->net.in_c = in_c, p->net.in_h = in_h, p->net.in_w = in_w;
    p->threads = threads, p->in_scale = in_scale, p->refs = 1;
    dnnl_status_t s = dnnl_engine_create(&p->eng, dnnl_cpu, 0);
    if (s != dnnl_success) {
        free(p);
        return q8_dn(err, s, -1, "engine_create");
    }
    lcn_live_add(1);
    *out = p;
    return LCN_OK;
}

lcn_status lcn_i8plan_add_layer(lcn_i8plan *p, const lcn_layer_desc *d, const float *w0, size_t n0,
        const float *w1, size_t n1, const float *w2, size_t n2, const float *w3, size_t n3,
        float out_scale, lcn_error *err) {
    return lcn_i8plan_add_layer_ex(p, d, w0, n0, w1, n1, w2, n2, w3, n3, out_scale, 0, err);
}

lcn_status lcn_i8plan_add_layer_ex(lcn_i8plan *p, const lcn_layer_desc *d, const float *w0,
        size_t n0, const float *w1, size_t n1, const float *w2, size_t n2, const float *w3,
        size_t n3, float out_scale, int fp32, lcn_error *err) {
    const float *w[4] = {w0, w1, w2, w3};
    size_t nw[4] = {n0, n1, n2, n3};
    if (!p || !d) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil argument");
    if (p->finalized) return lcn_err_set(err, LCN_ERR_STATE, p->net.n, "add after finalize");
    switch (d->kind) {
        case LCN_LAYER_CONV:
        case LCN_LAYER_FC:
            if (!fp32 && d->act.kind != LCN_ACT_NONE && d->act.kind != LCN_ACT_RELU &&
                    d->act.kind != LCN_ACT_HARDSWISH)
                return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: activation %d", d->act.kind);
            if (!(out_scale > 0) || !isfinite(out_scale))
                return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: output scale %g", out_scale);
            break;
        case LCN_LAYER_GAP: break;
        case LCN_LAYER_SOFTMAX: break;
        case LCN_LAYER_SE:
            if (d->gate.kind != LCN_ACT_HARDSIGMOID && d->gate.kind != LCN_ACT_SIGMOID &&
                    d->gate.kind != LCN_ACT_RELU && d->gate.kind != LCN_ACT_NONE)
                return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: SE gate %d", d->gate.kind);
            break;
        default:
            return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: layer kind %d", d->kind);
    }
    if (d->kind == LCN_LAYER_FC) {
        int c, h, wd;
        lcn_net_shape(&p->net, &c, &h, &wd);
        if (h != 1 || wd != 1)
            return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: fc on a %dx%d input", h, wd);
    }
    if (p->net.n == p->cap_scale) {
        int nc = p->cap_scale ? 2 * p->cap_scale : 16;
        float *ns = realloc(p->out_scale, sizeof *ns * nc);
        if (!ns) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
        p->out_scale = ns;
        unsigned char *nf = realloc(p->fp32, (size_t)nc);
        if (!nf) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
        p->fp32 = nf, p->cap_scale = nc;
    }
    lcn_status rc = lcn_net_add(&p->net, d, w, nw, 0, err);
    if (rc != LCN_OK) return rc;
    int conv = d->kind == LCN_LAYER_CONV || d->kind == LCN_LAYER_FC;
    p->out_scale[p->net.n - 1] = conv ? out_scale : 0.f;
    p->fp32[p->net.n - 1] = (conv && fp32) || d->kind == LCN_LAYER_SOFTMAX;
    return LCN_OK;
}

lcn_status lcn_i8plan_add_conv(lcn_i8plan *p, const lcn_layer_desc *d, const float *w,
        size_t nw, const float *b, size_t nb, float out_scale, lcn_error *err) {
    if (!p || !d) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil argument");
    if (d->kind != LCN_LAYER_CONV)
        return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: only convolutions");
    return lcn_i8plan_add_layer(p, d, w, nw, b, nb, NULL, 0, NULL, 0, out_scale, err);
}

static int q8_push_mem(q8_ctx *c, dnnl_memory_t m) {
    if (c->nmems == c->capmems) {
        int nc = c->capmems ? 2 * c->capmems : 32;
        dnnl_memory_t *nm = realloc(c->mems, sizeof *nm * nc);
        if (!nm) return 0;
        c->mems = nm, c->capmems = nc;
    }
    c->mems[c->nmems++] = m;
    return 1;
}

static void q8_ctx_free(q8_ctx *c) {
    if (!c) return;
    for (int i = 0; i < c->nsteps; i++) {
        if (c->steps[i].prim) dnnl_primitive_destroy(c->steps[i].prim);
        if (c->steps[i].kd && c->steps[i].kd_free) c->steps[i].kd_free(c->steps[i].kd);
    }
    free(c->steps);
    for (int i = 0; i < c->nmems; i++) dnnl_memory_destroy(c->mems[i]);
    free(c->mems);
    if (c->user_in) dnnl_memory_destroy(c->user_in);
    if (c->user_out) dnnl_memory_destroy(c->user_out);
    if (c->scratch_mem) dnnl_memory_destroy(c->scratch_mem);
    free(c->scratch);
    free(c);
}

/* Runs a one-off reorder (weights) now. */
static dnnl_status_t q8_reorder_now(dnnl_engine_t eng, dnnl_stream_t strm, dnnl_memory_t src,
        dnnl_memory_t dst, int count, int mask, const float *scales) {
    const dnnl_memory_desc_t *smd, *dmd;
    dnnl_memory_get_memory_desc(src, &smd);
    dnnl_memory_get_memory_desc(dst, &dmd);
    dnnl_primitive_attr_t a = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_status_t s = dnnl_primitive_attr_create(&a);
    if (s == dnnl_success && count > 0) s = dnnl_primitive_attr_set_output_scales(a, count, mask, scales);
    if (s == dnnl_success) s = dnnl_reorder_primitive_desc_create(&pd, smd, eng, dmd, eng, a);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        s = dnnl_primitive_execute(prim, strm, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(strm);
    }
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (a) dnnl_primitive_attr_destroy(a);
    return s;
}

/* Builder state for one batch context. */
typedef struct q8_b {
    lcn_i8plan *p;
    dnnl_stream_t strm;
    q8_ctx *c;
    dnnl_primitive_desc_t *pds;
    int cap;
    lcn_error *err;
    int layer; /* the layer being built, -1 outside the layers */
} q8_b;

static lcn_status q8_oom(q8_b *B, int i) { return lcn_err_set(B->err, LCN_ERR_NOMEM, i, "out of memory"); }

/* Adds a memory the context owns (md, allocated). */
static lcn_status q8_new_mem(q8_b *B, const dnnl_memory_desc_t *md, int i, dnnl_memory_t *out) {
    lcn_error *err = B->err;
    dnnl_status_t s = dnnl_memory_create(out, md, B->p->eng, DNNL_MEMORY_ALLOCATE);
    if (s != dnnl_success) return q8_dn(err, s, i, "memory_create");
    if (!q8_push_mem(B->c, *out)) {
        dnnl_memory_destroy(*out);
        return q8_oom(B, i);
    }
    return LCN_OK;
}

/* Appends a step (takes pd). */
static lcn_status q8_step_add(q8_b *B, dnnl_primitive_desc_t pd, int nargs, const dnnl_exec_arg_t *args) {
    q8_ctx *c = B->c;
    if (c->nsteps == B->cap) {
        dnnl_primitive_desc_destroy(pd);
        return lcn_err_set(B->err, LCN_ERR_STATE, -1, "int8: too many steps");
    }
    q8_step *st = &c->steps[c->nsteps];
    st->layer = B->layer;
    for (int k = 0; k < nargs; k++) st->args[st->nargs++] = args[k];
    B->pds[c->nsteps++] = pd;
    return LCN_OK;
}

/* Appends a custom step (takes kd: it is freed with kd_free on failure too). */
static lcn_status q8_custom_add(q8_b *B, q8_kernel fn, void *kd, void (*kd_free)(void *), int nargs,
        const dnnl_exec_arg_t *args) {
    q8_ctx *c = B->c;
    if (c->nsteps == B->cap) {
        if (kd && kd_free) kd_free(kd);
        return lcn_err_set(B->err, LCN_ERR_STATE, -1, "int8: too many steps");
    }
    q8_step *st = &c->steps[c->nsteps++];
    st->fn = fn, st->kd = kd, st->kd_free = kd_free;
    st->layer = B->layer;
    for (int k = 0; k < nargs; k++) st->args[st->nargs++] = args[k];
    return LCN_OK;
}

static void *q8_handle(dnnl_memory_t m) {
    void *h = NULL;
    dnnl_memory_get_data_handle(m, &h);
    return h;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define Q8_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define Q8_CLONES
#endif

/* y = sat_s8(rint(x * s)) as oneDNN's reorders round (to nearest even):
 * after clamping, adding and subtracting 1.5 * 2^23 rounds to nearest even
 * in fp32 arithmetic (this file is not built with -ffast-math), which the
 * compiler vectorizes (rintf it does not). A NaN becomes -128 (oneDNN's
 * conversion gives some saturated value too). */
static inline int8_t q8_sat(float v) {
    v = v > -128.f ? v : -128.f;
    v = v < 127.f ? v : 127.f;
    v = (v + 12582912.f) - 12582912.f;
    return (int8_t)(int)v;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
/* Pixels i0..i1 of a 3-channel image, 8 at a time with AVX2: round to
 * nearest even (MXCSR default) after clamping, pack the three bytes of a
 * pixel into one 32-bit lane, squeeze 4 lanes into 12 bytes. Returns the
 * first pixel left for the scalar loop. */
__attribute__((target("avx2"))) static int q8_quant3_avx2(const float *s0, const float *s1,
        const float *s2, int8_t *d, int i0, int i1, float s) {
    const __m256 vs = _mm256_set1_ps(s), lo = _mm256_set1_ps(-128.f), hi = _mm256_set1_ps(127.f);
    const __m256i m = _mm256_set1_epi32(0xff);
    const __m128i sh = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    int i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256 a = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s0 + i), vs), lo), hi);
        __m256 b = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s1 + i), vs), lo), hi);
        __m256 c = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s2 + i), vs), lo), hi);
        __m256i w = _mm256_or_si256(
                _mm256_or_si256(_mm256_and_si256(_mm256_cvtps_epi32(a), m),
                        _mm256_slli_epi32(_mm256_and_si256(_mm256_cvtps_epi32(b), m), 8)),
                _mm256_slli_epi32(_mm256_and_si256(_mm256_cvtps_epi32(c), m), 16));
        __m128i w0 = _mm_shuffle_epi8(_mm256_castsi256_si128(w), sh);
        __m128i w1 = _mm_shuffle_epi8(_mm256_extracti128_si256(w, 1), sh);
        memcpy(d + 3 * (size_t)i, &w0, 12);
        memcpy(d + 3 * (size_t)i + 12, &w1, 12);
    }
    return i;
}
#endif

/* fp32 NCHW -> s8 NHWC with scale s: n samples of c x hw. */
Q8_CLONES static void q8_quantize_nchw(const float *src, int8_t *dst, int n, int c, int hw, float s,
        int nthr) {
    enum { BLK = 512 };
    long nblk = (hw + BLK - 1) / BLK, total = nblk * n;
#if defined(__GNUC__) && defined(__x86_64__)
    int avx2 = __builtin_cpu_supports("avx2");
#endif
#pragma omp parallel for num_threads(nthr) if (nthr > 1 && total > 8) schedule(static)
    for (long k = 0; k < total; k++) {
        long b = k / nblk;
        int i0 = (int)(k % nblk) * BLK, i1 = i0 + BLK < hw ? i0 + BLK : hw;
        const float *sp = src + (size_t)b * c * hw;
        int8_t *d = dst + (size_t)b * c * hw;
        if (c == 3) {
            const float *s0 = sp, *s1 = sp + hw, *s2 = sp + 2 * (size_t)hw;
            int i = i0;
#if defined(__GNUC__) && defined(__x86_64__)
            if (avx2) i = q8_quant3_avx2(s0, s1, s2, d, i0, i1, s);
#endif
            for (; i < i1; i++) {
                d[3 * (size_t)i] = q8_sat(s0[i] * s);
                d[3 * (size_t)i + 1] = q8_sat(s1[i] * s);
                d[3 * (size_t)i + 2] = q8_sat(s2[i] * s);
            }
            continue;
        }
        for (int ch = 0; ch < c; ch++)
            for (int i = i0; i < i1; i++) d[(size_t)i * c + ch] = q8_sat(sp[(size_t)ch * hw + i] * s);
    }
}

lcn_status lcn_test_quantize_nchw(const float *src, int8_t *dst, int n, int c, int hw, float s,
        int nthr) {
    if (!src || !dst || n <= 0 || c <= 0 || hw <= 0 || nthr <= 0) return LCN_ERR_INVALID;
    q8_quantize_nchw(src, dst, n, c, hw, s, nthr);
    return LCN_OK;
}

typedef struct q8_quant_kd {
    int n, c, hw;
    float s;
} q8_quant_kd;

static lcn_status q8_quantize_step(const q8_step *st, int nthr, lcn_error *err) {
    (void)err;
    const q8_quant_kd *k = st->kd;
    q8_quantize_nchw(q8_handle(st->args[0].memory), q8_handle(st->args[1].memory), k->n, k->c,
            k->hw, k->s, nthr);
    return LCN_OK;
}

static void q8_impl_append(lcn_layer *L, const char *tag, dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    size_t n = strlen(L->impl);
    snprintf(L->impl + n, sizeof L->impl - n, "%s%s%s", n ? " " : "", tag, impl ? impl : "");
}

/* Whether impl names the same ISA as pd's implementation ("x:avx512_core_vnni"):
 * kernels for older ISAs and gemm-based ones are not worth the time of
 * compiling and timing them. */
static int q8_same_isa(const char *impl, const_dnnl_primitive_desc_t pd) {
    const char *f = "";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &f);
    const char *a = strrchr(impl, ':'), *b = strrchr(f, ':');
    return a && b && !strcmp(a, b);
}

/* The implementation of op desc od to use: with tuned == NULL oneDNN's first
 * choice; at plan finalize (timing != 0) the fastest non-reference one for
 * the same ISA writing the same dst layout as the first, whose name goes to
 * tuned; when building an instance, the one named tuned (the first if it
 * is gone). */
static dnnl_status_t q8_pick(q8_b *B, const_dnnl_op_desc_t od, const_dnnl_primitive_attr_t attr,
        char *tuned, size_t cap, int timing, const char *key, dnnl_primitive_desc_t *out) {
    *out = NULL;
    if (!tuned) return dnnl_primitive_desc_create(out, od, attr, B->p->eng, NULL);
    /* a choice this process made before for the same layer is reused, so
     * that compiling a model twice gives the same kernels (and outputs) */
    int ch;
    float ca, cb;
    char name[LCN_TUNED_LEN];
    if (timing && key && choice_get_name(key, &ch, &ca, &cb, name) && cap >= sizeof name) {
        memcpy(tuned, name, sizeof name);
        timing = 0;
    }
    dnnl_primitive_desc_iterator_t it;
    dnnl_status_t s = dnnl_primitive_desc_iterator_create(&it, od, attr, B->p->eng, NULL);
    if (s != dnnl_success) return s;
    dnnl_primitive_desc_t first = NULL, best = NULL;
    double tbest = 1e30;
    do {
        dnnl_primitive_desc_t c = dnnl_primitive_desc_iterator_fetch(it);
        if (!c) break;
        const char *impl = "";
        dnnl_primitive_desc_query(c, dnnl_query_impl_info_str, 0, &impl);
        int keep = 0;
        if (!first) {
            first = c, keep = 1;
        } else if (strncmp(impl, "ref", 3) != 0 && q8_same_isa(impl, first) &&
                   dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(c, dnnl_query_dst_md, 0),
                           dnnl_primitive_desc_query_md(first, dnnl_query_dst_md, 0))) {
            keep = 2;
        }
        if (!timing) {
            if (tuned[0] && !strcmp(impl, tuned)) {
                if (c != first) dnnl_primitive_desc_destroy(first);
                first = c;
                break;
            }
            if (keep != 1) dnnl_primitive_desc_destroy(c);
            continue;
        }
        if (keep) {
            double t = strncmp(impl, "ref", 3) ? time_pd_on(B->p->eng, B->strm, c, tbest) : 1e30;
            if (t < tbest) {
                if (best && best != first) dnnl_primitive_desc_destroy(best);
                best = c, tbest = t;
            } else if (c != first) {
                dnnl_primitive_desc_destroy(c);
            }
        } else {
            dnnl_primitive_desc_destroy(c);
        }
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    if (timing && best) {
        if (first && first != best) dnnl_primitive_desc_destroy(first);
        first = best;
        const char *impl = "";
        dnnl_primitive_desc_query(first, dnnl_query_impl_info_str, 0, &impl);
        snprintf(tuned, cap, "%s", impl);
        if (key) choice_put_name(key, 1, (float)(tbest * 1e6), 0.f, tuned);
    }
    if (!first) return dnnl_unimplemented;
    *out = first;
    return dnnl_success;
}

/* A convolution: src (s8 or f32 NHWC) -> dst of type ddt. w is OIHW
 * (grouped g); wscale: per-channel weight scales for int8 (NULL = f32 conv
 * with plain weights); os: output scales (count oc) or NULL; ops: post-ops
 * or NULL. *dst is created unless given (user memory). */
static lcn_status q8_conv(q8_b *B, int i, const char *tag, dnnl_memory_t src, int n, int ic, int ih,
        int iw, int oc, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl, int pb,
        int pr, int g, const float *w, const float *bias, const float *wscale, const float *os,
        dnnl_post_ops_t ops, dnnl_data_type_t ddt, dnnl_memory_t *dst, int record, int tune,
        double *time_only) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    lcn_i8plan *p = B->p;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_memory_t wplain = NULL;
    int int8 = wscale != NULL, grouped = g > 1, icg = ic / g, ocg = oc / g;
    dnnl_data_type_t wdt = int8 ? dnnl_s8 : dnnl_f32;
    const dnnl_memory_desc_t *smdp;
    dnnl_memory_get_memory_desc(src, &smdp);
    dnnl_memory_desc_t wmd, bmd, dmd;
    dnnl_dims_t dd = {n, oc, oh, ow};
    dnnl_dims_t wd5 = {g, ocg, icg, kh, kw}, wd4 = {oc, ic, kh, kw}, bd = {oc};
    Q8CHK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, ddt, dnnl_nhwc), i, "md");
    Q8CHK(dnnl_memory_desc_init_by_tag(&wmd, grouped ? 5 : 4, grouped ? wd5 : wd4, wdt,
                  dnnl_format_tag_any), i, "md");
    Q8CHK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x), i, "md");
    dnnl_dims_t strides = {sh, sw}, pads_l = {pt, pl}, pads_r = {pb, pr};
    dnnl_convolution_desc_t cd;
    Q8CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                  smdp, &wmd, bias ? &bmd : NULL, &dmd, strides, pads_l, pads_r),
            i, "convolution desc");
    Q8CHK(dnnl_primitive_attr_create(&attr), i, "attr");
    Q8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), i, "attr");
    if (os) Q8CHK(dnnl_primitive_attr_set_output_scales(attr, oc, 1 << 1, os), i, "output scales");
    if (ops) Q8CHK(dnnl_primitive_attr_set_post_ops(attr, ops), i, "post_ops");
    lcn_layer *TL = &p->net.layers[i];
    char key[128] = "";
    if (tune && record)
        layer_key(key, sizeof key, int8 ? (ddt == dnnl_f32 ? "q8f" : "q8") : "q8fp32", TL, p->threads);
    Q8CHK(q8_pick(B, &cd, attr, tune ? TL->tuned : NULL, sizeof TL->tuned, record, key[0] ? key : NULL,
                  &pd),
            i, "convolution primitive_desc_create");
    if (time_only) { /* the timed oneDNN kernel's time, for lcn_pw8's choice */
        int ch;
        float ca = 0, cb;
        char nm[LCN_TUNED_LEN];
        *time_only = key[0] && choice_get_name(key, &ch, &ca, &cb, nm) && ca > 0 ? ca * 1e-6 : 0;
        goto done;
    }
    dnnl_memory_desc_t wpl;
    Q8CHK(dnnl_memory_desc_init_by_tag(&wpl, grouped ? 5 : 4, grouped ? wd5 : wd4, dnnl_f32,
                  grouped ? dnnl_goihw : dnnl_oihw), i, "md");
    Q8CHK(dnnl_memory_create(&wplain, &wpl, p->eng, (void *)w), i, "memory_create");
    const dnnl_memory_desc_t *qw = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t wm, bm = NULL;
    if ((rc = q8_new_mem(B, qw, i, &wm)) != LCN_OK) goto done;
    Q8CHK(q8_reorder_now(p->eng, B->strm, wplain, wm, int8 ? oc : 0, grouped ? 3 : 1, wscale), i,
            "weights reorder");
    if (bias) {
        if ((rc = q8_new_mem(B, &bmd, i, &bm)) != LCN_OK) goto done;
        void *bh;
        dnnl_memory_get_data_handle(bm, &bh);
        memcpy(bh, bias, sizeof *bias * oc);
    }
    if (!*dst) {
        const dnnl_memory_desc_t *qd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        if ((rc = q8_new_mem(B, qd, i, dst)) != LCN_OK) goto done;
    }
    if (record) q8_impl_append(&p->net.layers[i], tag, pd);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, *dst},
            {DNNL_ARG_BIAS, bm}};
    rc = q8_step_add(B, pd, bias ? 4 : 3, args);
    pd = NULL;
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (wplain) dnnl_memory_destroy(wplain);
    return rc;
}

/* Appends a step for op desc od (pooling, binary, softmax: no weights)
 * with a user scratchpad; what names it in errors, tag in impl names. */
static lcn_status q8_op(q8_b *B, int i, const char *tag, const_dnnl_op_desc_t od, const char *what,
        int nargs, const dnnl_exec_arg_t *args, int record) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    Q8CHK(dnnl_primitive_attr_create(&attr), i, "attr");
    Q8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), i, "attr");
    Q8CHK(dnnl_primitive_desc_create(&pd, od, attr, B->p->eng, NULL), i, what);
    if (record) q8_impl_append(&B->p->net.layers[i], tag, pd);
    rc = q8_step_add(B, pd, nargs, args);
    pd = NULL;
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* Average pooling over the whole H x W of src (NHWC, s8 or f32) -> [n,C,1,1]
 * of the same type. */
static lcn_status q8_gap(q8_b *B, int i, const char *tag, dnnl_memory_t src, int n, int C, int H,
        int W, dnnl_memory_t *dst, int record) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    const dnnl_memory_desc_t *smdp;
    dnnl_memory_get_memory_desc(src, &smdp);
    dnnl_memory_desc_t dmd;
    dnnl_dims_t dd = {n, C, 1, 1}, st = {1, 1}, ker = {H, W}, pad = {0, 0};
    Q8CHK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, smdp->data_type, dnnl_nhwc), i, "md");
    dnnl_pooling_desc_t pdsc;
    Q8CHK(dnnl_pooling_forward_desc_init(&pdsc, dnnl_forward_inference,
                  dnnl_pooling_avg_exclude_padding, smdp, &dmd, st, ker, pad, pad),
            i, "pooling desc");
    if ((rc = q8_new_mem(B, &dmd, i, dst)) != LCN_OK) goto done;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, *dst}};
    rc = q8_op(B, i, tag, &pdsc, "pooling primitive_desc_create", 2, args, record);
done:
    return rc;
}

/* A reorder src -> *dst (created with md dmd unless given) with one scale. */
static lcn_status q8_reorder(q8_b *B, int i, const char *tag, dnnl_memory_t src,
        const dnnl_memory_desc_t *dmd, float scale, dnnl_memory_t *dst, int record) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    const dnnl_memory_desc_t *smdp;
    dnnl_memory_get_memory_desc(src, &smdp);
    if (!*dst && (rc = q8_new_mem(B, dmd, i, dst)) != LCN_OK) return rc;
    const dnnl_memory_desc_t *dmdp;
    dnnl_memory_get_memory_desc(*dst, &dmdp);
    Q8CHK(dnnl_primitive_attr_create(&attr), i, "attr");
    Q8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), i, "attr");
    if (scale != 1.f) Q8CHK(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale), i, "attr");
    Q8CHK(dnnl_reorder_primitive_desc_create(&pd, smdp, B->p->eng, dmdp, B->p->eng, attr), i,
            "reorder");
    if (record && i >= 0) q8_impl_append(&B->p->net.layers[i], tag, pd);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, *dst}};
    rc = q8_step_add(B, pd, 2, args);
    pd = NULL;
done:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return rc;
}

static int q8_act_ops(dnnl_post_ops_t po, const lcn_act *a, float scale) {
    switch (a->kind) {
        case LCN_ACT_NONE:
            return scale == 1.f || dnnl_post_ops_append_eltwise(po, scale, dnnl_eltwise_linear, 1.f, 0.f) == dnnl_success;
        case LCN_ACT_RELU: return dnnl_post_ops_append_eltwise(po, scale, dnnl_eltwise_relu, 0.f, 0.f) == dnnl_success;
        case LCN_ACT_HARDSWISH:
            return dnnl_post_ops_append_eltwise(po, scale, dnnl_eltwise_hardswish, 0.f, 0.f) == dnnl_success;
        case LCN_ACT_HARDSIGMOID:
            return dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_linear, a->alpha, a->beta) == dnnl_success &&
                   dnnl_post_ops_append_eltwise(po, scale, dnnl_eltwise_clip, 0.f, 1.f) == dnnl_success;
        case LCN_ACT_SIGMOID:
            return dnnl_post_ops_append_eltwise(po, scale, dnnl_eltwise_logistic, 0.f, 0.f) == dnnl_success;
    }
    return 0;
}

/* Squeeze-excite in place on x (s8 NHWC, scale s_x). */
static lcn_status q8_se(q8_b *B, int i, dnnl_memory_t x, int n, float s_x, int record) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    const lcn_layer *L = &B->p->net.layers[i];
    int C = L->ic, R = L->d.se_reduce;
    dnnl_post_ops_t po = NULL;
    dnnl_memory_t pooled = NULL, pf = NULL, r = NULL, gte = NULL;
    if ((rc = q8_gap(B, i, "pool=", x, n, C, L->ih, L->iw, &pooled, record)) != LCN_OK) return rc;
    const dnnl_memory_desc_t *pmd;
    dnnl_memory_get_memory_desc(pooled, &pmd);
    if (pmd->data_type == dnnl_f32) {
        pf = pooled; /* x is fp32: no dequantizing */
    } else {
        dnnl_memory_desc_t fmd;
        dnnl_dims_t fd = {n, C, 1, 1};
        Q8CHK(dnnl_memory_desc_init_by_tag(&fmd, 4, fd, dnnl_f32, dnnl_nhwc), i, "md");
        if ((rc = q8_reorder(B, i, "deq=", pooled, &fmd, 1.f / s_x, &pf, 0)) != LCN_OK) return rc;
    }
    lcn_act relu = {LCN_ACT_RELU, 0.f, 0.f};
    Q8CHK(dnnl_post_ops_create(&po), i, "post_ops");
    if (!q8_act_ops(po, &relu, 1.f)) { rc = lcn_err_set(err, LCN_ERR_DNNL, i, "int8 se post-ops"); goto done; }
    rc = q8_conv(B, i, "fc1=", pf, n, C, 1, 1, R, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, L->w[0],
            L->nw[1] ? L->w[1] : NULL, NULL, NULL, po, dnnl_f32, &r, record, 0, NULL);
    dnnl_post_ops_destroy(po), po = NULL;
    if (rc != LCN_OK) goto done;
    Q8CHK(dnnl_post_ops_create(&po), i, "post_ops");
    if (!q8_act_ops(po, &L->d.gate, 1.f)) { rc = lcn_err_set(err, LCN_ERR_DNNL, i, "int8 se gate"); goto done; }
    rc = q8_conv(B, i, "fc2=", r, n, R, 1, 1, C, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, L->w[2],
            L->nw[3] ? L->w[3] : NULL, NULL, NULL, po, dnnl_f32, &gte, record, 0, NULL);
    dnnl_post_ops_destroy(po), po = NULL;
    if (rc != LCN_OK) goto done;
    {
        const dnnl_memory_desc_t *xmd, *gmd;
        dnnl_memory_get_memory_desc(x, &xmd);
        dnnl_memory_get_memory_desc(gte, &gmd);
        dnnl_binary_desc_t bd;
        Q8CHK(dnnl_binary_desc_init(&bd, dnnl_binary_mul, xmd, gmd, xmd), i, "binary desc");
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, x}, {DNNL_ARG_SRC_1, gte}, {DNNL_ARG_DST, x}};
        rc = q8_op(B, i, "mul=", &bd, "binary primitive_desc_create", 3, args, record);
    }
done:
    if (po) dnnl_post_ops_destroy(po);
    return rc;
}

/* Softmax over the channels of src (f32 NHWC) into *dst (created unless given). */
static lcn_status q8_softmax(q8_b *B, int i, dnnl_memory_t src, dnnl_memory_t *dst, int record) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    const dnnl_memory_desc_t *smdp;
    dnnl_memory_get_memory_desc(src, &smdp);
    if (!*dst && (rc = q8_new_mem(B, smdp, i, dst)) != LCN_OK) return rc;
    dnnl_softmax_desc_t sd;
    Q8CHK(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, smdp, 1), i, "softmax desc");
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, *dst}};
    rc = q8_op(B, i, "f32 ", &sd, "softmax primitive_desc_create", 2, args, record);
done:
    return rc;
}

/* Converts cur between s8 (scale s) and f32 NHWC: a reorder into a new
 * memory. to_f32 dequantizes (x / s), else quantizes (x * s). */
static lcn_status q8_convert(q8_b *B, int i, dnnl_memory_t *cur, float s, int to_f32) {
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(*cur, &md);
    dnnl_memory_desc_t t = *md;
    t.data_type = to_f32 ? dnnl_f32 : dnnl_s8;
    dnnl_memory_desc_t want;
    lcn_error *err = B->err;
    lcn_status rc = LCN_OK;
    Q8CHK(dnnl_memory_desc_init_by_tag(&want, 4, md->dims, t.data_type, dnnl_nhwc), i, "md");
    dnnl_memory_t dst = NULL;
    if ((rc = q8_reorder(B, i, "", *cur, &want, to_f32 ? 1.f / s : s, &dst, 0)) != LCN_OK) return rc;
    *cur = dst;
done:
    return rc;
}

static int q8_is_f32(dnnl_memory_t m) {
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(m, &md);
    return md->data_type == dnnl_f32;
}

/* Depthwise int8 convolutions run on lcn_dw8 (faster than oneDNN 2.6's
 * int8 depthwise on AVX-512 VNNI: 0.45-0.9x its time on the PP-LCNet
 * shapes); with tuning, only where it measured faster at plan finalize.
 * LCNET_NO_DW8=1 keeps oneDNN's. */
typedef struct q8_dw8_kd {
    lcn_dw8 *k;
    int n;
} q8_dw8_kd;

static void q8_dw8_free(void *p) {
    q8_dw8_kd *kd = p;
    if (kd) lcn_dw8_destroy(kd->k);
    free(kd);
}

static lcn_status q8_dw8_step(const q8_step *st, int nthr, lcn_error *err) {
    (void)err;
    const q8_dw8_kd *kd = st->kd;
    lcn_dw8_run(kd->k, q8_handle(st->args[0].memory), q8_handle(st->args[1].memory), kd->n, nthr);
    return LCN_OK;
}

/* Best of 7 timed runs (after two warm-ups) of run(ctx, x, y) on hot
 * buffers of in_bytes and out_bytes; 1e30 when a run fails. */
static double q8_time_kernel(int (*run)(const void *ctx, const int8_t *x, void *y), const void *ctx,
        size_t in_bytes, size_t out_bytes) {
    double best = 1e30;
    int8_t *x = lcn_aligned_alloc(in_bytes);
    void *y = lcn_aligned_alloc(out_bytes);
    if (x && y) {
        memset(x, 1, in_bytes);
        for (int r = 0; r < 9; r++) {
            double t0 = lcn_now();
            if (!run(ctx, x, y)) {
                best = 1e30;
                break;
            }
            double dt = lcn_now() - t0;
            if (r >= 2 && dt < best) best = dt;
        }
    }
    free(x);
    free(y);
    return best;
}

struct q8_own_ops;

typedef struct q8_run_ctx {
    const lcn_dw8 *dw8;
    lcn_dw8_dnnl *dnnl;
    const struct q8_own_ops *own; /* with k: an own kernel (lcn_pw8, lcn_st8) */
    const void *k;
    long n; /* images (dw8, st8) or pixels (pw8) */
    int nthr;
} q8_run_ctx;

static int q8_run_dw8(const void *ctx, const int8_t *x, void *y) {
    const q8_run_ctx *c = ctx;
    lcn_dw8_run(c->dw8, x, y, (int)c->n, c->nthr);
    return 1;
}

static int q8_run_dw8_dnnl(const void *ctx, const int8_t *x, void *y) {
    const q8_run_ctx *c = ctx;
    return lcn_dw8_dnnl_run(c->dnnl, x, y, NULL) == LCN_OK;
}

/* lcn_dw8 (k) or oneDNN's int8 depthwise (dnnl) on n images. */
static double q8_time_dw8(const lcn_dw8 *k, lcn_dw8_dnnl *dnnl, int n, int nthr, size_t in_bytes,
        size_t out_bytes) {
    q8_run_ctx c = {k, dnnl, NULL, NULL, n, nthr};
    return q8_time_kernel(dnnl ? q8_run_dw8_dnnl : q8_run_dw8, &c, in_bytes, out_bytes);
}

/* ---- own kernels chosen by timing against oneDNN: lcn_pw8 (1x1 convs with
 * few input channels), lcn_st8 (convs with few input channels: the stem) ---- */

/* What the chain needs of an own kernel. */
typedef struct q8_own_ops {
    const char *name; /* "lcn_pw8": the tuned name and the profile's */
    const char *key;  /* choice key kind ("pw8"); "f" is appended for fp32 output */
    void (*run)(const void *k, const int8_t *x, void *y, long n, int nthr);
    void (*destroy)(void *k);
} q8_own_ops;

static void q8_pw8_run(const void *k, const int8_t *x, void *y, long n, int nthr) {
    lcn_pw8_run(k, x, y, n, nthr);
}
static void q8_pw8_destroy(void *k) { lcn_pw8_destroy(k); }
static void q8_st8_run(const void *k, const int8_t *x, void *y, long n, int nthr) {
    lcn_st8_run(k, x, y, n, nthr);
}
static void q8_st8_destroy(void *k) { lcn_st8_destroy(k); }

static const q8_own_ops q8_pw8_ops = {"lcn_pw8", "pw8", q8_pw8_run, q8_pw8_destroy};
static const q8_own_ops q8_st8_ops = {"lcn_st8", "st8", q8_st8_run, q8_st8_destroy};

typedef struct q8_own_kd {
    const q8_own_ops *ops;
    void *k;
    long n; /* pixels (pw8) or images (st8) */
} q8_own_kd;

static void q8_own_free(void *p) {
    q8_own_kd *kd = p;
    if (kd) kd->ops->destroy(kd->k);
    free(kd);
}

static lcn_status q8_own_step(const q8_step *st, int nthr, lcn_error *err) {
    (void)err;
    const q8_own_kd *kd = st->kd;
    kd->ops->run(kd->k, q8_handle(st->args[0].memory), q8_handle(st->args[1].memory), kd->n, nthr);
    return LCN_OK;
}

static int q8_run_own(const void *ctx, const int8_t *x, void *y) {
    const q8_run_ctx *c = ctx;
    c->own->run(c->k, x, y, c->n, c->nthr);
    return 1;
}

static void q8_own_key(const lcn_i8plan *p, int i, int outf, const q8_own_ops *ops, char *key,
        size_t cap) {
    char kind[16];
    snprintf(kind, sizeof kind, "%s%s", ops->key, outf ? "f" : "");
    key[0] = 0;
    layer_key(key, cap, kind, &p->net.layers[i], p->threads);
}

/* Whether this process has timed the own kernel against oneDNN on layer i. */
static int q8_own_known(const lcn_i8plan *p, int i, int outf, const q8_own_ops *ops) {
    char key[128];
    int use;
    float a, b;
    q8_own_key(p, i, outf, ops, key, sizeof key);
    return choice_get(key, &use, &a, &b);
}

/* Whether src is plain s8 NHWC for layer i (batch n) and dst (when given)
 * plain NHWC of the output type. */
static int q8_plain_io(const lcn_layer *L, dnnl_memory_t src, int n, int outf, dnnl_memory_t dst) {
    const dnnl_memory_desc_t *smd;
    dnnl_memory_get_memory_desc(src, &smd);
    dnnl_memory_desc_t want;
    dnnl_dims_t din = {n, L->ic, L->ih, L->iw};
    if (dnnl_memory_desc_init_by_tag(&want, 4, din, dnnl_s8, dnnl_nhwc) != dnnl_success ||
            !dnnl_memory_desc_equal(smd, &want))
        return 0;
    if (dst) {
        dnnl_memory_desc_t dmd;
        const dnnl_memory_desc_t *umd;
        dnnl_dims_t dd = {n, L->oc, L->oh, L->ow};
        if (dnnl_memory_desc_init_by_tag(&dmd, 4, dd, outf ? dnnl_f32 : dnnl_s8, dnnl_nhwc) != dnnl_success)
            return 0;
        dnnl_memory_get_memory_desc(dst, &umd);
        if (!dnnl_memory_desc_equal(umd, &dmd)) return 0;
    }
    return 1;
}

static int lcn_own8_mode = -1;

lcn_status lcn_test_own8(int mode) { return set_mode(&lcn_own8_mode, mode, -1, 1); }

/* The activations the own kernels apply (lcn_q8epi.h). */
static int q8_simple_act(int kind) {
    return kind == LCN_ACT_NONE || kind == LCN_ACT_RELU || kind == LCN_ACT_HARDSWISH;
}

/* The own kernel layer i could run as (NULL: none): lcn_pw8 for an int8 1x1
 * conv, stride 1, no padding, a multiple of 4 input channels; lcn_st8 for a
 * conv of one group whose kernel row spans at most 16 input bytes; both
 * with ReLU/hardswish/none, plain s8 NHWC input and output (or fp32 NHWC
 * output), on a CPU with VNNI. */
static const q8_own_ops *q8_own_candidate(const lcn_i8plan *p, int i, dnnl_memory_t src, int n,
        int outf, dnnl_memory_t dst) {
    const lcn_layer *L = &p->net.layers[i];
    const lcn_layer_desc *d = &L->d;
    if (d->kind != LCN_LAYER_CONV || d->groups != 1 || __atomic_load_n(&lcn_own8_mode, __ATOMIC_SEQ_CST) == 0 ||
            !q8_simple_act(d->act.kind) || !q8_plain_io(L, src, n, outf, dst))
        return NULL;
    if (d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 && !d->pad_t && !d->pad_l &&
            !d->pad_b && !d->pad_r) {
        if (L->ic % 4 != 0 || !lcn_pw8_vnni() || lcn_env_off("LCNET_NO_PW8")) return NULL;
        return &q8_pw8_ops;
    }
    lcn_st8_desc sd = {L->ic, L->ih, L->iw, L->oc, d->kh, d->kw, d->stride_h, d->stride_w, d->pad_t,
            d->pad_l, d->pad_b, d->pad_r, d->act.kind, outf, p->threads};
    if (!lcn_st8_fits(&sd) || !lcn_st8_vnni() || lcn_env_off("LCNET_NO_ST8")) return NULL;
    return &q8_st8_ops;
}

/* Creates the own kernel ops for layer i; *k NULL (and LCN_OK) when its
 * output shape differs from the layer's. *count: what a run takes (pixels
 * or images). */
static lcn_status q8_own_create(q8_b *B, int i, const q8_own_ops *ops, int n, float s_x, float s_y,
        int outf, void **k, long *count) {
    lcn_i8plan *p = B->p;
    const lcn_layer *L = &p->net.layers[i];
    const lcn_layer_desc *d = &L->d;
    lcn_status rc;
    *k = NULL;
    if (ops == &q8_pw8_ops) {
        lcn_pw8_desc pd = {L->ic, L->oc, d->act.kind, outf, p->threads};
        lcn_pw8 *pk = NULL;
        rc = lcn_pw8_create(&pd, L->w[0], L->w[1], s_x, s_y, &pk, B->err);
        *k = pk, *count = (long)n * L->oh * L->ow;
    } else {
        lcn_st8_desc sd = {L->ic, L->ih, L->iw, L->oc, d->kh, d->kw, d->stride_h, d->stride_w, d->pad_t,
                d->pad_l, d->pad_b, d->pad_r, d->act.kind, outf, p->threads};
        lcn_st8 *sk = NULL;
        rc = lcn_st8_create(&sd, L->w[0], L->w[1], s_x, s_y, &sk, B->err);
        if (rc == LCN_OK) {
            int oh, ow;
            lcn_st8_out_shape(sk, &oh, &ow);
            if (oh != L->oh || ow != L->ow) {
                lcn_st8_destroy(sk);
                sk = NULL;
            }
        }
        *k = sk, *count = n;
    }
    if (rc != LCN_OK && B->err) B->err->layer = i;
    return rc;
}

/* Runs layer i as the own kernel ops when (tuning) it is faster than
 * oneDNN's best kernel, timed at tdnnl seconds (0: not timed here: the
 * process's earlier choice decides); sets *used then. Untuned builds
 * (sensitivity searches) keep oneDNN's. */
static lcn_status q8_own(q8_b *B, int i, const q8_own_ops *ops, dnnl_memory_t src, int n, float s_x,
        float s_y, int outf, dnnl_memory_t *dst, int record, int tune, double tdnnl, int *used) {
    lcn_status rc = LCN_OK;
    lcn_i8plan *p = B->p;
    const lcn_layer *L = &p->net.layers[i];
    *used = 0;
    int force = __atomic_load_n(&lcn_own8_mode, __ATOMIC_SEQ_CST) == 1;
    if (!tune && !force) return LCN_OK;
    void *k = NULL;
    long count = 0;
    if ((rc = q8_own_create(B, i, ops, n, s_x, s_y, outf, &k, &count)) != LCN_OK || !k) return rc;
    lcn_layer *TL = &p->net.layers[i];
    char key[128];
    q8_own_key(p, i, outf, ops, key, sizeof key);
    if (force) {
        if (record) snprintf(TL->tuned, sizeof TL->tuned, "%s", ops->name);
    } else if (record) {
        int use;
        float t8, td;
        if (!choice_get(key, &use, &t8, &td)) {
            q8_run_ctx c = {NULL, NULL, ops, k, count, p->threads};
            double a = q8_time_kernel(q8_run_own, &c, (size_t)n * L->ih * L->iw * L->ic,
                    (size_t)n * L->oh * L->ow * L->oc * (outf ? 4 : 1));
            use = tdnnl > 0 && a < 0.97 * tdnnl;
            t8 = (float)(a * 1e6), td = (float)(tdnnl * 1e6);
            choice_put(key, use, t8, td);
        }
        if (!use) {
            ops->destroy(k);
            return LCN_OK; /* oneDNN's (q8_conv picks and names it) */
        }
        snprintf(TL->tuned, sizeof TL->tuned, "%s", ops->name);
    } else if (strcmp(TL->tuned, ops->name) != 0) {
        ops->destroy(k);
        return LCN_OK;
    }
    q8_own_kd *kd = malloc(sizeof *kd);
    if (!kd) {
        ops->destroy(k);
        return q8_oom(B, i);
    }
    kd->ops = ops, kd->k = k, kd->n = count;
    dnnl_memory_desc_t dmd;
    dnnl_dims_t dd = {n, L->oc, L->oh, L->ow};
    if (dnnl_memory_desc_init_by_tag(&dmd, 4, dd, outf ? dnnl_f32 : dnnl_s8, dnnl_nhwc) != dnnl_success) {
        q8_own_free(kd);
        return lcn_err_set(B->err, LCN_ERR_DNNL, i, "int8 md");
    }
    if (!*dst && (rc = q8_new_mem(B, &dmd, i, dst)) != LCN_OK) {
        q8_own_free(kd);
        return rc;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, *dst}};
    if ((rc = q8_custom_add(B, q8_own_step, kd, q8_own_free, 2, args)) != LCN_OK) return rc;
    if (record) {
        lcn_layer *Lw = &p->net.layers[i];
        size_t len = strlen(Lw->impl);
        int use;
        float t8 = 0, td = 0;
        choice_get(key, &use, &t8, &td);
        if (t8 > 0 && td > 0)
            snprintf(Lw->impl + len, sizeof Lw->impl - len, "%s%s:avx512_vnni (%.0f us vs %.0f us for oneDNN's)",
                    len ? " " : "", ops->name, t8, td);
        else
            snprintf(Lw->impl + len, sizeof Lw->impl - len, "%s%s:avx512_vnni", len ? " " : "", ops->name);
    }
    *used = 1;
    return LCN_OK;
}

/* Adds layer i (a depthwise conv on the s8 NHWC src) as an lcn_dw8 step;
 * *used = 0 (and LCN_OK) when the kernel does not apply or, with tune, when
 * oneDNN's int8 depthwise was faster at plan finalize (record: both are
 * timed there and the choice kept in the layer's tuned name, "lcn_dw8"). */
static lcn_status q8_dw8(q8_b *B, int i, dnnl_memory_t src, int n, float s_x, float s_y, int outf,
        dnnl_memory_t *dst, int record, int tune, int *used) {
    lcn_status rc = LCN_OK;
    lcn_error *err = B->err;
    lcn_i8plan *p = B->p;
    const lcn_layer *L = &p->net.layers[i];
    const lcn_layer_desc *d = &L->d;
    *used = 0;
    if (lcn_env_off("LCNET_NO_DW8")) return LCN_OK;
    if (d->kind != LCN_LAYER_CONV || d->groups != L->ic || L->oc != L->ic || d->groups <= 1 ||
            strcmp(lcn_dw8_isa(), "avx512_vnni") != 0 || !q8_simple_act(d->act.kind) ||
            !q8_plain_io(L, src, n, outf, *dst))
        return LCN_OK;
    dnnl_memory_desc_t dmd;
    dnnl_dims_t dd = {n, L->oc, L->oh, L->ow};
    Q8CHK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, outf ? dnnl_f32 : dnnl_s8, dnnl_nhwc), i, "md");
    lcn_dw8_desc dd8 = {L->ic, L->ih, L->iw, d->kh, d->kw, d->stride_h, d->stride_w, d->pad_t,
            d->pad_l, d->pad_b, d->pad_r, d->act.kind, outf, p->threads};
    lcn_dw8 *k = NULL;
    if ((rc = lcn_dw8_create(&dd8, L->w[0], L->w[1], s_x, s_y, &k, err)) != LCN_OK) {
        if (err) err->layer = i;
        return rc;
    }
    int oh, ow;
    lcn_dw8_out_shape(k, &oh, &ow);
    if (oh != L->oh || ow != L->ow) {
        lcn_dw8_destroy(k);
        return LCN_OK;
    }
    if (tune) {
        lcn_layer *TL = &p->net.layers[i];
        if (record) {
            /* timed once per process and layer shape (same choice on
             * every compile of a model) */
            char key[128] = "";
            layer_key(key, sizeof key, outf ? "dw8f" : "dw8", L, p->threads);
            int use;
            float t8, td;
            if (!choice_get(key, &use, &t8, &td)) {
                size_t ib = (size_t)n * L->ih * L->iw * L->ic, ob = (size_t)n * oh * ow * L->ic * (outf ? 4 : 1);
                double a = q8_time_dw8(k, NULL, n, p->threads, ib, ob), b = 1e30;
                lcn_dw8_dnnl *h = NULL;
                if (lcn_dw8_dnnl_create(&dd8, n, L->w[0], L->w[1], s_x, s_y, &h, NULL) == LCN_OK) {
                    b = q8_time_dw8(NULL, h, n, p->threads, ib, ob);
                    lcn_dw8_dnnl_destroy(h);
                }
                use = a <= b;
                t8 = (float)(a * 1e6), td = (float)(b * 1e6);
                choice_put(key, use, t8, td);
            }
            TL->tuned[0] = 0;
            if (!use) {
                lcn_dw8_destroy(k);
                return LCN_OK; /* oneDNN's (q8_conv picks and names it) */
            }
            snprintf(TL->tuned, sizeof TL->tuned, "lcn_dw8");
        } else if (strcmp(TL->tuned, "lcn_dw8") != 0) {
            lcn_dw8_destroy(k);
            return LCN_OK;
        }
    }
    q8_dw8_kd *kd = malloc(sizeof *kd);
    if (!kd) {
        lcn_dw8_destroy(k);
        return q8_oom(B, i);
    }
    kd->k = k, kd->n = n;
    if (!*dst && (rc = q8_new_mem(B, &dmd, i, dst)) != LCN_OK) {
        q8_dw8_free(kd);
        return rc;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, *dst}};
    if ((rc = q8_custom_add(B, q8_dw8_step, kd, q8_dw8_free, 2, args)) != LCN_OK) return rc;
    if (record) {
        lcn_layer *Lw = &p->net.layers[i];
        size_t len = strlen(Lw->impl);
        snprintf(Lw->impl + len, sizeof Lw->impl - len, "%slcn_dw8:%s", len ? " " : "", lcn_dw8_isa());
    }
    *used = 1;
done:
    return rc;
}

/* Builds the context for batch n; record (n == 1 at finalize) stores the
 * implementation names. */
static lcn_status q8_build(lcn_i8plan *p, dnnl_stream_t strm, int n, q8_ctx **out, int record,
        lcn_error *err) {
    lcn_status rc = LCN_OK;
    q8_ctx *c = calloc(1, sizeof *c);
    float *scales = NULL, *bq = NULL;
    dnnl_post_ops_t po = NULL;
    size_t scratch_max = 0;
    q8_b B = {p, strm, c, NULL, 6 * p->net.n + 4, err};
    B.layer = -1;
    if (!c) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    c->n = n;
    c->steps = calloc((size_t)B.cap, sizeof *c->steps);
    B.pds = calloc((size_t)B.cap, sizeof *B.pds);
    if (!c->steps || !B.pds) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory"); goto done; }
    if (record)
        for (int i = 0; i < p->net.n; i++) p->net.layers[i].impl[0] = 0;

    /* user memories (handles set per run) */
    const lcn_layer *last = &p->net.layers[p->net.n - 1];
    int direct = (last->d.kind == LCN_LAYER_CONV || last->d.kind == LCN_LAYER_FC ||
                         last->d.kind == LCN_LAYER_SOFTMAX) &&
                 last->oh == 1 && last->ow == 1;
    dnnl_memory_desc_t uin, uout, act;
    dnnl_dims_t din = {n, p->net.in_c, p->net.in_h, p->net.in_w};
    dnnl_dims_t dout = {n, last->oc, last->oh, last->ow};
    Q8CHK(dnnl_memory_desc_init_by_tag(&uin, 4, din, dnnl_f32, dnnl_nchw), -1, "md");
    /* a 1x1 output is the same bytes in NHWC and NCHW */
    Q8CHK(dnnl_memory_desc_init_by_tag(&uout, 4, dout, dnnl_f32, direct ? dnnl_nhwc : dnnl_nchw), -1, "md");
    Q8CHK(dnnl_memory_create(&c->user_in, &uin, p->eng, DNNL_MEMORY_NONE), -1, "memory_create");
    Q8CHK(dnnl_memory_create(&c->user_out, &uout, p->eng, DNNL_MEMORY_NONE), -1, "memory_create");

    /* quantize */
    dnnl_memory_t cur = NULL;
    Q8CHK(dnnl_memory_desc_init_by_tag(&act, 4, din, dnnl_s8, dnnl_nhwc), -1, "md");
    if (p->fp32[0]) {
        /* an fp32 first layer reads the input as it is (transposed to NHWC) */
        Q8CHK(dnnl_memory_desc_init_by_tag(&act, 4, din, dnnl_f32, dnnl_nhwc), -1, "md");
        if ((rc = q8_reorder(&B, -1, "", c->user_in, &act, 1.f, &cur, 0)) != LCN_OK) goto done;
    } else if ((rc = q8_new_mem(&B, &act, -1, &cur)) != LCN_OK) {
        goto done;
    } else {
        q8_quant_kd *kd = malloc(sizeof *kd);
        if (!kd) { rc = q8_oom(&B, -1); goto done; }
        *kd = (q8_quant_kd){n, p->net.in_c, p->net.in_h * p->net.in_w, p->in_scale};
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, c->user_in}, {DNNL_ARG_TO, cur}};
        if ((rc = q8_custom_add(&B, q8_quantize_step, kd, free, 2, args)) != LCN_OK) goto done;
    }

    float s_x = p->in_scale;
    for (int i = 0; i < p->net.n; i++) {
        const lcn_layer *L = &p->net.layers[i];
        const lcn_layer_desc *d = &L->d;
        int final = direct && i == p->net.n - 1;
        B.layer = i;
        if (d->kind == LCN_LAYER_SOFTMAX) {
            if (!q8_is_f32(cur) && (rc = q8_convert(&B, i, &cur, s_x, 1)) != LCN_OK) goto done;
            dnnl_memory_t dst = final ? c->user_out : NULL;
            if ((rc = q8_softmax(&B, i, cur, &dst, record)) != LCN_OK) goto done;
            cur = dst;
            continue;
        }
        if (d->kind == LCN_LAYER_SE) {
            if ((rc = q8_se(&B, i, cur, n, s_x, record)) != LCN_OK) goto done;
            continue;
        }
        if (d->kind == LCN_LAYER_GAP) {
            dnnl_memory_t dst = NULL;
            if ((rc = q8_gap(&B, i, "", cur, n, L->ic, L->ih, L->iw, &dst, record)) != LCN_OK) goto done;
            cur = dst;
            continue;
        }
        int fc = d->kind == LCN_LAYER_FC;
        int fp = p->fp32[i];
        if (fp != q8_is_f32(cur) && (rc = q8_convert(&B, i, &cur, s_x, fp)) != LCN_OK) goto done;
        /* fp32 output for an fp32 consumer, the final 1x1 output, or an fp32 layer */
        int nextf = i + 1 < p->net.n && p->fp32[i + 1];
        int outf = fp || final || nextf;
        int g = fc ? 1 : d->groups, oc = L->oc, icg = L->ic / g;
        int kh = fc ? 1 : d->kh, kw = fc ? 1 : d->kw;
        /* per-channel weight scales */
        const float *w = L->w[0];
        size_t per = (size_t)icg * kh * kw;
        free(scales);
        scales = malloc(sizeof *scales * 2 * (size_t)oc);
        free(bq);
        bq = calloc((size_t)oc, sizeof *bq);
        if (!scales || !bq) { rc = lcn_err_set(err, LCN_ERR_NOMEM, i, "oom"); goto done; }
        float *ws = scales, *os = scales + oc;
        float s_y = outf ? 1.f : p->out_scale[i];
        int fold = d->act.kind == LCN_ACT_NONE;
        for (int o = 0; o < oc; o++) {
            float m = 0.f;
            for (size_t k = 0; k < per; k++) m = fmaxf(m, fabsf(w[o * per + k]));
            ws[o] = m > 0.f ? 127.f / m : 1.f;
            os[o] = (fold ? s_y : 1.f) / (s_x * ws[o]);
            if (L->w[1]) bq[o] = fp ? L->w[1][o] : L->w[1][o] * s_x * ws[o];
        }
        if (!fold) {
            Q8CHK(dnnl_post_ops_create(&po), i, "post_ops");
            if (!q8_act_ops(po, &d->act, s_y)) { rc = lcn_err_set(err, LCN_ERR_DNNL, i, "int8 post-ops"); goto done; }
        }
        dnnl_memory_t dst = final ? c->user_out : NULL;
        if (!fp && !fc) {
            int used = 0;
            rc = q8_dw8(&B, i, cur, n, s_x, s_y, outf, &dst, record, !p->no_tuning, &used);
            if (rc != LCN_OK) goto done;
            const q8_own_ops *own = used ? NULL : q8_own_candidate(p, i, cur, n, outf, dst);
            if (own) {
                /* the own kernel or oneDNN: oneDNN's best kernel is timed
                 * first (the same timing q8_conv then reuses) */
                double tdn = 0;
                if (record && !p->no_tuning && !q8_own_known(p, i, outf, own))
                    rc = q8_conv(&B, i, "", cur, n, L->ic, L->ih, L->iw, oc, L->oh, L->ow, kh, kw,
                            d->stride_h, d->stride_w, d->pad_t, d->pad_l, d->pad_b, d->pad_r, 1, w,
                            L->w[1] ? bq : NULL, ws, os, po, outf ? dnnl_f32 : dnnl_s8, &dst, record, 1,
                            &tdn);
                if (rc == LCN_OK)
                    rc = q8_own(&B, i, own, cur, n, s_x, s_y, outf, &dst, record, !p->no_tuning, tdn, &used);
                if (rc != LCN_OK) goto done;
            }
            if (used) {
                if (po) dnnl_post_ops_destroy(po), po = NULL;
                cur = dst;
                s_x = p->out_scale[i];
                continue;
            }
        }
        rc = q8_conv(&B, i, fp ? "f32 " : "", cur, n, L->ic, L->ih, L->iw, oc, L->oh, L->ow, kh, kw,
                fc ? 1 : d->stride_h, fc ? 1 : d->stride_w, fc ? 0 : d->pad_t, fc ? 0 : d->pad_l,
                fc ? 0 : d->pad_b, fc ? 0 : d->pad_r, g, w, L->w[1] ? bq : NULL, fp ? NULL : ws,
                fp ? NULL : os, po, outf ? dnnl_f32 : dnnl_s8, &dst, record, !p->no_tuning, NULL);
        if (po) dnnl_post_ops_destroy(po), po = NULL;
        if (rc != LCN_OK) goto done;
        cur = dst;
        s_x = p->out_scale[i]; /* the calibrated scale, for quantizing an fp32 output later */
    }
    /* back to fp32 NCHW (dequantizing an s8 result) */
    B.layer = -1;
    if (!direct && (rc = q8_reorder(&B, -1, "", cur, NULL, q8_is_f32(cur) ? 1.f : 1.f / s_x,
                            &c->user_out, 0)) != LCN_OK)
        goto done;
    /* one scratchpad shared by the steps (they run one after the other) */
    for (int i = 0; i < c->nsteps; i++) {
        if (!B.pds[i]) continue; /* custom step */
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(B.pds[i], dnnl_query_scratchpad_md, 0);
        size_t sz = smd ? dnnl_memory_desc_get_size(smd) : 0;
        if (sz > scratch_max) scratch_max = sz;
    }
    if (scratch_max) {
        c->scratch = lcn_aligned_alloc(scratch_max);
        if (!c->scratch) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
    }
    for (int i = 0; i < c->nsteps; i++) {
        q8_step *sp = &c->steps[i];
        if (!B.pds[i]) { /* custom step */
            snprintf(sp->what, sizeof sp->what, "%s",
                    sp->fn == q8_dw8_step ? "lcn_dw8" :
                    sp->fn == q8_own_step ? ((const q8_own_kd *)sp->kd)->ops->name :
                    sp->fn == q8_quantize_step ? "quantize input" : "custom");
            continue;
        }
        const char *impl = "?";
        dnnl_primitive_desc_query(B.pds[i], dnnl_query_impl_info_str, 0, &impl);
        snprintf(sp->what, sizeof sp->what, "%s", impl);
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(B.pds[i], dnnl_query_scratchpad_md, 0);
        size_t sz = smd ? dnnl_memory_desc_get_size(smd) : 0;
        if (sz) {
            dnnl_memory_t sm;
            Q8CHK(dnnl_memory_create(&sm, smd, p->eng, c->scratch), -1, "memory_create");
            if (!q8_push_mem(c, sm)) { dnnl_memory_destroy(sm); rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
            c->steps[i].args[c->steps[i].nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
        }
        Q8CHK(dnnl_primitive_create(&c->steps[i].prim, B.pds[i]), -1, "primitive_create");
    }
done:
    if (B.pds) {
        for (int i = 0; i < B.cap; i++)
            if (B.pds[i]) dnnl_primitive_desc_destroy(B.pds[i]);
        free(B.pds);
    }
    if (po) dnnl_post_ops_destroy(po);
    free(scales);
    free(bq);
    if (rc != LCN_OK) {
        q8_ctx_free(c);
        return rc;
    }
    *out = c;
    return LCN_OK;
}

lcn_status lcn_i8plan_set_tuning(lcn_i8plan *p, int on) {
    if (!p || p->finalized) return LCN_ERR_STATE;
    p->no_tuning = !on;
    return LCN_OK;
}

lcn_status lcn_i8plan_finalize(lcn_i8plan *p, lcn_error *err) {
    if (!p) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil plan");
    if (p->finalized) return lcn_err_set(err, LCN_ERR_STATE, -1, "finalized twice");
    if (p->net.n == 0) return lcn_err_set(err, LCN_ERR_INVALID, -1, "int8: no layers");
    int saved = omp_get_max_threads();
    omp_set_num_threads(p->threads);
    dnnl_stream_t strm = NULL;
    q8_ctx *c = NULL;
    lcn_status rc = LCN_OK;
    dnnl_status_t s = dnnl_stream_create(&strm, p->eng, dnnl_stream_default_flags);
    if (s != dnnl_success) rc = q8_dn(err, s, -1, "stream_create");
    if (rc == LCN_OK) rc = q8_build(p, strm, 1, &c, 1, err);
    q8_ctx_free(c);
    if (strm) dnnl_stream_destroy(strm);
    omp_set_num_threads(saved);
    if (rc == LCN_OK) p->finalized = 1;
    return rc;
}

lcn_status lcn_i8plan_output_shape(const lcn_i8plan *p, int *c, int *h, int *w) {
    if (!p || !c || !h || !w) return LCN_ERR_INVALID;
    lcn_net_shape(&p->net, c, h, w);
    return LCN_OK;
}

lcn_status lcn_i8plan_layer_impl(const lcn_i8plan *p, int i, const char **out) {
    if (!p || !out || i < 0 || i >= p->net.n) return LCN_ERR_INVALID;
    *out = p->net.layers[i].impl;
    return LCN_OK;
}

static void q8_plan_unref(lcn_i8plan *p) {
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    lcn_net_free(&p->net);
    free(p->out_scale);
    free(p->fp32);
    dnnl_engine_destroy(p->eng);
    free(p);
    lcn_live_add(-1);
}

lcn_status lcn_i8plan_destroy(lcn_i8plan *p) {
    if (p) q8_plan_unref(p);
    return LCN_OK;
}

lcn_status lcn_i8inst_create(lcn_i8plan *p, lcn_i8inst **out, lcn_error *err) {
    if (!p || !out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil argument");
    if (!p->finalized) return lcn_err_set(err, LCN_ERR_STATE, -1, "plan not finalized");
    lcn_i8inst *s = calloc(1, sizeof *s);
    if (!s) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    omp_set_num_threads(p->threads);
    dnnl_status_t st = dnnl_stream_create(&s->strm, p->eng, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        free(s);
        return q8_dn(err, st, -1, "stream_create");
    }
    lcn_status rc = q8_build(p, s->strm, 1, &s->ctx, 0, err);
    if (rc != LCN_OK) {
        dnnl_stream_destroy(s->strm);
        free(s);
        return rc;
    }
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
    s->plan = p;
    lcn_live_add(1);
    *out = s;
    return LCN_OK;
}

lcn_status lcn_i8inst_run(lcn_i8inst *s, const float *in, size_t in_len, int batch,
        float *out, size_t out_len, lcn_error *err) {
    if (!s || !in || !out || batch <= 0) return lcn_err_set(err, LCN_ERR_INVALID, -1, "bad argument");
    lcn_i8plan *p = s->plan;
    int c, h, w;
    lcn_net_shape(&p->net, &c, &h, &w);
    size_t want_in = (size_t)batch * p->net.in_c * p->net.in_h * p->net.in_w;
    size_t want_out = (size_t)batch * c * h * w;
    if (in_len != want_in || out_len != want_out)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "int8 run: lengths %zu, %zu, want %zu, %zu",
                in_len, out_len, want_in, want_out);
    omp_set_num_threads(p->threads);
    if (s->ctx->n != batch) {
        q8_ctx *nc = NULL;
        lcn_status rc = q8_build(p, s->strm, batch, &nc, 0, err);
        if (rc != LCN_OK) return rc;
        q8_ctx_free(s->ctx);
        s->ctx = nc;
    }
    q8_ctx *x = s->ctx;
    dnnl_memory_set_data_handle_v2(x->user_in, (void *)in, s->strm);
    dnnl_memory_set_data_handle_v2(x->user_out, out, s->strm);
    const int prof = s->profile;
    double tp = prof ? lcn_now() : 0;
    for (int i = 0; i < x->nsteps; i++) {
        q8_step *sp = &x->steps[i];
        if (sp->fn) {
            /* oneDNN's CPU stream runs in order on this thread: earlier
             * primitives have finished (OpenMP runtime) */
            lcn_status rc = sp->fn(sp, p->threads, err);
            if (rc != LCN_OK) return rc;
        } else {
            dnnl_status_t st = dnnl_primitive_execute(sp->prim, s->strm, sp->nargs, sp->args);
            if (st != dnnl_success) return q8_dn(err, st, i - 1, "execute");
        }
        if (prof) {
            double t = lcn_now();
            sp->prof_s += t - tp;
            tp = t;
        }
    }
    dnnl_status_t st = dnnl_stream_wait(s->strm);
    if (st != dnnl_success) return q8_dn(err, st, -1, "stream_wait");
    if (prof) x->prof_runs++;
    return LCN_OK;
}

lcn_status lcn_i8inst_set_profile(lcn_i8inst *s, int on) {
    if (!s) return LCN_ERR_INVALID;
    s->profile = on != 0;
    if (s->ctx) {
        s->ctx->prof_runs = 0;
        for (int i = 0; i < s->ctx->nsteps; i++) s->ctx->steps[i].prof_s = 0;
    }
    return LCN_OK;
}

lcn_status lcn_i8inst_profile(const lcn_i8inst *s, int batch, int i, int *layer, char *what,
        size_t whatcap, double *sec, long *runs) {
    if (!s || !layer || !what || !sec || !runs || !s->ctx || s->ctx->n != batch || i < 0 ||
            i >= s->ctx->nsteps)
        return LCN_ERR_INVALID;
    const q8_step *sp = &s->ctx->steps[i];
    *layer = sp->layer;
    snprintf(what, whatcap, "%s", sp->what);
    *sec = sp->prof_s;
    *runs = s->ctx->prof_runs;
    return LCN_OK;
}

lcn_status lcn_i8inst_destroy(lcn_i8inst *s) {
    if (!s) return LCN_OK;
    q8_ctx_free(s->ctx);
    dnnl_stream_destroy(s->strm);
    q8_plan_unref(s->plan);
    free(s);
    lcn_live_add(-1);
    return LCN_OK;
}
