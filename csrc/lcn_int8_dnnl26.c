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
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oneapi/dnnl/dnnl.h"
#include "oneapi/dnnl/dnnl_debug.h"

#include "lcn_int8.h"
#include "lcn_internal.h"

#if DNNL_VERSION_MAJOR != 2
#error "lcn_int8_dnnl26.c is for oneDNN 2.x"
#endif

struct lcn_i8plan {
    lcn_net net;      /* layers with fp32 weight copies (owned) */
    float in_scale;
    float *out_scale; /* per layer (owned) */
    int cap_scale;
    int threads;
    int refs;
    int finalized;
    dnnl_engine_t eng;
};

typedef struct q8_step {
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[5];
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
} q8_ctx;

struct lcn_i8inst {
    lcn_i8plan *plan;
    dnnl_stream_t strm;
    q8_ctx *ctx;
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

lcn_status lcn_i8plan_add_conv(lcn_i8plan *p, const lcn_layer_desc *d, const float *w,
        size_t nw, const float *b, size_t nb, float out_scale, lcn_error *err) {
    if (!p || !d) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil argument");
    if (p->finalized) return lcn_err_set(err, LCN_ERR_STATE, p->net.n, "add after finalize");
    if (d->kind != LCN_LAYER_CONV)
        return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: only convolutions");
    if (d->act.kind != LCN_ACT_NONE && d->act.kind != LCN_ACT_RELU && d->act.kind != LCN_ACT_HARDSWISH)
        return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: activation %d", d->act.kind);
    if (!(out_scale > 0) || !isfinite(out_scale))
        return lcn_err_set(err, LCN_ERR_INVALID, p->net.n, "int8: output scale %g", out_scale);
    if (p->net.n == p->cap_scale) {
        int nc = p->cap_scale ? 2 * p->cap_scale : 16;
        float *ns = realloc(p->out_scale, sizeof *ns * nc);
        if (!ns) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
        p->out_scale = ns, p->cap_scale = nc;
    }
    const float *ws[4] = {w, b, NULL, NULL};
    size_t ns[4] = {nw, nb, 0, 0};
    lcn_status rc = lcn_net_add(&p->net, d, ws, ns, err);
    if (rc != LCN_OK) return rc;
    p->out_scale[p->net.n - 1] = out_scale;
    return LCN_OK;
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
    for (int i = 0; i < c->nsteps; i++)
        if (c->steps[i].prim) dnnl_primitive_destroy(c->steps[i].prim);
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

/* Builds the context for batch n; impls (n == 1 at finalize) receives the
 * implementation names. */
static lcn_status q8_build(lcn_i8plan *p, dnnl_stream_t strm, int n, q8_ctx **out, int record,
        lcn_error *err) {
    lcn_status rc = LCN_OK;
    q8_ctx *c = calloc(1, sizeof *c);
    float *scales = NULL, *bq = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_memory_t wplain = NULL;
    size_t scratch_max = 0;
    dnnl_primitive_desc_t *pds = NULL;
    if (!c) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    c->n = n;
    c->steps = calloc((size_t)p->net.n + 2, sizeof *c->steps);
    if (!c->steps) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory"); goto done; }
    pds = calloc((size_t)p->net.n + 2, sizeof *pds);
    if (!pds) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory"); goto done; }

    /* user memories (handles set per run) */
    const lcn_layer *last = &p->net.layers[p->net.n - 1];
    dnnl_memory_desc_t uin, uout, act;
    dnnl_dims_t din = {n, p->net.in_c, p->net.in_h, p->net.in_w};
    dnnl_dims_t dout = {n, last->oc, last->oh, last->ow};
    Q8CHK(dnnl_memory_desc_init_by_tag(&uin, 4, din, dnnl_f32, dnnl_nchw), -1, "md");
    Q8CHK(dnnl_memory_desc_init_by_tag(&uout, 4, dout, dnnl_f32, dnnl_nchw), -1, "md");
    Q8CHK(dnnl_memory_create(&c->user_in, &uin, p->eng, DNNL_MEMORY_NONE), -1, "memory_create");
    Q8CHK(dnnl_memory_create(&c->user_out, &uout, p->eng, DNNL_MEMORY_NONE), -1, "memory_create");

    /* quantize */
    dnnl_memory_t cur;
    Q8CHK(dnnl_memory_desc_init_by_tag(&act, 4, din, dnnl_s8, dnnl_nhwc), -1, "md");
    Q8CHK(dnnl_memory_create(&cur, &act, p->eng, DNNL_MEMORY_ALLOCATE), -1, "memory_create");
    if (!q8_push_mem(c, cur)) { dnnl_memory_destroy(cur); rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
    Q8CHK(dnnl_primitive_attr_create(&attr), -1, "attr");
    Q8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), -1, "attr");
    Q8CHK(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &p->in_scale), -1, "attr");
    Q8CHK(dnnl_reorder_primitive_desc_create(&pd, &uin, p->eng, &act, p->eng, attr), -1,
            "quantize reorder");
    dnnl_primitive_attr_destroy(attr), attr = NULL;
    q8_step *st = &c->steps[c->nsteps];
    st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_FROM, c->user_in};
    st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_TO, cur};
    pds[c->nsteps++] = pd, pd = NULL;

    float s_x = p->in_scale;
    for (int i = 0; i < p->net.n; i++) {
        const lcn_layer *L = &p->net.layers[i];
        const lcn_layer_desc *d = &L->d;
        int g = d->groups, oc = L->oc, icg = L->ic / g, ocg = oc / g;
        dnnl_memory_desc_t smd, wmd, bmd, dmd;
        dnnl_dims_t sd = {n, L->ic, L->ih, L->iw}, dd = {n, oc, L->oh, L->ow};
        dnnl_dims_t wd5 = {g, ocg, icg, d->kh, d->kw}, wd4 = {oc, L->ic, d->kh, d->kw}, bd = {oc};
        int grouped = g > 1;
        Q8CHK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_s8, dnnl_nhwc), i, "md");
        Q8CHK(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_s8, dnnl_nhwc), i, "md");
        Q8CHK(dnnl_memory_desc_init_by_tag(&wmd, grouped ? 5 : 4, grouped ? wd5 : wd4, dnnl_s8,
                      dnnl_format_tag_any), i, "md");
        Q8CHK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x), i, "md");
        dnnl_dims_t strides = {d->stride_h, d->stride_w}, pl = {d->pad_t, d->pad_l},
                    pr = {d->pad_b, d->pad_r};
        dnnl_convolution_desc_t cd;
        Q8CHK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                      dnnl_convolution_direct, &smd, &wmd, &bmd, &dmd, strides, pl, pr),
                i, "convolution desc");
        /* per-channel weight scales */
        const float *w = L->w[0];
        size_t per = (size_t)icg * d->kh * d->kw;
        free(scales);
        scales = malloc(sizeof *scales * 2 * (size_t)oc);
        free(bq);
        bq = calloc((size_t)oc, sizeof *bq);
        if (!scales || !bq) { rc = lcn_err_set(err, LCN_ERR_NOMEM, i, "oom"); goto done; }
        float *ws = scales, *os = scales + oc;
        float s_y = p->out_scale[i];
        int fold = d->act.kind == LCN_ACT_NONE;
        for (int o = 0; o < oc; o++) {
            float m = 0.f;
            for (size_t k = 0; k < per; k++) m = fmaxf(m, fabsf(w[o * per + k]));
            ws[o] = m > 0.f ? 127.f / m : 1.f;
            os[o] = (fold ? s_y : 1.f) / (s_x * ws[o]);
            if (L->w[1]) bq[o] = L->w[1][o] * s_x * ws[o];
        }
        Q8CHK(dnnl_primitive_attr_create(&attr), i, "attr");
        Q8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), i, "attr");
        Q8CHK(dnnl_primitive_attr_set_output_scales(attr, oc, 1 << 1, os), i, "output scales");
        if (!fold) {
            Q8CHK(dnnl_post_ops_create(&po), i, "post_ops");
            dnnl_alg_kind_t alg = d->act.kind == LCN_ACT_RELU ? dnnl_eltwise_relu : dnnl_eltwise_hardswish;
            Q8CHK(dnnl_post_ops_append_eltwise(po, s_y, alg, 0.f, 0.f), i, "post_ops");
            Q8CHK(dnnl_primitive_attr_set_post_ops(attr, po), i, "post_ops");
            dnnl_post_ops_destroy(po), po = NULL;
        }
        Q8CHK(dnnl_primitive_desc_create(&pd, &cd, attr, p->eng, NULL), i,
                "convolution primitive_desc_create");
        dnnl_primitive_attr_destroy(attr), attr = NULL;
        /* weights: fp32 plain -> s8 in the kernel's layout, per-channel scales */
        dnnl_memory_desc_t wpl;
        Q8CHK(dnnl_memory_desc_init_by_tag(&wpl, grouped ? 5 : 4, grouped ? wd5 : wd4, dnnl_f32,
                      grouped ? dnnl_goihw : dnnl_oihw), i, "md");
        Q8CHK(dnnl_memory_create(&wplain, &wpl, p->eng, (void *)w), i, "memory_create");
        const dnnl_memory_desc_t *qw = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        dnnl_memory_t wm;
        Q8CHK(dnnl_memory_create(&wm, qw, p->eng, DNNL_MEMORY_ALLOCATE), i, "memory_create");
        if (!q8_push_mem(c, wm)) { dnnl_memory_destroy(wm); rc = lcn_err_set(err, LCN_ERR_NOMEM, i, "oom"); goto done; }
        Q8CHK(q8_reorder_now(p->eng, strm, wplain, wm, oc, grouped ? 3 : 1, ws), i, "weights reorder");
        dnnl_memory_destroy(wplain), wplain = NULL;
        dnnl_memory_t bm;
        Q8CHK(dnnl_memory_create(&bm, &bmd, p->eng, DNNL_MEMORY_ALLOCATE), i, "memory_create");
        if (!q8_push_mem(c, bm)) { dnnl_memory_destroy(bm); rc = lcn_err_set(err, LCN_ERR_NOMEM, i, "oom"); goto done; }
        void *bh;
        dnnl_memory_get_data_handle(bm, &bh);
        memcpy(bh, bq, sizeof *bq * oc);
        dnnl_memory_t dst;
        Q8CHK(dnnl_memory_create(&dst, &dmd, p->eng, DNNL_MEMORY_ALLOCATE), i, "memory_create");
        if (!q8_push_mem(c, dst)) { dnnl_memory_destroy(dst); rc = lcn_err_set(err, LCN_ERR_NOMEM, i, "oom"); goto done; }
        st = &c->steps[c->nsteps];
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, cur};
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, wm};
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bm};
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
        if (record) {
            const char *impl = NULL;
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
            snprintf(p->net.layers[i].impl, sizeof p->net.layers[i].impl, "%s", impl ? impl : "");
        }
        pds[c->nsteps++] = pd, pd = NULL;
        cur = dst;
        s_x = s_y;
    }
    /* dequantize */
    {
        float inv = 1.f / s_x;
        Q8CHK(dnnl_primitive_attr_create(&attr), -1, "attr");
        Q8CHK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), -1, "attr");
        Q8CHK(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &inv), -1, "attr");
        const dnnl_memory_desc_t *cmd;
        dnnl_memory_get_memory_desc(cur, &cmd);
        Q8CHK(dnnl_reorder_primitive_desc_create(&pd, cmd, p->eng, &uout, p->eng, attr), -1,
                "dequantize reorder");
        dnnl_primitive_attr_destroy(attr), attr = NULL;
        st = &c->steps[c->nsteps];
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_FROM, cur};
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_TO, c->user_out};
        pds[c->nsteps++] = pd, pd = NULL;
    }
    /* one scratchpad shared by the steps (they run one after the other) */
    for (int i = 0; i < c->nsteps; i++) {
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pds[i], dnnl_query_scratchpad_md, 0);
        size_t sz = smd ? dnnl_memory_desc_get_size(smd) : 0;
        if (sz > scratch_max) scratch_max = sz;
    }
    if (scratch_max) {
        c->scratch = lcn_aligned_alloc(scratch_max);
        if (!c->scratch) { rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
    }
    for (int i = 0; i < c->nsteps; i++) {
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pds[i], dnnl_query_scratchpad_md, 0);
        size_t sz = smd ? dnnl_memory_desc_get_size(smd) : 0;
        if (sz) {
            dnnl_memory_t sm;
            Q8CHK(dnnl_memory_create(&sm, smd, p->eng, c->scratch), -1, "memory_create");
            if (!q8_push_mem(c, sm)) { dnnl_memory_destroy(sm); rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "oom"); goto done; }
            c->steps[i].args[c->steps[i].nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
        }
        Q8CHK(dnnl_primitive_create(&c->steps[i].prim, pds[i]), i - 1, "primitive_create");
    }
done:
    if (pds) {
        for (int i = 0; i < p->net.n + 2; i++)
            if (pds[i]) dnnl_primitive_desc_destroy(pds[i]);
        free(pds);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (po) dnnl_post_ops_destroy(po);
    if (wplain) dnnl_memory_destroy(wplain);
    free(scales);
    free(bq);
    if (rc != LCN_OK) {
        q8_ctx_free(c);
        return rc;
    }
    *out = c;
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
    for (int i = 0; i < x->nsteps; i++) {
        dnnl_status_t st = dnnl_primitive_execute(x->steps[i].prim, s->strm, x->steps[i].nargs,
                x->steps[i].args);
        if (st != dnnl_success) return q8_dn(err, st, i - 1, "execute");
    }
    dnnl_status_t st = dnnl_stream_wait(s->strm);
    if (st != dnnl_success) return q8_dn(err, st, -1, "stream_wait");
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
