/*
 * lcn_dnnl26.c: the oneDNN 2.x backend (op descriptors +
 * dnnl_primitive_desc_create / dnnl_primitive_desc_iterator). Every call
 * that is specific to the oneDNN 2.x C API lives in this file; a 3.x backend
 * would be a sibling file implementing the same lcn.h functions.
 *
 * Data flow for one batch size ("batch context"):
 *   - activations ping-pong between two slots A and B (the input is staged
 *     into B, converted to NHWC on the way in when the first primitive wants
 *     it); SE temporaries live in slot TMP; one scratchpad slot is shared by
 *     all steps since they run one after the other;
 *   - every primitive is chosen with format_tag_any and the implementation
 *     iterator (prefer an implementation that takes the current layout, and
 *     jit_dw for depthwise); a reorder step is inserted only when needed;
 *   - weights were reordered once by lcn_plan_finalize; an instance shares
 *     them unless a batch size wants another layout (then it keeps a copy);
 *   - act/scale layers following a conv or FC become eltwise post-ops;
 *   - three fusions are decided at plan build by timing, each kept only
 *     where it wins (choices remembered per process, keyed by shapes, so
 *     that compiling a network twice gives the same plan): a depthwise conv
 *     + the 1x1 conv after it as one lcn_fp32_dwpw.c kernel; the first conv
 *     as an lcn_fp32_stem.c kernel reading the NCHW input (no staging); a
 *     1x1 conv + the depthwise conv after it as a oneDNN dw post-op.
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "oneapi/dnnl/dnnl.h"
#include "oneapi/dnnl/dnnl_debug.h"

#include "lcn_internal.h"

#if DNNL_VERSION_MAJOR != 2
#error "lcn_dnnl26.c is the oneDNN 2.x backend"
#endif

typedef struct lcn_wt {
    dnnl_memory_desc_t md;
    void *data; /* owned by the plan, LCN_ALIGN-aligned */
    int set;
} lcn_wt;

struct lcn_plan {
    lcn_net net;
    int threads;
    int refs; /* creator + instances; atomic */
    int finalized;
    dnnl_engine_t eng;
    lcn_wt *wts; /* 4 per layer: w, b, w2, b2 */
    /* depthwise fusion decided by the plan build: dw_of[i] = j when the
     * depthwise conv j runs as a post-op of the 1x1 conv i, dw_in[j] = i;
     * -1 otherwise */
    int *dw_of, *dw_in;
    /* kern[i]: depthwise layer i and the 1x1 layer i+1 run as one
     * lcn_fp32_dwpw.c kernel (chosen by timing); NULL otherwise */
    lcn_dwpw **kern;
    /* layer 0 as an lcn_fp32_stem.c kernel reading the NCHW input (chosen
     * by timing), or NULL */
    lcn_stem *stem;
    /* pair_us[i]: plan-time time of depthwise layer i + 1x1 layer i+1 as
     * decided (block kernel or oneDNN pair), 0 when not timed */
    float *pair_us;
    /* spare[i]: the block kernel of a pair that runs as oneDNN primitives,
     * kept for decide_chains (the plain weights are gone by then) */
    lcn_dwpw **spare;
    /* chain[i]: the pairs from layer i on run as one lcn_chain (chosen by
     * timing against pair_us); chain_of[j] = i for every layer j in it, -1
     * otherwise */
    lcn_chain **chain;
    int *chain_of;
    /* fc[i]: FC or 1x1 layer i runs as an lcn_fc32.c kernel (chosen by
     * timing), or NULL */
    lcn_fc32 **fc;
    /* dw[i]: depthwise layer i runs as an lcn_dw32.c kernel (chosen by
     * timing), or NULL */
    lcn_dw32 **dw;
    /* se[i]: SE layer i runs as one lcn_se32 step, or NULL */
    lcn_se32 **se;
    /* split_g: a global average pool after which every layer works on one
     * value per channel (1x1 conv, FC, softmax, ...): a batch of n > 1 then
     * runs the layers up to it image by image (activations stay in cache)
     * and only the rest as a batch (the head's weights are read once for
     * the n images). -1: batches run whole. */
    int split_g;
};

/* Activation slots; SLOT_IN holds the input (copied in, or transposed to
 * NHWC), or its memories view the caller's input during a run (in_direct). */
enum { SLOT_A, SLOT_B, SLOT_TMP, SLOT_SCRATCH, SLOT_IN, NSLOTS };
enum { IO_COPY, IO_NHWC, IO_DIRECT /* the first step reads the caller's input */ };

typedef struct lcn_step {
    dnnl_primitive_t prim;   /* NULL for a kern step */
    const lcn_dwpw *kern;    /* fused depthwise + 1x1 kernel, or NULL */
    const lcn_stem *stem;    /* first-layer kernel reading the input, or NULL */
    const lcn_chain *chain;  /* chain of block kernels, or NULL */
    const lcn_fc32 *fc;      /* FC / 1x1 kernel over rows pixels, or NULL */
    lcn_pf pf[LCN_PF_MAX];   /* fc step: later steps' weights it prefetches (link_prefetch) */
    int npf;
    const lcn_dw32 *dw;      /* depthwise kernel (scratch: st->scratch), or NULL */
    const lcn_se32 *se;      /* SE kernel on rows images of hw pixels, in place, or NULL */
    int se_blk;              /* se step: the images are nChw8c (else NHWC) */
    int fc_blk;              /* fc step: in and out nChw8c, images of hw pixels (else dense rows) */
    int rows, hw;
    void *scratch;           /* chain step: its scratch (in the context's owned list) */
    int src_slot, dst_slot;  /* kern step: activations */
    size_t src_off, dst_off;
    int layer;
    int nthr; /* OpenMP threads it was created with (and must run with) */
    int nargs;
    dnnl_exec_arg_t args[8];
    char what[48]; /* what runs: "tag=impl" of the primitive or the kernel's name */
    double prof_s; /* seconds spent, summed over profiled runs */
} lcn_step;

typedef struct lcn_bind {
    dnnl_memory_t m;
    int slot;
    size_t off;
} lcn_bind;

typedef struct lcn_bctx {
    int n;
    lcn_step *steps;
    int nsteps, capsteps;
    dnnl_memory_t *mems; /* every memory object (destroyed with the ctx) */
    int nmems, capmems;
    lcn_bind *binds; /* memories whose data live in a slot */
    int nbinds, capbinds;
    void **owned; /* weight copies in a layout the plan does not have */
    int nowned, capowned;
    size_t slot_size[NSLOTS];
    void *slot[NSLOTS];
    int in_mode, out_mode;
    int in_direct; /* IO_COPY: the steps read the caller's input in place (no step writes SLOT_IN) */
    size_t in_elems, out_elems; /* per batch */
    int in_c, in_hw, out_c, out_hw;
    int out_slot;
    size_t out_off;
    int first;        /* first layer built (> 0: the head of a split batch) */
    int body_steps;   /* full batch-1 context of a split plan: steps up to the pool */
    int gap_slot;     /* ... and where the pool's C outputs are (contiguous) */
    size_t gap_off;
    int gap_ok;
    float *stage;     /* head context: the n pooled vectors, its input */
    double *body_prof; /* head context: profiled seconds of the body steps (per batch run) */
    int nbody;         /* ... and their number */
    long prof_runs;   /* profiled runs of this batch size */
    double prof_io_s; /* seconds in the input and output copies */
    struct lcn_bctx *next;
} lcn_bctx;

struct lcn_inst {
    lcn_plan *plan;
    dnnl_stream_t strm;
    lcn_bctx *ctxs;
    int profile; /* time every step of every run (lcn_inst_set_profile) */
};

/* ------------------------------------------------------------------ */
/* version, ISA */

lcn_status lcn_init(lcn_error *err) {
    const dnnl_version_t *v = dnnl_version();
    if (v->major != DNNL_VERSION_MAJOR || v->minor != DNNL_VERSION_MINOR)
        return lcn_err_set(err, LCN_ERR_VERSION, -1,
                "oneDNN %d.%d loaded, built for %d.%d", v->major, v->minor,
                DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR);
    if (v->cpu_runtime != DNNL_RUNTIME_OMP)
        return lcn_err_set(err, LCN_ERR_VERSION, -1,
                "oneDNN cpu runtime %u is not OpenMP", v->cpu_runtime);
    return LCN_OK;
}

static char lcn_version_buf[64];
static pthread_once_t lcn_version_once = PTHREAD_ONCE_INIT;

static void lcn_version_init(void) {
    const dnnl_version_t *v = dnnl_version();
    int n = snprintf(lcn_version_buf, sizeof lcn_version_buf, "%d.%d.%d", v->major, v->minor,
            v->patch);
    if (v->hash && *v->hash && strcmp(v->hash, "N/A") != 0)
        snprintf(lcn_version_buf + n, sizeof lcn_version_buf - n, " (%.12s)", v->hash);
}

lcn_status lcn_version(const char **out) {
    if (!out) return LCN_ERR_INVALID;
    pthread_once(&lcn_version_once, lcn_version_init);
    *out = lcn_version_buf;
    return LCN_OK;
}

lcn_status lcn_isa(const char **out) {
    if (!out) return LCN_ERR_INVALID;
    switch (dnnl_get_effective_cpu_isa()) {
        case dnnl_cpu_isa_sse41: *out = "sse41"; break;
        case dnnl_cpu_isa_avx: *out = "avx"; break;
        case dnnl_cpu_isa_avx2: *out = "avx2"; break;
        case dnnl_cpu_isa_avx2_vnni: *out = "avx2_vnni"; break;
        case dnnl_cpu_isa_avx512_mic: *out = "avx512_mic"; break;
        case dnnl_cpu_isa_avx512_mic_4ops: *out = "avx512_mic_4ops"; break;
        case dnnl_cpu_isa_avx512_core: *out = "avx512_core"; break;
        case dnnl_cpu_isa_avx512_core_vnni: *out = "avx512_core_vnni"; break;
        case dnnl_cpu_isa_avx512_core_bf16: *out = "avx512_core_bf16"; break;
        case dnnl_cpu_isa_avx512_core_amx: *out = "avx512_core_amx"; break;
        default: *out = "any"; break;
    }
    return LCN_OK;
}

/* ------------------------------------------------------------------ */
/* small helpers */

static lcn_status dn_err(lcn_error *err, dnnl_status_t s, int layer, const char *what) {
    lcn_err_set(err, LCN_ERR_DNNL, layer, "%s", what);
    if (err) {
        err->dnnl_status = (int)s;
        snprintf(err->status_name, sizeof err->status_name, "%s", dnnl_status2str(s));
    }
    return LCN_ERR_DNNL;
}

static int grow(void **arr, int *cap, int n, size_t elem) {
    if (n < *cap) return 1;
    int nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, elem * nc);
    if (!p) return 0;
    *arr = p, *cap = nc;
    return 1;
}

static int md_is_tag(const dnnl_memory_desc_t *md, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t t;
    if (dnnl_memory_desc_init_by_tag(&t, md->ndims, md->dims, dnnl_f32, tag) != dnnl_success)
        return 0;
    return dnnl_memory_desc_equal(&t, md);
}

/* Elementwise ops as (alg, alpha, beta, scale): post-ops, or standalone. */
typedef struct {
    int n;
    struct {
        dnnl_alg_kind_t alg;
        float a, b, scale;
    } op[16];
} lcn_ops;

/* A depthwise conv fused into a 1x1 conv as a post-op: k x k, stride s,
 * symmetric padding k/2, with bias, followed by its own post-ops. */
typedef struct {
    int k, s;
    int wid; /* weights wid, bias wid+1 */
    const lcn_ops *ops;
} lcn_dwpo;

static int ops_push(lcn_ops *o, dnnl_alg_kind_t alg, float a, float b) {
    if (o->n == 16) return 0;
    o->op[o->n].alg = alg, o->op[o->n].a = a, o->op[o->n].b = b, o->op[o->n].scale = 1.f;
    o->n++;
    return 1;
}

static int ops_act(lcn_ops *o, const lcn_act *a) {
    switch (a->kind) {
        case LCN_ACT_RELU: return ops_push(o, dnnl_eltwise_relu, 0.f, 0.f);
        /* 2.6: hardswish is x*relu6(x+3)/6 and ignores alpha/beta */
        case LCN_ACT_HARDSWISH: return ops_push(o, dnnl_eltwise_hardswish, 0.f, 0.f);
        case LCN_ACT_HARDSIGMOID: /* 2.6 has no hardsigmoid: linear + clip */
            return ops_push(o, dnnl_eltwise_linear, a->alpha, a->beta) &&
                   ops_push(o, dnnl_eltwise_clip, 0.f, 1.f);
        case LCN_ACT_SIGMOID: return ops_push(o, dnnl_eltwise_logistic, 0.f, 0.f);
        default: return 1;
    }
}

/* Appends an ACTIVATION or SCALE layer as post-ops; a scale folds into the
 * previous op's output scale. Returns 0 when the chain would not be safe:
 * oneDNN 2.6's JIT post-op injectors compute wrong results when one eltwise
 * algorithm appears twice in one chain (measured: linear, clip, and relu,
 * whose second instance runs with the first one's scale), so such layers
 * stay standalone. */
static int ops_fuse(lcn_ops *o, const lcn_layer_desc *d) {
    if (d->kind == LCN_LAYER_SCALE) {
        if (o->n) {
            o->op[o->n - 1].scale *= d->factor;
            return 1;
        }
        return ops_push(o, dnnl_eltwise_linear, d->factor, 0.f);
    }
    if (d->kind != LCN_LAYER_ACTIVATION || !ops_act(o, &d->act)) return 0;
    for (int i = 0; i < o->n; i++)
        for (int j = i + 1; j < o->n; j++)
            if (o->op[i].alg == o->op[j].alg) return 0;
    return 1;
}

/* Post-ops of layer i: its own act plus the act/scale layers fused into it. */
static int ops_layer(lcn_ops *o, const lcn_net *net, int i) {
    if (!ops_act(o, &net->layers[i].d.act)) return 0;
    for (int j = i + 1; j < net->n && net->layers[j].fused_into == i; j++)
        if (!ops_fuse(o, &net->layers[j].d)) return 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* builder: creates the steps of one batch context (or, for the plan, only
 * the primitive descriptors, to pick layouts and reorder weights) */

typedef struct {
    int n, c, h, w;
    dnnl_memory_desc_t md;
    int virt; /* the user input, layout not chosen yet (NCHW or NHWC) */
    int slot;
    size_t off;
} lcn_tensor;

typedef struct {
    lcn_plan *p;
    lcn_bctx *c;
    dnnl_stream_t strm;
    int for_plan;
    int layer;
    size_t tmp_off;
    lcn_error *err;
    int nthr; /* OpenMP threads set for the primitives being created */
    int first; /* first layer to build (0: the whole network) */
} lcn_builder;

/* Small memory-bound ops (pooling, binary, eltwise, softmax on < 1 MiB) run
 * faster on one thread than paying for an OpenMP fork/join (measured: SE
 * pool 2.2 vs 6.1 us, SE mul 3.0 vs 9 us at 1 vs 2 threads). */
#define LCN_SMALL_BYTES (1u << 20)
/* The input/output layout copies are split among threads above this size
 * (3x224x224 NCHW->NHWC: 39 us on 1 thread, 20 us on 2). */
#define LCN_COPY_PAR_BYTES (128u << 10)

static void set_threads(lcn_builder *B, int n) {
    if (n != B->nthr) {
        omp_set_num_threads(n);
        B->nthr = n;
    }
}

static void set_threads_for(lcn_builder *B, const dnnl_memory_desc_t *md) {
    set_threads(B, dnnl_memory_desc_get_size(md) < LCN_SMALL_BYTES ? 1 : B->p->threads);
}

#define DN(call, what)                                                   \
    do {                                                                 \
        dnnl_status_t s_ = (call);                                       \
        if (s_ != dnnl_success) return dn_err(B->err, s_, B->layer, what); \
    } while (0)
#define TRY(call)                        \
    do {                                 \
        lcn_status r_ = (call);          \
        if (r_ != LCN_OK) return r_;     \
    } while (0)
#define NOMEM() lcn_err_set(B->err, LCN_ERR_NOMEM, B->layer, "out of memory")

static lcn_status add_mem(lcn_builder *B, dnnl_memory_t m) {
    lcn_bctx *c = B->c;
    if (!grow((void **)&c->mems, &c->capmems, c->nmems, sizeof *c->mems)) {
        dnnl_memory_destroy(m);
        return NOMEM();
    }
    c->mems[c->nmems++] = m;
    return LCN_OK;
}

/* A memory object viewing slot+off (data handle set once slots exist). */
static lcn_status mem_view(lcn_builder *B, const dnnl_memory_desc_t *md, int slot, size_t off,
        dnnl_memory_t *out) {
    lcn_bctx *c = B->c;
    size_t end = off + dnnl_memory_desc_get_size(md);
    if (end > c->slot_size[slot]) c->slot_size[slot] = end;
    DN(dnnl_memory_create(out, md, B->p->eng, DNNL_MEMORY_NONE), "memory_create");
    TRY(add_mem(B, *out));
    if (!grow((void **)&c->binds, &c->capbinds, c->nbinds, sizeof *c->binds)) return NOMEM();
    c->binds[c->nbinds++] = (lcn_bind){*out, slot, off};
    return LCN_OK;
}

static lcn_status tensor_mem(lcn_builder *B, const lcn_tensor *t, dnnl_memory_t *out) {
    return mem_view(B, &t->md, t->slot, t->off, out);
}

static size_t round_up(size_t x) { return (x + LCN_ALIGN - 1) / LCN_ALIGN * LCN_ALIGN; }

/* Where the result of an op reading t goes. */
static void next_place(lcn_builder *B, const lcn_tensor *t, const dnnl_memory_desc_t *md,
        lcn_tensor *o) {
    o->md = *md;
    o->virt = 0;
    if (t->slot == SLOT_TMP) {
        o->slot = SLOT_TMP;
        o->off = B->tmp_off;
        B->tmp_off += round_up(dnnl_memory_desc_get_size(md));
    } else {
        o->slot = t->slot == SLOT_A ? SLOT_B : SLOT_A;
        o->off = 0;
    }
}

/* Adds a step for pd (takes ownership of pd), appending the scratchpad arg. */
static lcn_status add_step(lcn_builder *B, dnnl_primitive_desc_t pd, const char *tag, int nargs,
        const dnnl_exec_arg_t *args) {
    lcn_status rc = LCN_OK;
    const char *impl = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    if (B->for_plan) {
        char *s = B->p->net.layers[B->layer].impl;
        size_t len = strlen(s), cap = sizeof B->p->net.layers[B->layer].impl;
        snprintf(s + len, cap - len, "%s%s%s%s", len ? " " : "", tag ? tag : "", tag ? "=" : "",
                impl);
        dnnl_primitive_desc_destroy(pd);
        return LCN_OK;
    }
    lcn_bctx *c = B->c;
    if (!grow((void **)&c->steps, &c->capsteps, c->nsteps, sizeof *c->steps)) {
        dnnl_primitive_desc_destroy(pd);
        return NOMEM();
    }
    lcn_step *st = &c->steps[c->nsteps];
    memset(st, 0, sizeof *st);
    st->layer = B->layer;
    st->nthr = B->nthr;
    snprintf(st->what, sizeof st->what, "%s%s%s", tag ? tag : "", tag ? "=" : "", impl);
    for (int i = 0; i < nargs; i++) st->args[st->nargs++] = args[i];
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd && dnnl_memory_desc_get_size(smd) > 0) {
        dnnl_memory_t sm;
        rc = mem_view(B, smd, SLOT_SCRATCH, 0, &sm);
        if (rc != LCN_OK) goto out;
        st->args[st->nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sm};
    }
    dnnl_status_t s = dnnl_primitive_create(&st->prim, pd);
    if (s != dnnl_success) {
        rc = dn_err(B->err, s, B->layer, "primitive_create");
        goto out;
    }
    c->nsteps++;
out:
    dnnl_primitive_desc_destroy(pd);
    return rc;
}

static dnnl_status_t append_eltwise(dnnl_post_ops_t po, const lcn_ops *ops) {
    dnnl_status_t s = dnnl_success;
    for (int i = 0; ops && i < ops->n && s == dnnl_success; i++)
        s = dnnl_post_ops_append_eltwise(po, ops->op[i].scale, ops->op[i].alg, ops->op[i].a,
                ops->op[i].b);
    return s;
}

/* Attributes: user scratchpad, post-ops ops, then the depthwise conv dw
 * (if any) followed by its own post-ops. */
static lcn_status new_attr(lcn_builder *B, const lcn_ops *ops, const lcn_dwpo *dw,
        dnnl_primitive_attr_t *out) {
    dnnl_primitive_attr_t a;
    DN(dnnl_primitive_attr_create(&a), "primitive_attr_create");
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user);
    if (s == dnnl_success && ((ops && ops->n) || dw)) {
        dnnl_post_ops_t po;
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success) {
            s = append_eltwise(po, ops);
            if (s == dnnl_success && dw) {
                if (dw->k == 3 && dw->s == 1)
                    s = dnnl_post_ops_append_dw_k3s1p1(po, dnnl_f32, dnnl_f32, dnnl_f32, 0, 0, NULL);
                else if (dw->k == 3 && dw->s == 2)
                    s = dnnl_post_ops_append_dw_k3s2p1(po, dnnl_f32, dnnl_f32, dnnl_f32, 0, 0, NULL);
                else
                    s = dnnl_post_ops_append_dw(po, dnnl_f32, dnnl_f32, dnnl_f32, dw->k, dw->s,
                            dw->k / 2, 0, 0, NULL);
                if (s == dnnl_success) s = append_eltwise(po, dw->ops);
            }
            if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(a, po);
            dnnl_post_ops_destroy(po);
        }
    }
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(a);
        return dn_err(B->err, s, B->layer, "primitive attributes");
    }
    *out = a;
    return LCN_OK;
}

/* Does an implementation wanting src md s avoid a reorder of t? */
static int src_fits(const lcn_tensor *t, const dnnl_memory_desc_t *s) {
    if (!s) return 0;
    if (t->virt) return md_is_tag(s, dnnl_abcd) || md_is_tag(s, dnnl_acdb);
    return dnnl_memory_desc_equal(&t->md, s);
}

static int lcn_fail_layer = -1;

/* Test switches: each mode variable is read atomically by plan builds. */
static lcn_status set_mode(int *var, int mode, int lo, int hi) {
    if (mode < lo || mode > hi) return LCN_ERR_INVALID;
    __atomic_store_n(var, mode, __ATOMIC_SEQ_CST);
    return LCN_OK;
}

/* -1: fuse a depthwise conv into the preceding 1x1 conv when timing says
 * so; 0: never; 1: whenever oneDNN implements it (tests). */
static int lcn_dw_fusion_mode = -1;

lcn_status lcn_test_dw_fusion(int mode) { return set_mode(&lcn_dw_fusion_mode, mode, -1, 1); }

/* -1: run a depthwise + 1x1 pair as one lcn_fp32_dwpw.c kernel when timing
 * says so; 0: never; 1: whenever the kernel supports the pair (tests). */
static int lcn_dwpw_mode = -1;

lcn_status lcn_test_dwpw(int mode) { return set_mode(&lcn_dwpw_mode, mode, -1, 1); }

/* 1: batches of a plan with split_g run image by image up to the pool
 * (default); 0: as whole batches (tests, comparisons). */
static int lcn_split_mode = 1;

lcn_status lcn_test_split(int mode) { return set_mode(&lcn_split_mode, mode, 0, 1); }

/* -1: run runs of block kernels as one lcn_chain when timing says so; 0:
 * never; 1: whenever two or more pairs in a row can (tests). */
static int lcn_chain_mode = -1;

lcn_status lcn_test_chain(int mode) { return set_mode(&lcn_chain_mode, mode, -1, 1); }

/* -1: run the first conv as an lcn_fp32_stem.c kernel when timing says so;
 * 0: never; 1: whenever the kernel supports it (tests). */
static int lcn_stem_mode = -1;

lcn_status lcn_test_stem(int mode) { return set_mode(&lcn_stem_mode, mode, -1, 1); }

lcn_status lcn_test_fail_layer(int layer) {
    __atomic_store_n(&lcn_fail_layer, layer, __ATOMIC_SEQ_CST);
    return LCN_OK;
}

/* Times one execution of pd on zeroed scratch buffers: the best of a few
 * runs, in seconds (a huge value when anything fails). A run slower than
 * 3 x limit ends the timing early (a clear loser; limit 1e30: no limit).
 * Also used by lcn_int8_dnnl26.c (same translation unit). */
static double time_pd_io(dnnl_engine_t eng, dnnl_stream_t strm, const_dnnl_primitive_desc_t pd,
        double limit, int cold);

#if defined(__x86_64__) || defined(__i386__)
/* flush_lines's loop with clflushopt (lines c, c + 64, ... below e). */
__attribute__((target("clflushopt"))) static void flush_opt(const char *c, const char *e) {
    for (; c < e; c += 64) _mm_clflushopt((void *)c);
    _mm_sfence();
}
#endif

/* Flushes [p, p + n) out of every cache level, so that a timed run reads
 * it from memory. A run of a batch-1 plan finds a big layer's weights
 * there, not in L2 (nor in L3, on this VM, from x1.5 up), while its input,
 * just written by the step before, is in L2: "cold" timings flush the
 * weights alone. Evicting L2 by reading a buffer instead (the first way)
 * left the weights in L3 and timed lcn_fc32 and brgconv within 1-6% of each
 * other where in a run lcn_fc32 was faster by 6-35% (x2.0's 1024 -> 1024 at
 * 7x7: 613 vs 652 us apart, ~700 vs 950 in a run; flushed: 689 vs 1049). */
static void flush_lines(const void *p, size_t n) {
    if (!p || !n) return;
#if defined(__x86_64__) || defined(__i386__)
    /* clflushopt where the CPU has it: clflush is ordered line by line and
     * took 1.3-1.5 ms a MiB here (clflushopt: ~90 us) */
    static int opt = -1;
    int o = __atomic_load_n(&opt, __ATOMIC_RELAXED);
    if (o < 0) {
        __builtin_cpu_init();
        o = __builtin_cpu_supports("clflushopt") != 0;
        __atomic_store_n(&opt, o, __ATOMIC_RELAXED);
    }
    const char *c = (const char *)((uintptr_t)p & ~(uintptr_t)63), *e = (const char *)p + n;
    if (o) {
        flush_opt(c, e);
        return;
    }
    for (; c < e; c += 64) _mm_clflush(c);
    _mm_mfence();
#else
    (void)p, (void)n;
#endif
}

static double time_pd_on(dnnl_engine_t eng, dnnl_stream_t strm, const_dnnl_primitive_desc_t pd,
        double limit) {
    return time_pd_io(eng, strm, pd, limit, 0);
}

static double time_pd_io(dnnl_engine_t eng, dnnl_stream_t strm, const_dnnl_primitive_desc_t pd,
        double limit, int cold) {
    static const int io[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
            DNNL_ARG_SCRATCHPAD, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS,
            DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS};
    enum { NIO = sizeof io / sizeof io[0] };
    dnnl_exec_arg_t args[NIO];
    void *bufs[NIO];
    int na = 0;
    void *wbuf = NULL;
    size_t wbytes = 0;
    double best = 1e30;
    dnnl_primitive_t prim = NULL;
    if (dnnl_primitive_create(&prim, pd) != dnnl_success) return best;
    for (int i = 0; i < NIO; i++) {
        const dnnl_memory_desc_t *md =
                dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, io[i]);
        size_t sz = md ? dnnl_memory_desc_get_size(md) : 0;
        if (!sz) continue;
        bufs[na] = lcn_aligned_alloc(sz);
        if (!bufs[na]) goto out;
        memset(bufs[na], 0, sz);
        if (dnnl_memory_create(&args[na].memory, md, eng, bufs[na]) != dnnl_success) {
            free(bufs[na]);
            goto out;
        }
        if (io[i] == DNNL_ARG_WEIGHTS) wbuf = bufs[na], wbytes = sz;
        args[na++].arg = io[i];
    }
    for (int r = 0; r < 7; r++) {
        if (cold && r >= 2) flush_lines(wbuf, wbytes); /* not before the warm-ups */
        double t0 = lcn_now();
        if (dnnl_primitive_execute(prim, strm, na, args) != dnnl_success ||
                dnnl_stream_wait(strm) != dnnl_success) {
            best = 1e30;
            break;
        }
        double dt = lcn_now() - t0;
        if (r >= 2 && dt < best) best = dt; /* two warm-up runs */
        if (r >= 1 && dt > 3 * limit) {
            best = dt;
            break;
        }
    }
out:
    for (int i = 0; i < na; i++) {
        dnnl_memory_destroy(args[i].memory);
        free(bufs[i]);
    }
    dnnl_primitive_destroy(prim);
    return best;
}

static double time_pd(lcn_builder *B, const_dnnl_primitive_desc_t pd) {
    return time_pd_on(B->p->eng, B->strm, pd, 1e30);
}

/* Picks an implementation among those that read t as it is (no reorder),
 * are not reference code and write the same layout as the first of them:
 *   - the first whose name starts with `prefer`, if any;
 *   - else, when *tuned is given (plan build), the fastest when timed
 *     (its name is written to *tuned so that other batch sizes reuse it);
 *   - else the first of them;
 * and when none reads t as it is, the library's first choice. */
static lcn_status pick_pd(lcn_builder *B, const_dnnl_op_desc_t od, const_dnnl_primitive_attr_t attr,
        const lcn_tensor *t, const char *prefer, char *tuned, size_t tuned_cap, const char *what,
        dnnl_primitive_desc_t *out) {
    if (B->layer >= 0 && B->layer == __atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST))
        return dn_err(B->err, dnnl_unimplemented, B->layer, what);
    dnnl_primitive_desc_iterator_t it;
    DN(dnnl_primitive_desc_iterator_create(&it, od, attr, B->p->eng, NULL), what);
    enum { MAXC = 8 };
    dnnl_primitive_desc_t first = NULL, cands[MAXC];
    int n = 0, pref = -1;
    do {
        dnnl_primitive_desc_t c = dnnl_primitive_desc_iterator_fetch(it);
        if (!c) break;
        const char *impl = "";
        dnnl_primitive_desc_query(c, dnnl_query_impl_info_str, 0, &impl);
        int keep = 0;
        if (!first) first = c, keep = 1;
        if (n < MAXC && t && strncmp(impl, "ref", 3) != 0 &&
                src_fits(t, dnnl_primitive_desc_query_md(c, dnnl_query_src_md, 0)) &&
                (n == 0 || dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(c, dnnl_query_dst_md, 0),
                                   dnnl_primitive_desc_query_md(cands[0], dnnl_query_dst_md, 0)))) {
            if (pref < 0 && prefer && !strncmp(impl, prefer, strlen(prefer))) pref = n;
            cands[n++] = c, keep = 1;
        }
        if (!keep) dnnl_primitive_desc_destroy(c);
        if (pref >= 0 || (!prefer && !tuned && n > 0)) break;
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    int pick = -1;
    if (pref >= 0) {
        pick = pref;
    } else if (tuned && n > 1) {
        double best = 1e30;
        pick = 0;
        for (int i = 0; i < n; i++) {
            double dt = time_pd_on(B->p->eng, B->strm, cands[i], best);
            if (dt < best) best = dt, pick = i;
        }
    } else if (n > 0) {
        pick = 0;
    }
    dnnl_primitive_desc_t chosen = pick >= 0 ? cands[pick] : first;
    if (!chosen) return dn_err(B->err, dnnl_unimplemented, B->layer, what);
    for (int i = 0; i < n; i++)
        if (cands[i] != chosen) dnnl_primitive_desc_destroy(cands[i]);
    if (first != chosen) {
        int kept = 0;
        for (int i = 0; i < n; i++) kept |= cands[i] == first;
        if (!kept) dnnl_primitive_desc_destroy(first);
    }
    if (tuned && pick >= 0) {
        const char *impl = "";
        dnnl_primitive_desc_query(chosen, dnnl_query_impl_info_str, 0, &impl);
        snprintf(tuned, tuned_cap, "%s", impl);
    }
    *out = chosen;
    return LCN_OK;
}

/* Makes t have layout want: decides the input layout, or adds a reorder. */
static lcn_status ensure(lcn_builder *B, lcn_tensor *t, const dnnl_memory_desc_t *want) {
    if (t->virt) {
        t->virt = 0;
        if (md_is_tag(want, dnnl_acdb)) {
            B->c->in_mode = IO_NHWC;
            t->md = *want;
            return LCN_OK;
        }
        B->c->in_mode = IO_COPY;
        DN(dnnl_memory_desc_init_by_tag(&t->md, 4, want->dims, dnnl_f32, dnnl_abcd), "input md");
    }
    if (dnnl_memory_desc_equal(&t->md, want)) return LCN_OK;
    dnnl_primitive_attr_t a;
    TRY(new_attr(B, NULL, NULL, &a));
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, &t->md, B->p->eng, want,
            B->p->eng, a);
    dnnl_primitive_attr_destroy(a);
    if (s != dnnl_success) return dn_err(B->err, s, B->layer, "activation reorder");
    lcn_tensor o = *t;
    next_place(B, t, want, &o);
    dnnl_memory_t src, dst;
    lcn_status rc = tensor_mem(B, t, &src);
    if (rc == LCN_OK) rc = tensor_mem(B, &o, &dst);
    if (rc != LCN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
    TRY(add_step(B, pd, "reorder", 2, args));
    *t = o;
    return LCN_OK;
}

/* The user input when its layout was never chosen by a primitive: NCHW. */
static lcn_status concrete(lcn_builder *B, lcn_tensor *t) {
    if (!t->virt) return LCN_OK;
    dnnl_memory_desc_t md;
    dnnl_dims_t d = {t->n, t->c, t->h, t->w};
    DN(dnnl_memory_desc_init_by_tag(&md, 4, d, dnnl_f32, dnnl_abcd), "input md");
    return ensure(B, t, &md);
}

/* Memory for weight tensor wid (plain dims/tag given) in layout want. The
 * plan build copies the caller's plain array (lcn_plan_build: borrowed)
 * into the plan, or reorders it straight into the plan's own; an instance
 * shares the plan's data when the layout matches, else copies. */
static lcn_status bind_weight(lcn_builder *B, int wid, int ndims, const dnnl_dims_t dims,
        dnnl_format_tag_t tag, const dnnl_memory_desc_t *want, dnnl_memory_t *out) {
    lcn_wt *w = &B->p->wts[wid];
    lcn_layer *L = &B->p->net.layers[wid / 4];
    const float *borrowed = NULL; /* the caller's plain array, not ours to keep */
    if (!w->set) {
        if (!B->for_plan || !L->w[wid % 4])
            return lcn_err_set(B->err, LCN_ERR_STATE, B->layer, "weights %d missing", wid % 4);
        DN(dnnl_memory_desc_init_by_tag(&w->md, ndims, dims, dnnl_f32, tag), "weights md");
        if (dnnl_memory_desc_equal(&w->md, want)) {
            size_t bytes = L->nw[wid % 4] * sizeof(float);
            if (!(w->data = lcn_aligned_alloc(bytes))) return NOMEM();
            memcpy(w->data, L->w[wid % 4], bytes);
        } else {
            borrowed = L->w[wid % 4]; /* reordered below into the plan's own */
        }
        L->w[wid % 4] = NULL;
        w->set = 1;
    }
    void *ptr = w->data;
    if (borrowed || !dnnl_memory_desc_equal(&w->md, want)) {
        void *nd = lcn_aligned_alloc(dnnl_memory_desc_get_size(want));
        if (!nd) return NOMEM();
        dnnl_memory_t ms = NULL, md = NULL;
        dnnl_primitive_desc_t pd = NULL;
        dnnl_primitive_t pr = NULL;
        dnnl_status_t s = dnnl_memory_create(&ms, &w->md, B->p->eng, borrowed ? (void *)borrowed : w->data);
        if (s == dnnl_success) s = dnnl_memory_create(&md, want, B->p->eng, nd);
        if (s == dnnl_success)
            s = dnnl_reorder_primitive_desc_create(&pd, &w->md, B->p->eng, want, B->p->eng, NULL);
        if (s == dnnl_success) s = dnnl_primitive_create(&pr, pd);
        if (s == dnnl_success) {
            dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
            s = dnnl_primitive_execute(pr, B->strm, 2, args);
        }
        if (s == dnnl_success) s = dnnl_stream_wait(B->strm);
        if (pr) dnnl_primitive_destroy(pr);
        if (pd) dnnl_primitive_desc_destroy(pd);
        if (md) dnnl_memory_destroy(md);
        if (ms) dnnl_memory_destroy(ms);
        if (s != dnnl_success) {
            free(nd);
            return dn_err(B->err, s, B->layer, "weights reorder");
        }
        if (B->for_plan) {
            free(w->data);
            w->data = nd;
            w->md = *want;
        } else {
            lcn_bctx *c = B->c;
            if (!grow((void **)&c->owned, &c->capowned, c->nowned, sizeof *c->owned)) {
                free(nd);
                return NOMEM();
            }
            c->owned[c->nowned++] = nd;
        }
        ptr = nd;
    }
    DN(dnnl_memory_create(out, want, B->p->eng, ptr), "memory_create");
    return add_mem(B, *out);
}

/* Timed choices (fused kernel or not) are remembered per process, keyed by
 * the layer shapes and thread count: compiling the same network twice then
 * gives the same plan, hence bit-identical results, instead of two plans
 * that timing noise may have made differently. */
typedef struct {
    char key[128];
    int choice;
    float a, b; /* the two times measured, us */
    char name[LCN_TUNED_LEN]; /* or the implementation picked */
    const char *isa; /* lcn_dwpw_isa() when timed: another ISA's timings do not apply */
} lcn_choice;

/* A full table replaces its entries oldest first (lcn_choice_next): the
 * plans compiled last keep their choices however many came before (the
 * test suite alone makes over 512). */
enum { LCN_NCHOICES = 2048 };
static lcn_choice lcn_choices[LCN_NCHOICES];
static int lcn_nchoices, lcn_choice_next;
static pthread_mutex_t lcn_choice_mu = PTHREAD_MUTEX_INITIALIZER;

static int choice_get_name(const char *key, int *choice, float *a, float *b, char *name) {
    int found = 0;
    const char *isa = lcn_dwpw_isa();
    pthread_mutex_lock(&lcn_choice_mu);
    for (int i = 0; i < lcn_nchoices && !found; i++)
        if (!strcmp(lcn_choices[i].key, key) && !strcmp(lcn_choices[i].isa, isa)) {
            *choice = lcn_choices[i].choice, *a = lcn_choices[i].a, *b = lcn_choices[i].b;
            if (name) memcpy(name, lcn_choices[i].name, LCN_TUNED_LEN);
            found = 1;
        }
    pthread_mutex_unlock(&lcn_choice_mu);
    return found;
}

static int choice_get(const char *key, int *choice, float *a, float *b) {
    return choice_get_name(key, choice, a, b, NULL);
}

static void choice_put_name(const char *key, int choice, float a, float b, const char *name) {
    const char *isa = lcn_dwpw_isa();
    pthread_mutex_lock(&lcn_choice_mu);
    int i = 0;
    while (i < lcn_nchoices && strcmp(lcn_choices[i].key, key)) i++;
    if (i == lcn_nchoices) {
        if (lcn_nchoices < LCN_NCHOICES) {
            lcn_nchoices++;
        } else {
            i = lcn_choice_next;
            lcn_choice_next = (lcn_choice_next + 1) % LCN_NCHOICES;
        }
    }
    snprintf(lcn_choices[i].key, sizeof lcn_choices[i].key, "%s", key);
    lcn_choices[i].choice = choice, lcn_choices[i].a = a, lcn_choices[i].b = b;
    lcn_choices[i].isa = isa;
    snprintf(lcn_choices[i].name, sizeof lcn_choices[i].name, "%s", name ? name : "");
    pthread_mutex_unlock(&lcn_choice_mu);
}

static void choice_put(const char *key, int choice, float a, float b) {
    choice_put_name(key, choice, a, b, NULL);
}

lcn_status lcn_choices_count(int *n) {
    if (!n) return LCN_ERR_INVALID;
    pthread_mutex_lock(&lcn_choice_mu);
    *n = lcn_nchoices;
    pthread_mutex_unlock(&lcn_choice_mu);
    return LCN_OK;
}

lcn_status lcn_choice_at(int i, char *key, size_t keycap, int *choice, float *a, float *b,
        char *name, size_t namecap) {
    if (!key || !choice || !a || !b || !name || keycap < sizeof lcn_choices[0].key ||
            namecap < sizeof lcn_choices[0].name)
        return LCN_ERR_INVALID;
    lcn_status rc = LCN_ERR_INVALID;
    pthread_mutex_lock(&lcn_choice_mu);
    if (i >= 0 && i < lcn_nchoices) {
        memcpy(key, lcn_choices[i].key, sizeof lcn_choices[i].key);
        memcpy(name, lcn_choices[i].name, sizeof lcn_choices[i].name);
        *choice = lcn_choices[i].choice, *a = lcn_choices[i].a, *b = lcn_choices[i].b;
        rc = LCN_OK;
    }
    pthread_mutex_unlock(&lcn_choice_mu);
    return rc;
}

lcn_status lcn_choice_put(const char *key, int choice, float a, float b, const char *name) {
    if (!key || !key[0] || strlen(key) >= sizeof lcn_choices[0].key ||
            (name && strlen(name) >= sizeof lcn_choices[0].name))
        return LCN_ERR_INVALID;
    choice_put_name(key, choice, a, b, name);
    return LCN_OK;
}

lcn_status lcn_choices_reset(void) {
    pthread_mutex_lock(&lcn_choice_mu);
    lcn_nchoices = lcn_choice_next = 0;
    pthread_mutex_unlock(&lcn_choice_mu);
    return LCN_OK;
}

/* "kind" + a layer's shape, for choice_get/choice_put. */
static void layer_key(char *key, size_t cap, const char *kind, const lcn_layer *L, int threads) {
    const lcn_layer_desc *d = &L->d;
    size_t n = strlen(key);
    snprintf(key + n, cap - n, "%s%s:%d,%d,%dx%d,%dx%d,%dx%d,s%d,%d,p%d,%d,%d,%d,g%d,a%d,b%d,t%d",
            n ? "|" : "", kind, L->ic, L->oc, L->ih, L->iw, L->oh, L->ow, d->kh, d->kw,
            d->stride_h, d->stride_w, d->pad_t, d->pad_l, d->pad_b, d->pad_r, d->groups,
            d->act.kind, L->nw[1] > 0, threads);
}

typedef struct {
    int oc, kh, kw, sh, sw, pt, pl, pb, pr, g;
    int wid; /* weights wid, bias wid+1 when has_bias */
    int has_bias;
    const lcn_ops *ops;
    const char *tag;
    char *tuned; /* the layer's tuned implementation name, NULL for SE convs */
    const lcn_dwpo *dw; /* depthwise post-op, or NULL */
} lcn_conv;

static int conv_is_depthwise(const lcn_conv *cv, int ic) {
    return cv->g > 1 && cv->g == ic && cv->g == cv->oc;
}

/* The primitive descriptor of convolution cv reading t (see pick_pd), and
 * its output spatial size. */
static lcn_status conv_pd(lcn_builder *B, const lcn_tensor *t, const lcn_conv *cv,
        dnnl_primitive_desc_t *out, int *poh, int *pow_) {
    int N = t->n, ic = t->c, oh = (t->h + cv->pt + cv->pb - cv->kh) / cv->sh + 1,
        ow = (t->w + cv->pl + cv->pr - cv->kw) / cv->sw + 1;
    int grouped = cv->g > 1;
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    dnnl_dims_t sd = {N, ic, t->h, t->w}, dd = {N, cv->oc, oh, ow}, bd = {cv->oc};
    dnnl_dims_t wd4 = {cv->oc, ic, cv->kh, cv->kw};
    dnnl_dims_t wd5 = {cv->g, cv->oc / cv->g, ic / cv->g, cv->kh, cv->kw};
    DN(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, dnnl_format_tag_any), "conv md");
    DN(dnnl_memory_desc_init_by_tag(&wmd, grouped ? 5 : 4, grouped ? wd5 : wd4, dnnl_f32,
               dnnl_format_tag_any), "conv md");
    DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x), "conv md");
    DN(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, dnnl_format_tag_any), "conv md");
    dnnl_dims_t st = {cv->sh, cv->sw}, pl = {cv->pt, cv->pl}, pr = {cv->pb, cv->pr};
    dnnl_convolution_desc_t cd;
    DN(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
               &smd, &wmd, cv->has_bias ? &bmd : NULL, &dmd, st, pl, pr),
            "convolution_forward_desc_init");
    dnnl_primitive_attr_t a;
    TRY(new_attr(B, cv->ops, cv->dw, &a));
    /* depthwise: several kernels keep the layout; the plan build times them
     * (jit_dw beats brdgmm_dw by 20-30% on wide layers, jit_dw:avx2 wins on
     * 8-16 channels), instances reuse the winner by name */
    const char *prefer = NULL;
    char *tuned = NULL;
    char key[128] = "";
    if (conv_is_depthwise(cv, ic) && cv->tuned) {
        if (B->for_plan) {
            /* the same layer compiled before in this process: same pick */
            int ch;
            float ta, tb;
            layer_key(key, sizeof key, "dwimpl", &B->p->net.layers[B->layer], B->p->threads);
            if (!cv->dw && choice_get_name(key, &ch, &ta, &tb, cv->tuned) && cv->tuned[0])
                prefer = cv->tuned;
            else
                tuned = cv->tuned;
        } else {
            prefer = cv->tuned[0] ? cv->tuned : "jit_dw";
        }
    }
    lcn_status rc = pick_pd(B, &cd, a, t, prefer, tuned, tuned ? LCN_TUNED_LEN : 0,
            "convolution primitive_desc_create", out);
    if (rc == LCN_OK && tuned && key[0] && !cv->dw && cv->tuned[0])
        choice_put_name(key, 1, 0, 0, cv->tuned);
    dnnl_primitive_attr_destroy(a);
    if (cv->dw) {
        oh = (oh - 1) / cv->dw->s + 1;
        ow = (ow - 1) / cv->dw->s + 1;
    }
    *poh = oh, *pow_ = ow;
    return rc;
}

static lcn_status build_conv(lcn_builder *B, lcn_tensor *t, const lcn_conv *cv) {
    int N = t->n, ic = t->c, oh, ow;
    int grouped = cv->g > 1;
    dnnl_dims_t bd = {cv->oc};
    dnnl_dims_t wd4 = {cv->oc, ic, cv->kh, cv->kw};
    dnnl_dims_t wd5 = {cv->g, cv->oc / cv->g, ic / cv->g, cv->kh, cv->kw};
    dnnl_primitive_desc_t pd;
    TRY(conv_pd(B, t, cv, &pd, &oh, &ow));
    dnnl_memory_t ms, mw, mb = NULL, md, mdw = NULL, mdb = NULL;
    lcn_tensor o;
    lcn_status rc = ensure(B, t, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0));
    if (rc == LCN_OK)
        rc = bind_weight(B, cv->wid, grouped ? 5 : 4, grouped ? wd5 : wd4,
                grouped ? dnnl_goihw : dnnl_oihw,
                dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &mw);
    if (rc == LCN_OK && cv->has_bias)
        rc = bind_weight(B, cv->wid + 1, 1, bd, dnnl_x,
                dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), &mb);
    if (rc == LCN_OK && cv->dw) {
        dnnl_dims_t dwd = {cv->oc, 1, 1, cv->dw->k, cv->dw->k};
        rc = bind_weight(B, cv->dw->wid, 5, dwd, dnnl_goihw,
                dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md,
                        DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS),
                &mdw);
        if (rc == LCN_OK)
            rc = bind_weight(B, cv->dw->wid + 1, 1, bd, dnnl_x,
                    dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md,
                            DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS),
                    &mdb);
    }
    if (rc == LCN_OK) rc = tensor_mem(B, t, &ms);
    if (rc == LCN_OK) {
        next_place(B, t, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), &o);
        o.n = N, o.c = cv->oc, o.h = oh, o.w = ow;
        rc = tensor_mem(B, &o, &md);
    }
    if (rc != LCN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    dnnl_exec_arg_t args[6] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
    int na = 3;
    if (mb) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mb};
    if (mdw) {
        args[na++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, mdw};
        args[na++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, mdb};
    }
    TRY(add_step(B, pd, cv->tag, na, args));
    *t = o;
    return LCN_OK;
}

/* The depthwise conv that could run as a post-op of layer i (a 1x1 conv,
 * stride 1, no padding, not grouped, spatial size > 1): the next layer not
 * fused into i, when it is a depthwise k x k conv (k odd, 3..7) with bias,
 * stride 1 or 2 in both directions and padding k/2 on every side. -1 if
 * none. */
static int dwpw_candidate(const lcn_net *net, int i);

static int dw_candidate(const lcn_net *net, int i) {
    const lcn_layer *L = &net->layers[i];
    const lcn_layer_desc *d = &L->d;
    if (d->kind != LCN_LAYER_CONV || d->kh != 1 || d->kw != 1 || d->stride_h != 1 ||
            d->stride_w != 1 || d->pad_t || d->pad_l || d->pad_b || d->pad_r || d->groups != 1 ||
            L->oh * L->ow <= 1)
        return -1;
    int j = i + 1;
    while (j < net->n && net->layers[j].fused_into == i) j++;
    if (j >= net->n) return -1;
    const lcn_layer *D = &net->layers[j];
    const lcn_layer_desc *e = &D->d;
    int k = e->kh, p = k / 2;
    if (e->kind != LCN_LAYER_CONV || e->groups <= 1 || e->groups != e->in_c ||
            e->groups != e->out_c || e->in_c != d->out_c || e->kw != k || k % 2 == 0 || k < 3 ||
            k > 7 || e->stride_h != e->stride_w || (e->stride_h != 1 && e->stride_h != 2) ||
            e->pad_t != p || e->pad_l != p || e->pad_b != p || e->pad_r != p || D->nw[1] == 0)
        return -1;
    /* a depthwise conv the fused block kernel could take stays for it */
    if (__atomic_load_n(&lcn_dwpw_mode, __ATOMIC_SEQ_CST) != 0 && dwpw_candidate(net, j)) return -1;
    return j;
}

/* The instruction set lcn_dwpw kernel k runs with, for impl strings. */
#define KERN_ISA(k) ((k)->avx2 ? "avx2" : "avx512")

static int simple_act(int kind) {
    return kind == LCN_ACT_NONE || kind == LCN_ACT_RELU || kind == LCN_ACT_HARDSWISH;
}

/* Can the depthwise layer i and the 1x1 layer i+1 run as one lcn_dwpw
 * kernel? Both with a plain act (none, relu, hardswish) and nothing fused
 * into them, kernel up to 7x7, the row buffer (ow x C) within 64 KiB. */
static int dwpw_candidate(const lcn_net *net, int i) {
    if (i + 1 >= net->n || !lcn_dwpw_supported()) return 0;
    const lcn_layer *D = &net->layers[i], *P = &net->layers[i + 1];
    const lcn_layer_desc *d = &D->d, *e = &P->d;
    if (d->kind != LCN_LAYER_CONV || d->groups <= 1 || d->groups != d->in_c ||
            d->groups != d->out_c || d->kh > LCN_DWPW_MAXK || d->kw > LCN_DWPW_MAXK || d->pad_t >= d->kh ||
            d->pad_l >= d->kw || !simple_act(d->act.kind) || P->fused_into >= 0)
        return 0;
    if (e->kind != LCN_LAYER_CONV || e->kh != 1 || e->kw != 1 || e->stride_h != 1 ||
            e->stride_w != 1 || e->pad_t || e->pad_l || e->pad_b || e->pad_r || e->groups != 1 ||
            !simple_act(e->act.kind) || (i + 2 < net->n && net->layers[i + 2].fused_into >= 0))
        return 0;
    return (size_t)D->ow * ((D->oc + 15) / 16 * 16) * sizeof(float) <= (64u << 10);
}

/* Time of one run of kernel k on zeroed buffers (best of a few), seconds;
 * cold: each run with k's weights flushed, as time_pd_io's cold runs. */
static double time_dwpw(const lcn_dwpw *k, int nthr, int cold) {
    size_t ni = (size_t)k->ih * k->iw * k->c, no = (size_t)k->oh * k->ow * k->oc;
    float *a = lcn_aligned_alloc(ni * sizeof(float)), *b = lcn_aligned_alloc(no * sizeof(float));
    double best = 1e30;
    if (a && b) {
        memset(a, 0, ni * sizeof(float));
        memset(b, 0, no * sizeof(float));
        for (int r = 0; r < 7; r++) {
            if (cold && r >= 2) {
                flush_lines(k->wdw, sizeof(float) * (size_t)k->kh * k->kw * k->cpad);
                flush_lines(k->wpw, sizeof(float) * (size_t)k->c * k->ocpad);
            }
            double t0 = lcn_now();
            lcn_dwpw_run(k, a, b, 1, nthr);
            double dt = lcn_now() - t0;
            if (r >= 2 && dt < best) best = dt;
        }
    }
    free(a);
    free(b);
    return best;
}

/* Plan build: should the depthwise conv j (dw, as a lcn_dwpo) run as a
 * post-op of the 1x1 conv cv reading t? Times the fused primitive against
 * the pair of primitives the unfused path would pick, and fuses only when
 * fused is faster by more than 3%. oneDNN 2.6 implements this fusion as
 * ref_fused_convolution (the 1x1 into a scratchpad, then the depthwise), so
 * it rarely wins; the timing keeps it where it does. */
static lcn_status decide_dw_fusion(lcn_builder *B, const lcn_tensor *t, const lcn_conv *cv,
        const lcn_dwpo *dw, int j, int *fuse, double *us_fused, double *us_pair) {
    lcn_layer *D = &B->p->net.layers[j];
    *fuse = 0;
    *us_fused = *us_pair = 0;
    int mode = __atomic_load_n(&lcn_dw_fusion_mode, __ATOMIC_SEQ_CST);
    if (mode == 0) return LCN_OK;
    dnnl_primitive_desc_t ppw = NULL, pdw = NULL, pf = NULL;
    int oh, ow, fh, fw;
    lcn_status rc = conv_pd(B, t, cv, &ppw, &oh, &ow);
    if (rc != LCN_OK) return rc;
    lcn_tensor t2 = *t;
    t2.virt = 0;
    t2.c = cv->oc, t2.h = oh, t2.w = ow;
    t2.md = *dnnl_primitive_desc_query_md(ppw, dnnl_query_dst_md, 0);
    const lcn_layer_desc *e = &D->d;
    lcn_conv cd = {e->out_c, e->kh, e->kw, e->stride_h, e->stride_w, e->pad_t, e->pad_l, e->pad_b,
            e->pad_r, e->groups, j * 4, 1, dw->ops, NULL, D->tuned, NULL};
    int saved = B->layer;
    B->layer = j;
    rc = conv_pd(B, &t2, &cd, &pdw, &oh, &ow);
    B->layer = saved;
    if (rc != LCN_OK) goto out;
    lcn_conv cf = *cv;
    cf.dw = dw;
    if (conv_pd(B, t, &cf, &pf, &fh, &fw) != LCN_OK) {
        pf = NULL; /* no fused implementation: keep the pair */
        goto out;
    }
    const char *impl = "";
    dnnl_primitive_desc_query(pf, dnnl_query_impl_info_str, 0, &impl);
    if (fh != oh || fw != ow || strncmp(impl, "ref:", 4) == 0 ||
            !src_fits(t, dnnl_primitive_desc_query_md(pf, dnnl_query_src_md, 0)) ||
            !dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(pf, dnnl_query_dst_md, 0),
                    dnnl_primitive_desc_query_md(pdw, dnnl_query_dst_md, 0)))
        goto out;
    if (mode == 1) {
        *fuse = 1;
        goto out;
    }
    char key[128] = "";
    layer_key(key, sizeof key, "pw", &B->p->net.layers[B->layer], B->p->threads);
    layer_key(key, sizeof key, "dw", D, B->p->threads);
    float fa, fb;
    if (choice_get(key, fuse, &fa, &fb)) {
        *us_fused = fa, *us_pair = fb;
        goto out;
    }
    double tf = 1e30, tp = 1e30;
    for (int r = 0; r < 3; r++) { /* interleaved, best of three */
        double a = time_pd(B, pf), b = time_pd(B, ppw) + time_pd(B, pdw);
        if (a < tf) tf = a;
        if (b < tp) tp = b;
    }
    *us_fused = tf * 1e6, *us_pair = tp * 1e6;
    *fuse = tf < 0.97 * tp;
    choice_put(key, *fuse, (float)*us_fused, (float)*us_pair);
out:
    if (ppw) dnnl_primitive_desc_destroy(ppw);
    if (pdw) dnnl_primitive_desc_destroy(pdw);
    if (pf) dnnl_primitive_desc_destroy(pf);
    return rc;
}

/* Adds the step running plan kernel kern[i] (layers i and i+1) on t. */
/* The engine's own kernels read and write one layout, tag (NHWC: kern_io;
 * nChw8c: kern_io_blk): t is made so (a reorder step when it is not), *o is
 * placed for an oc x oh x ow output in it, and both are sized into the
 * slots. in_direct: the kernel reads the caller's NCHW input itself (the
 * stem), t is left as it is. */
static lcn_status kern_io_as(lcn_builder *B, lcn_tensor *t, int in_direct, dnnl_format_tag_t tag, int oc,
        int oh, int ow, lcn_tensor *o) {
    dnnl_memory_desc_t want, omd;
    dnnl_dims_t sd = {t->n, t->c, t->h, t->w}, od = {t->n, oc, oh, ow};
    dnnl_memory_t ms, md;
    DN(dnnl_memory_desc_init_by_tag(&omd, 4, od, dnnl_f32, tag), "kernel md");
    if (!in_direct) {
        DN(dnnl_memory_desc_init_by_tag(&want, 4, sd, dnnl_f32, tag), "kernel md");
        TRY(ensure(B, t, &want));
        TRY(tensor_mem(B, t, &ms)); /* sizes the slots */
    }
    next_place(B, t, &omd, o);
    o->n = t->n, o->c = oc, o->h = oh, o->w = ow;
    return tensor_mem(B, o, &md);
}

static lcn_status kern_io(lcn_builder *B, lcn_tensor *t, int in_direct, int oc, int oh, int ow,
        lcn_tensor *o) {
    return kern_io_as(B, t, in_direct, dnnl_acdb, oc, oh, ow, o);
}

/* kern_io for the AVX2 bodies that read and write nChw8c (channels whole
 * blocks of 8): t is made nChw8c (a reorder step when it is not: a chain
 * decided after the kernel can change the layout before it), *o placed
 * for an nChw8c output. */
static lcn_status kern_io_blk(lcn_builder *B, lcn_tensor *t, int oc, int oh, int ow, lcn_tensor *o) {
    return kern_io_as(B, t, 0, dnnl_aBcd8b, oc, oh, ow, o);
}

/* Appends a step that runs one of the engine's own kernels on layer i from
 * t to o (the caller sets which kernel); NULL when out of memory. */
static lcn_step *kern_step(lcn_builder *B, int i, const lcn_tensor *t, const lcn_tensor *o,
        const char *what) {
    lcn_bctx *c = B->c;
    if (!grow((void **)&c->steps, &c->capsteps, c->nsteps, sizeof *c->steps)) return NULL;
    lcn_step *st = &c->steps[c->nsteps++];
    memset(st, 0, sizeof *st);
    st->layer = i;
    st->nthr = B->nthr;
    snprintf(st->what, sizeof st->what, "%s", what);
    st->src_slot = t->slot, st->src_off = t->off;
    st->dst_slot = o->slot, st->dst_off = o->off;
    return st;
}

static lcn_status build_dwpw(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_dwpw *k = B->p->kern[i];
    int fail = __atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST);
    if (fail == i || fail == i + 1)
        return dn_err(B->err, dnnl_unimplemented, fail, "convolution primitive_desc_create");
    lcn_tensor o;
    TRY(kern_io(B, t, 0, k->oc, k->oh, k->ow, &o));
    if (B->for_plan) {
        lcn_layer *L = &B->p->net.layers[i];
        if (k->us_kern > 0)
            snprintf(L->impl, sizeof L->impl,
                    "lcn_dwpw:%s (depthwise + 1x1 of layer %d in one kernel: %.0f us vs %.0f us "
                    "as two oneDNN primitives)",
                    KERN_ISA(k), i + 1, k->us_kern, k->us_pair);
        else
            snprintf(L->impl, sizeof L->impl,
                    "lcn_dwpw:%s (depthwise + 1x1 of layer %d in one kernel)", KERN_ISA(k), i + 1);
        snprintf(B->p->net.layers[i + 1].impl, sizeof L->impl,
                "fused into previous depthwise (layer %d)", i);
    } else {
        lcn_step *st = kern_step(B, i, t, &o, k->avx2 ? "lcn_dwpw:avx2" : "lcn_dwpw:avx512");
        if (!st) return NOMEM();
        st->kern = k;
    }
    *t = o;
    return LCN_OK;
}

static int lcn_fc32_mode;
static int fc32_candidate(const lcn_net *net, int i, const lcn_tensor *t);
static int fc32_post(const lcn_net *net, int i, int *act, float *scale);
static double time_fc32(const lcn_fc32 *k, int m, int nthr);

/* Plan build: should depthwise layer i and 1x1 layer i+1 run as one
 * lcn_dwpw kernel? Times it against the two oneDNN primitives the normal
 * path would pick (interleaved, best of three) and keeps it when more than
 * 3% faster; sets p->kern[i] then. */
static lcn_status decide_dwpw(lcn_builder *B, const lcn_tensor *t, int i, const lcn_conv *cvd) {
    lcn_plan *p = B->p;
    int mode = __atomic_load_n(&lcn_dwpw_mode, __ATOMIC_SEQ_CST);
    if (mode == 0 || (!t->virt && !md_is_tag(&t->md, dnnl_acdb))) return LCN_OK;
    if (p->kern[i] || p->pair_us[i] > 0) return LCN_OK; /* decided */
    lcn_layer *L = &p->net.layers[i], *P = &p->net.layers[i + 1];
    lcn_dwpw *k = lcn_dwpw_new(L, P);
    if (!k) return NOMEM();
    if (mode == 1) {
        p->kern[i] = k;
        return LCN_OK;
    }
    char key[128] = "";
    layer_key(key, sizeof key, "dw", L, p->threads);
    layer_key(key, sizeof key, "pw", P, p->threads);
    int choice;
    float ca, cb;
    if (choice_get(key, &choice, &ca, &cb)) {
        p->pair_us[i] = choice ? ca : cb;
        k->us_kern = ca, k->us_pair = cb;
        if (choice) {
            p->kern[i] = k;
        } else {
            p->spare[i] = k;
        }
        return LCN_OK;
    }
    dnnl_primitive_desc_t pdw = NULL, ppw = NULL;
    int oh, ow;
    lcn_status rc = conv_pd(B, t, cvd, &pdw, &oh, &ow);
    if (rc == LCN_OK) {
        lcn_tensor t2 = *t;
        t2.virt = 0;
        t2.c = cvd->oc, t2.h = oh, t2.w = ow;
        t2.md = *dnnl_primitive_desc_query_md(pdw, dnnl_query_dst_md, 0);
        lcn_ops ops = {0};
        ops_layer(&ops, &p->net, i + 1);
        const lcn_layer_desc *e = &P->d;
        lcn_conv cp = {e->out_c, 1, 1, 1, 1, 0, 0, 0, 0, 1, (i + 1) * 4, P->nw[1] > 0, &ops, NULL,
                P->tuned, NULL};
        B->layer = i + 1;
        rc = conv_pd(B, &t2, &cp, &ppw, &oh, &ow);
        B->layer = i;
    }
    if (rc == LCN_OK) {
        double tk = 1e30, tp = 1e30;
        for (int r = 0; r < 3; r++) {
            double a = time_dwpw(k, B->nthr, 0), b = time_pd(B, pdw) + time_pd(B, ppw);
            if (a < tk) tk = a;
            if (b < tp) tp = b;
        }
        /* The 1x1 may instead run as lcn_fc32 after the depthwise conv on its
         * own (decided at each layer when this kernel is not taken): the two
         * timed too, with the 1x1's weights out of L2 as in a run, and so the
         * kernel (x2.0's 3x3/2 256 + 1x1 256 -> 512 at 14x14: the kernel 416
         * us in a run, jit_dw + lcn_fc32 ~350). The pair stays with that
         * path when it is faster than the kernel. */
        lcn_tensor t2 = *t;
        t2.c = cvd->oc, t2.h = k->oh, t2.w = k->ow;
        int alt = 0;
        if (tk < 0.97 * tp && __atomic_load_n(&lcn_fc32_mode, __ATOMIC_SEQ_CST) != 0 &&
                !k->avx2 /* AVX2: lcn_fc32 takes no 1x1 over many pixels (decide_fc32) */ &&
                fc32_candidate(&p->net, i + 1, &t2)) {
            lcn_act act = {0, 0.f, 0.f};
            float scale;
            fc32_post(&p->net, i + 1, &act.kind, &scale);
            lcn_fc32 *f = lcn_fc32_new(P->w[0], P->w[1], P->oc, P->ic, &act, scale);
            if (!f) rc = NOMEM();
            if (f) {
                int m = t2.n * t2.h * t2.w;
                double tkc = 1e30, ta = 1e30;
                for (int r = 0; r < 3; r++) {
                    double a = time_dwpw(k, B->nthr, 1), b = time_pd(B, pdw) + time_fc32(f, m, B->nthr);
                    if (a < tkc) tkc = a;
                    if (b < ta) ta = b;
                }
                lcn_fc32_free(f);
                if (ta < tkc) alt = 1;
            }
        }
        int keep = tk < 0.97 * tp && !alt;
        choice_put(key, keep, (float)(tk * 1e6), (float)(tp * 1e6));
        p->pair_us[i] = (float)((keep ? tk : tp) * 1e6);
        k->us_kern = (float)(tk * 1e6), k->us_pair = (float)(tp * 1e6);
        if (keep) {
            p->kern[i] = k;
        } else {
            p->spare[i] = k;
        }
        k = NULL;
    }
    if (pdw) dnnl_primitive_desc_destroy(pdw);
    if (ppw) dnnl_primitive_desc_destroy(ppw);
    lcn_dwpw_free(k);
    return rc;
}

/* Can layer 0 run as the lcn_stem kernel? A conv reading up to 4 input
 * channels, up to 64 outputs, not grouped, kernel up to 7x7, a plain act
 * and nothing fused into it. */
/* ---- chains of block kernels ---- */

/* Times the chain and its stages run one after the other as block kernels
 * (through whole intermediate tensors), interleaved, best of 3 each after
 * two warm-up runs: *tc and *ta in us. */
static void time_chain(const lcn_chain *ch, int nthr, double *tc, double *ta) {
    const lcn_dwpw *f = ch->st[0];
    size_t ni = (size_t)f->ih * f->iw * f->c, most = ni;
    for (int s = 0; s < ch->n; s++) {
        size_t no = (size_t)ch->st[s]->oh * ch->st[s]->ow * ch->st[s]->oc;
        if (no > most) most = no;
    }
    float *a = lcn_aligned_alloc(most * sizeof(float)), *b = lcn_aligned_alloc(most * sizeof(float));
    void *sc = lcn_aligned_alloc(lcn_chain_scratch_bytes(ch, nthr));
    *tc = *ta = 1e30;
    if (a && b && sc) {
        memset(a, 0, most * sizeof(float));
        memset(b, 0, most * sizeof(float));
        for (int r = 0; r < 5; r++) {
            double t0 = lcn_now();
            lcn_chain_run(ch, a, b, 1, nthr, sc);
            double t1 = lcn_now();
            for (int s = 0; s < ch->n; s++)
                lcn_dwpw_run(ch->st[s], s % 2 ? b : a, s % 2 ? a : b, 1, nthr);
            double t2 = lcn_now();
            double dc = 1e6 * (t1 - t0), da = 1e6 * (t2 - t1);
            if (r >= 2 && dc < *tc) *tc = dc;
            if (r >= 2 && da < *ta) *ta = da;
        }
    }
    free(a);
    free(b);
    free(sc);
}

/* May the pair at depthwise layer j be a stage of a chain? It must have
 * been decided with an NHWC input (pair_us, or the block kernel when
 * forced) and not be split by oneDNN's depthwise post-op fusion, and its
 * 1x1 must not have gone to lcn_fc32 (decided before the chains). */
static int chain_pair_ok(const lcn_plan *p, int j) {
    const lcn_net *net = &p->net;
    if (j + 1 >= net->n || !dwpw_candidate(net, j) || p->dw_in[j] >= 0 || p->dw_of[j + 1] >= 0 ||
            p->fc[j + 1])
        return 0;
    return p->kern[j] != NULL || (p->pair_us[j] > 0 && p->spare[j] != NULL);
}

/* FNV-1a, for the memo key of a chain (its layers' keys are too long). */
static unsigned long long fnv64(const char *s) {
    unsigned long long h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* After the plan build has decided every pair: runs of two or more pairs
 * in a row become one chain when it beats the pairs as decided (timed,
 * best of three, kept when more than 3% faster). */
static lcn_status decide_chains(lcn_plan *p, lcn_error *err) {
    int mode = __atomic_load_n(&lcn_chain_mode, __ATOMIC_SEQ_CST);
    lcn_net *net = &p->net;
    if (mode == 0 || !lcn_dwpw_supported()) return LCN_OK;
    for (int i = 0; i < net->n;) {
        int S = 0;
        while (S < LCN_CHAIN_MAX && chain_pair_ok(p, i + 2 * S)) S++;
        if (S < 2) {
            i++;
            continue;
        }
        lcn_dwpw *st[LCN_CHAIN_MAX];
        for (int s = 0; s < S; s++) {
            int j = i + 2 * s;
            st[s] = p->kern[j] ? p->kern[j] : p->spare[j];
        }
        while (S > 2 && lcn_chain_scratch(st, S) > LCN_CHAIN_SCRATCH_MAX) S--;
        /* the first n pairs as a chain, against the same pairs apart: each
         * longer chain is timed while it keeps gaining (a stage whose rows
         * are short makes the chain slower than its pairs apart) */
        int best = 0, keep = 0;
        float best_tc = 0, best_apart = 0;
        char full[LCN_CHAIN_MAX * 2 * 128] = "", key[128];
        for (int j = i; j < i + 2 * S; j++)
            layer_key(full, sizeof full, j % 2 == i % 2 ? "dw" : "pw", &net->layers[j], p->threads);
        snprintf(key, sizeof key, "chain:%d,%016llx,t%d", S, fnv64(full), p->threads);
        int choice;
        float ca, cb;
        if (mode == 1) {
            best = S;
        } else if (choice_get(key, &choice, &ca, &cb)) {
            best = choice, best_tc = ca, best_apart = cb;
        } else {
            /* The chain is timed against its own stages run apart (the same
             * kernels, interleaved, so the ratio holds under the noise of a
             * shared machine); that ratio times the stages' plan-time kernel
             * times estimates the chain against the pairs as decided (each
             * the faster of kernel and oneDNN, timed together earlier). */
            double decided = 0, kern = 0, gain = 0;
            for (int n = 1; n <= S; n++) {
                int j = i + 2 * (n - 1);
                decided += p->pair_us[j] > 0 ? p->pair_us[j] : st[n - 1]->us_kern;
                kern += st[n - 1]->us_kern > 0 ? st[n - 1]->us_kern : p->pair_us[j];
                if (n < 2) continue;
                lcn_chain *c2 = lcn_chain_new(st, n);
                if (!c2) break;
                double tc, ta;
                time_chain(c2, p->threads, &tc, &ta);
                lcn_chain_free(c2);
                double est = kern * tc / ta;
                if (decided - est > gain && est < 0.97 * decided) {
                    gain = decided - est;
                    best = n, best_tc = (float)est, best_apart = (float)decided;
                } else if (decided - est < gain - 0.05 * decided) {
                    break; /* losing ground */
                }
            }
            choice_put(key, best, best_tc, best_apart);
        }
        lcn_chain *ch = best >= 2 ? lcn_chain_new(st, best) : NULL;
        keep = ch != NULL;
        if (!keep) {
            i += 2 * S;
            continue;
        }
        ch->us_chain = best_tc, ch->us_apart = best_apart;
        S = best;
        p->chain[i] = ch;
        for (int j = i; j < i + 2 * S; j++) p->chain_of[j] = i;
        lcn_layer *L = &net->layers[i];
        if (ch->us_chain > 0)
            snprintf(L->impl, sizeof L->impl,
                    "lcn_chain:%s (layers %d-%d, %d depthwise + 1x1 blocks row by row: %.0f us "
                    "vs %.0f us block by block)",
                    KERN_ISA(ch->st[0]), i, i + 2 * S - 1, S, ch->us_chain, ch->us_apart);
        else
            snprintf(L->impl, sizeof L->impl,
                    "lcn_chain:%s (layers %d-%d, %d depthwise + 1x1 blocks row by row)",
                    KERN_ISA(ch->st[0]), i, i + 2 * S - 1, S);
        for (int j = i + 1; j < i + 2 * S; j++)
            snprintf(net->layers[j].impl, sizeof net->layers[j].impl, "in the chain of layer %d", i);
        i += 2 * S;
    }
    for (int j = 0; j < net->n; j++)
        if (p->spare[j] && p->chain_of[j] < 0) {
            lcn_dwpw_free(p->spare[j]);
            p->spare[j] = NULL;
        }
    return LCN_OK;
}

static lcn_status build_chain(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_chain *ch = B->p->chain[i];
    const lcn_dwpw *f = ch->st[0], *l = ch->st[ch->n - 1];
    if (t->c != f->c || t->h != f->ih || t->w != f->iw)
        return lcn_err_set(B->err, LCN_ERR_INVALID, i, "chain input %dx%dx%d, want %dx%dx%d", t->c,
                t->h, t->w, f->c, f->ih, f->iw);
    lcn_tensor o;
    TRY(kern_io(B, t, 0, l->oc, l->oh, l->ow, &o));
    if (!B->for_plan) {
        char what[48];
        snprintf(what, sizeof what, "lcn_chain:%s x%d", KERN_ISA(ch->st[0]), ch->n);
        lcn_step *st = kern_step(B, i, t, &o, what);
        if (!st) return NOMEM();
        st->chain = ch;
        lcn_bctx *c = B->c;
        if (!grow((void **)&c->owned, &c->capowned, c->nowned, sizeof *c->owned)) return NOMEM();
        st->scratch = lcn_aligned_alloc(lcn_chain_scratch_bytes(ch, B->nthr));
        if (!st->scratch) return NOMEM();
        c->owned[c->nowned++] = st->scratch;
    }
    *t = o;
    return LCN_OK;
}

static int stem_candidate(const lcn_net *net) {
    const lcn_layer *L = &net->layers[0];
    const lcn_layer_desc *d = &L->d;
    return lcn_dwpw_supported() && d->kind == LCN_LAYER_CONV && d->groups == 1 && L->ic <= 4 &&
           L->oc <= 64 && d->kh <= 7 && d->kw <= 7 && d->pad_t < d->kh && d->pad_l < d->kw &&
           simple_act(d->act.kind) && (net->n < 2 || net->layers[1].fused_into < 0);
}

/* Adds the step running the plan's stem kernel on the user input t. */
static lcn_status build_stem(lcn_builder *B, lcn_tensor *t) {
    const lcn_stem *k = B->p->stem;
    if (__atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST) == 0)
        return dn_err(B->err, dnnl_unimplemented, 0, "convolution primitive_desc_create");
    lcn_tensor o;
    TRY(kern_io(B, t, 1, k->oc, k->oh, k->ow, &o));
    B->c->in_mode = IO_DIRECT;
    if (B->for_plan) {
        lcn_layer *L = &B->p->net.layers[0];
        if (k->us_kern > 0)
            snprintf(L->impl, sizeof L->impl,
                    "lcn_stem:%s (reads the NCHW input: %.0f us vs %.0f us for transpose + "
                    "oneDNN)",
                    KERN_ISA(k), k->us_kern, k->us_dnnl);
        else
            snprintf(L->impl, sizeof L->impl, "lcn_stem:%s (reads the NCHW input)", KERN_ISA(k));
    } else {
        lcn_step *st = kern_step(B, 0, t, &o, k->avx2 ? "lcn_stem:avx2" : "lcn_stem:avx512");
        if (!st) return NOMEM();
        st->stem = k;
    }
    *t = o;
    return LCN_OK;
}

/* Plan build: should layer 0 run as the lcn_stem kernel? Times it against
 * what the normal path costs: the input copy or NCHW -> NHWC transpose plus
 * the oneDNN primitive; keeps it when more than 3% faster (AVX2) or less
 * than STEM_TIE slower (AVX-512: see below). */
#define STEM_TIE 1.25
static lcn_status decide_stem(lcn_builder *B, const lcn_tensor *t, const lcn_conv *cv) {
    lcn_plan *p = B->p;
    int mode = __atomic_load_n(&lcn_stem_mode, __ATOMIC_SEQ_CST);
    if (mode == 0 || !t->virt) return LCN_OK;
    lcn_stem *k = lcn_stem_new(&p->net.layers[0]);
    if (!k) return NOMEM();
    if (mode == 1) {
        p->stem = k;
        return LCN_OK;
    }
    char key[128] = "";
    layer_key(key, sizeof key, "stem", &p->net.layers[0], p->threads);
    int choice;
    float ca, cb;
    if (choice_get(key, &choice, &ca, &cb)) {
        if (choice) {
            k->us_kern = ca, k->us_dnnl = cb;
            p->stem = k;
        } else {
            lcn_stem_free(k);
        }
        return LCN_OK;
    }
    dnnl_primitive_desc_t pd = NULL;
    int oh, ow;
    lcn_status rc = conv_pd(B, t, cv, &pd, &oh, &ow);
    size_t ni = (size_t)k->ic * k->ih * k->iw, no = (size_t)k->oh * k->ow * k->oc;
    /* The input of a real run comes from the caller's memory, not from a
     * cache warmed by the previous run: both ways are timed on inputs taken
     * in turn from NIN buffers, together larger than a core's L2, and the
     * transpose writes to cold memory as it does into the activation slot.
     * Timed on hot buffers the transpose looked ~3x cheaper than in a run
     * (18 vs 57 us for 3x224x224 on 2 threads), and the choice flipped from
     * one process to the next. */
    enum { NIN = 6 };
    size_t nin = NIN;
    while (nin > 2 && (nin - 1) * ni * sizeof(float) >= (6u << 20)) nin--;
    float *a = lcn_aligned_alloc(nin * ni * sizeof(float)), *b = lcn_aligned_alloc(nin * ni * sizeof(float)),
          *o = lcn_aligned_alloc(no * sizeof(float));
    if (rc == LCN_OK && (!a || !b || !o)) rc = NOMEM();
    if (rc == LCN_OK) {
        memset(a, 0, nin * ni * sizeof(float));
        memset(b, 0, nin * ni * sizeof(float));
        memset(o, 0, no * sizeof(float));
        int nhwc = md_is_tag(dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), dnnl_acdb);
        int cthr = ni * sizeof(float) < LCN_COPY_PAR_BYTES ? 1 : p->threads;
        double tk = 1e30, td = 1e30;
        for (int r = 0; r < 3; r++) {
            double best_k = 1e30, best_c = 1e30;
            for (int j = 0; j < 7; j++) {
                double t0 = lcn_now();
                const float *in = a + (size_t)((r * 7 + j) % nin) * ni;
                lcn_stem_run(k, in, o, 1, B->nthr);
                double t1 = lcn_now();
                in = a + (size_t)((r * 7 + j + nin / 2) % nin) * ni;
                float *to = b + (size_t)((r * 7 + j) % nin) * ni; /* cold too, as the slot is */
                if (nhwc)
                    lcn_nchw_to_nhwc(in, to, 1, k->ic, k->ih * k->iw, cthr);
                else
                    memcpy(to, in, ni * sizeof(float));
                double dk = t1 - t0, dc = lcn_now() - t1;
                if (j >= 2 && dk < best_k) best_k = dk;
                if (j >= 2 && dc < best_c) best_c = dc;
            }
            double dd = best_c + time_pd(B, pd);
            if (best_k < tk) tk = best_k;
            if (dd < td) td = dd;
        }
        /* In a run the oneDNN way costs more than timed here: its
         * transposed input and its output land in memory the next steps
         * read from farther away. AVX-512 (Zen 5), x1.0 / x2.0 / x2.5 at 1
         * thread, forced either way in one process (dnn's profile, 100 runs
         * each): the stem kernel 117 / 190 / 248 us, transpose + brgconv
         * 40 + 137 / 81 + 261 / 101 + 442 us, when this timing had the two
         * within 3-10% of each other at x2.0 and the
         * choice flipped from process to process. So on AVX-512 the kernel
         * is kept unless it times STEM_TIE slower; the AVX2 body stays with
         * the 3% rule (it lost in a run: x1.0 361 vs 218 us, AVX2 emulated on
         * the same CPU with DNNL_MAX_CPU_ISA=AVX2 LCNET_NO_AVX512=1). */
        double tie = k->avx2 ? 0.97 : STEM_TIE;
        int keep = tk < tie * td;
        choice_put(key, keep, (float)(tk * 1e6), (float)(td * 1e6));
        if (keep) {
            k->us_kern = (float)(tk * 1e6), k->us_dnnl = (float)(td * 1e6);
            p->stem = k;
            k = NULL;
        }
    }
    free(a);
    free(b);
    free(o);
    if (pd) dnnl_primitive_desc_destroy(pd);
    lcn_stem_free(k);
    return rc;
}

/* The inner product primitive descriptor of FC layer i reading t. */
static lcn_status fc_pd(lcn_builder *B, const lcn_tensor *t, int i, dnnl_primitive_desc_t *out) {
    const lcn_layer *L = &B->p->net.layers[i];
    int N = t->n, oc = L->d.out_c, has_bias = L->nw[1] > 0;
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    dnnl_dims_t sd = {N, t->c, t->h, t->w}, wd = {oc, t->c, t->h, t->w}, bd = {oc},
                dd = {N, oc};
    DN(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, dnnl_format_tag_any), "fc md");
    DN(dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_format_tag_any), "fc md");
    DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x), "fc md");
    DN(dnnl_memory_desc_init_by_tag(&dmd, 2, dd, dnnl_f32, dnnl_nc), "fc md");
    dnnl_inner_product_desc_t ipd;
    DN(dnnl_inner_product_forward_desc_init(&ipd, dnnl_forward_inference, &smd, &wmd,
               has_bias ? &bmd : NULL, &dmd),
            "inner_product_forward_desc_init");
    lcn_ops ops = {0};
    if (!ops_layer(&ops, &B->p->net, i))
        return lcn_err_set(B->err, LCN_ERR_INVALID, i, "too many fused post-ops");
    dnnl_primitive_attr_t a;
    TRY(new_attr(B, &ops, NULL, &a));
    lcn_status rc = pick_pd(B, &ipd, a, t, NULL, NULL, 0, "inner_product primitive_desc_create", out);
    dnnl_primitive_attr_destroy(a);
    return rc;
}

/* ---- FC and 1x1 convs over few pixels as lcn_fc32 kernels ---- */

/* Rows (pixels x batch) up to which a layer is a candidate at plan time:
 * PP-LCNet's 14x14 and 7x7 stages (larger maps run in chains of block
 * kernels). */
enum { FC32_MAX_ROWS = 256 };

/* The activation of layer i with what is fused into it as the kernel's
 * act(x) * scale, act NONE, RELU or HARDSWISH: 1 when it is one, else 0. */
static int fc32_post(const lcn_net *net, int i, int *act, float *scale) {
    *act = net->layers[i].d.act.kind;
    *scale = 1.f;
    if (!simple_act(*act)) return 0;
    for (int j = i + 1; j < net->n && net->layers[j].fused_into == i; j++) {
        const lcn_layer_desc *d = &net->layers[j].d;
        if (d->kind == LCN_LAYER_SCALE) {
            *scale *= d->factor;
            continue;
        }
        if (d->kind != LCN_LAYER_ACTIVATION) return 0;
        if (d->act.kind == LCN_ACT_NONE) continue;
        /* an activation after a scale or another activation: not act * scale */
        if (*act != LCN_ACT_NONE || *scale != 1.f || !simple_act(d->act.kind)) return 0;
        *act = d->act.kind;
    }
    return 1;
}

/* Can layer i, reading t, run as an lcn_fc32 kernel? An FC whose inputs are
 * t's channels (a 1x1 map, or the pixels of a split batch's head), or a
 * 1x1 conv (stride 1, no padding, not grouped) over at most FC32_MAX_ROWS
 * pixels, with a plain activation. */
static int fc32_candidate(const lcn_net *net, int i, const lcn_tensor *t) {
    const lcn_layer *L = &net->layers[i];
    const lcn_layer_desc *d = &L->d;
    int act;
    float scale;
    if (!lcn_dwpw_supported() || !fc32_post(net, i, &act, &scale) || L->ic != t->c ||
            lcn_env_off("LCNET_NO_FC32"))
        return 0;
    if ((size_t)t->n * t->h * t->w > FC32_MAX_ROWS) return 0;
    if (d->kind == LCN_LAYER_FC) return t->h * t->w == 1 || (t->n == 1 && t->h == 1);
    return d->kind == LCN_LAYER_CONV && d->kh == 1 && d->kw == 1 && d->stride_h == 1 &&
           d->stride_w == 1 && !d->pad_t && !d->pad_l && !d->pad_b && !d->pad_r && d->groups == 1;
}

/* -1: run FC layers and 1x1 convs over few pixels as lcn_fc32.c kernels
 * when timing says so; 0: never; 1: whenever the kernel applies (tests). */
static int lcn_fc32_mode = -1;

lcn_status lcn_test_fc32(int mode) { return set_mode(&lcn_fc32_mode, mode, -1, 1); }

/* Best of 5 runs after 2 warm-ups of k on m zeroed rows, in seconds, each
 * run with k's weights flushed (as time_pd_io's cold runs). */
static double time_fc32(const lcn_fc32 *k, int m, int nthr) {
    float *x = lcn_aligned_alloc(sizeof(float) * (size_t)m * k->k),
          *y = lcn_aligned_alloc(sizeof(float) * (size_t)m * k->n);
    double best = 1e30;
    if (x && y) {
        memset(x, 0, sizeof(float) * (size_t)m * k->k);
        for (int r = 0; r < 7; r++) {
            if (r >= 2) flush_lines(k->w, sizeof(float) * (size_t)k->k * k->npad);
            double t0 = lcn_now();
            lcn_fc32_run(k, x, y, m, nthr);
            double dt = lcn_now() - t0;
            if (r >= 2 && dt < best) best = dt;
        }
    }
    free(x);
    free(y);
    return best;
}

/* lcn_fc32 is kept unless it times more than 10% slower than oneDNN: in a
 * run it does better than its timing apart says, even with the weights
 * flushed (x1.5 at 2 threads, 384 -> 384 at 14x14: timed 319 vs 315 us,
 * in a run 252 vs 281; 768 -> 768 at 7x7: 327 vs 337 in a run where the
 * earlier timing had it 11% slower), and a plan-time timing on this VM is
 * off by several percent now and then. Flushed, lcn_fc32 timed 0.70-1.01x
 * oneDNN on PP-LCNet's 1x1 convs from x0.5 to x2.5 at 1 and 2 threads. */
#define FC32_TIE 1.10

/* Can the AVX2 body of k run on t in place of layout, nChw8c (oneDNN's
 * AVX2 layout; channels in and out whole blocks of 8)? */
static int fc32_blk_ok(const lcn_fc32 *k, const lcn_tensor *t) {
    if (!k->avx2 || t->virt || t->c % 8 || k->n % 8 || t->c != k->k) return 0;
    dnnl_memory_desc_t b8;
    dnnl_dims_t d = {t->n, t->c, t->h, t->w};
    if (dnnl_memory_desc_init_by_tag(&b8, 4, d, dnnl_f32, dnnl_aBcd8b) != dnnl_success) return 0;
    return dnnl_memory_desc_equal(&t->md, &b8);
}


/* An lcn_fc32 step over at most FC32_FEW_ROWS rows (batch 1's head, an
 * SE's FCs) is bound by reading its weights: it is taken without timing,
 * as link_prefetch has those weights prefetched into L2 by an earlier
 * step, which a oneDNN primitive would not read. Apart, flushed, it timed
 * 0.65-1.05x oneDNN's inner product / 1x1 conv there (x0.5-x2.5, 1 and 2
 * threads), so the timing only repeated a tie, at a cost: at x1.0 its 42
 * timed runs of the two head layers (~90 and ~170 us each, lcnet info)
 * came to ~10 ms of a plan's build. */
enum { FC32_FEW_ROWS = 6 };

/* Plan build: should layer i (an FC, or the 1x1 conv cv) run as an
 * lcn_fc32 kernel? Over few rows, yes (FC32_FEW_ROWS); else, without
 * AVX-512, no; else it is timed
 * against the oneDNN primitive the normal path would pick (interleaved,
 * best of three, each run with the weights flushed as in a run) and kept
 * when not slower than FC32_TIE times oneDNN's time; sets p->fc[i] then. */
static lcn_status decide_fc32(lcn_builder *B, const lcn_tensor *t, int i, const lcn_conv *cv) {
    lcn_plan *p = B->p;
    int mode = __atomic_load_n(&lcn_fc32_mode, __ATOMIC_SEQ_CST);
    if (mode == 0 || p->fc[i]) return LCN_OK;
    lcn_layer *L = &p->net.layers[i];
    lcn_act act = {0, 0.f, 0.f};
    float scale;
    fc32_post(&p->net, i, &act.kind, &scale);
    const int few = mode == 1 || (size_t)t->n * t->h * t->w <= FC32_FEW_ROWS;
    if (!few && !lcn_avx512_supported()) {
        /* AVX2 over many pixels: oneDNN's jit_1x1. On nChw8c lcn_fc32_run_blk
         * times faster apart (AMD Zen 3, 2 threads, 640 -> 640 at 14x14,
         * weights flushed: 815-850 us vs 1000; 1 thread level) but is 3-15%
         * slower than jit_1x1 inside a run (same run, alternating plans, x2.5
         * and x1.0; cause not found: flushed inputs, outputs and weights,
         * denormals off, compiler flags and cache blocking did not bring the
         * gap out apart), so a plan-time timing would pick it wrongly. It
         * runs when forced (lcn_test_fc32(1): the tests) and over few rows. */
        return LCN_OK;
    }
    lcn_fc32 *k = lcn_fc32_new(L->w[0], L->w[1], L->oc, L->ic, &act, scale);
    if (!k) return NOMEM();
    if (fc32_blk_ok(k, t) && t->h * t->w > 1 && lcn_fc32_use_strips(k)) {
        /* build_fc32 runs it on nChw8c (lcn_fc32_run_blk): weights in strips */
        lcn_fc32_free(k);
        return NOMEM();
    }
    if (few) {
        p->fc[i] = k;
        return LCN_OK;
    }
    char key[128] = "";
    layer_key(key, sizeof key, "fc32", L, p->threads);
    int choice;
    float ca, cb;
    if (choice_get(key, &choice, &ca, &cb)) {
        k->us_kern = ca, k->us_dnnl = cb;
        if (choice)
            p->fc[i] = k;
        else
            lcn_fc32_free(k);
        return LCN_OK;
    }
    dnnl_primitive_desc_t pd = NULL;
    int oh, ow;
    lcn_status rc = cv ? conv_pd(B, t, cv, &pd, &oh, &ow) : fc_pd(B, t, i, &pd);
    if (rc == LCN_OK) {
        int m = t->n * t->h * t->w;
        double tk = 1e30, td = 1e30;
        for (int r = 0; r < 3; r++) {
            double a = time_fc32(k, m, B->nthr);
            double b = time_pd_io(B->p->eng, B->strm, pd, 1e30, 1);
            if (a < tk) tk = a;
            if (b < td) td = b;
        }
        choice_put(key, tk < FC32_TIE * td, (float)(tk * 1e6), (float)(td * 1e6));
        k->us_kern = (float)(tk * 1e6), k->us_dnnl = (float)(td * 1e6);
        if (tk < FC32_TIE * td) {
            p->fc[i] = k;
            k = NULL;
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    lcn_fc32_free(k);
    return rc;
}

/* Adds the step running p->fc[i] on t (made NHWC: m rows of t->c). */
static lcn_status build_fc32(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_fc32 *k = B->p->fc[i];
    if (i == __atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST))
        return dn_err(B->err, dnnl_unimplemented, i,
                B->p->net.layers[i].d.kind == LCN_LAYER_FC ? "inner_product primitive_desc_create"
                                                           : "convolution primitive_desc_create");
    lcn_tensor o;
    if (t->h * t->w == 1 && fc32_blk_ok(k, t)) {
        /* a 1x1 map: nChw8c with whole blocks is NHWC byte for byte */
        dnnl_dims_t d = {t->n, t->c, 1, 1};
        DN(dnnl_memory_desc_init_by_tag(&t->md, 4, d, dnnl_f32, dnnl_acdb), "kernel md");
    }
    /* the weights' packing says the layout (decide_fc32 saw it; a chain
     * decided later can change what comes before: a reorder then) */
    const int blk = k->strips;
    if (blk) {
        TRY(kern_io_blk(B, t, k->n, t->h, t->w, &o));
    } else {
        TRY(kern_io(B, t, 0, k->n, t->h, t->w, &o));
    }
    if (B->for_plan) {
        lcn_layer *L = &B->p->net.layers[i];
        const char *how = blk ? "1x1 conv on nChw8c" : "weights as one stream";
        if (k->us_kern > 0)
            snprintf(L->impl, sizeof L->impl, "lcn_fc32:%s (%s: %.0f us vs %.0f us for oneDNN)", KERN_ISA(k),
                    how, k->us_kern, k->us_dnnl);
        else
            snprintf(L->impl, sizeof L->impl, "lcn_fc32:%s (%s)", KERN_ISA(k), how);
    } else {
        lcn_step *st = kern_step(B, i, t, &o, k->avx2 ? "lcn_fc32:avx2" : "lcn_fc32:avx512");
        if (!st) return NOMEM();
        st->fc = k;
        st->fc_blk = blk;
        st->rows = t->n * t->h * t->w;
        st->hw = t->h * t->w;
    }
    *t = o;
    return LCN_OK;
}

static lcn_status build_fc(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_layer *L = &B->p->net.layers[i];
    int N = t->n, oc = L->d.out_c, has_bias = L->nw[1] > 0;
    dnnl_dims_t wd = {oc, t->c, t->h, t->w}, bd = {oc};
    dnnl_primitive_desc_t pd;
    lcn_status rc = fc_pd(B, t, i, &pd);
    if (rc != LCN_OK) return rc;
    dnnl_memory_t ms, mw, mb = NULL, md;
    lcn_tensor o;
    rc = ensure(B, t, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0));
    if (rc == LCN_OK)
        rc = bind_weight(B, i * 4, 4, wd, dnnl_oihw,
                dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), &mw);
    if (rc == LCN_OK && has_bias)
        rc = bind_weight(B, i * 4 + 1, 1, bd, dnnl_x,
                dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1), &mb);
    if (rc == LCN_OK) rc = tensor_mem(B, t, &ms);
    if (rc == LCN_OK) {
        next_place(B, t, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), &o);
        rc = tensor_mem(B, &o, &md);
    }
    if (rc != LCN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
    int na = 3;
    if (mb) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mb};
    TRY(add_step(B, pd, NULL, na, args));
    /* continue as a 4-D N x oc x 1 x 1 tensor over the same bytes */
    dnnl_dims_t od = {N, oc, 1, 1};
    DN(dnnl_memory_desc_init_by_tag(&o.md, 4, od, dnnl_f32, dnnl_abcd), "fc md");
    o.n = N, o.c = oc, o.h = o.w = 1;
    *t = o;
    return LCN_OK;
}

/* Global average pool of t into a new tensor (in TMP when to_tmp). */
static lcn_status build_gap(lcn_builder *B, lcn_tensor *t, const char *tag, int to_tmp) {
    TRY(concrete(B, t));
    set_threads_for(B, &t->md);
    dnnl_memory_desc_t dmd;
    dnnl_dims_t dd = {t->n, t->c, 1, 1};
    DN(dnnl_memory_desc_init_by_tag(&dmd, 4, dd, dnnl_f32, dnnl_format_tag_any), "pool md");
    dnnl_pooling_desc_t pdsc;
    dnnl_dims_t st = {1, 1}, ker = {t->h, t->w}, pad = {0, 0};
    DN(dnnl_pooling_forward_desc_init(&pdsc, dnnl_forward_inference, dnnl_pooling_avg, &t->md,
               &dmd, st, ker, pad, pad),
            "pooling_forward_desc_init");
    dnnl_primitive_attr_t a;
    TRY(new_attr(B, NULL, NULL, &a));
    dnnl_primitive_desc_t pd;
    lcn_status rc = pick_pd(B, &pdsc, a, t, NULL, NULL, 0, "pooling primitive_desc_create", &pd);
    dnnl_primitive_attr_destroy(a);
    if (rc != LCN_OK) return rc;
    dnnl_memory_t ms, md;
    lcn_tensor o;
    rc = tensor_mem(B, t, &ms);
    if (rc == LCN_OK) {
        lcn_tensor src = *t;
        if (to_tmp) src.slot = SLOT_TMP;
        next_place(B, &src, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), &o);
        o.n = t->n, o.c = t->c, o.h = o.w = 1;
        rc = tensor_mem(B, &o, &md);
    }
    if (rc != LCN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_DST, md}};
    TRY(add_step(B, pd, tag, 2, args));
    *t = o;
    return LCN_OK;
}

/* Elementwise ops applied in place on t, one primitive per op. */
static lcn_status build_eltwise(lcn_builder *B, lcn_tensor *t, const lcn_ops *ops) {
    TRY(concrete(B, t));
    set_threads_for(B, &t->md);
    for (int k = 0; k < ops->n; k++) {
        dnnl_eltwise_desc_t ed;
        DN(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, ops->op[k].alg, &t->md,
                   ops->op[k].a, ops->op[k].b),
                "eltwise_forward_desc_init");
        dnnl_primitive_attr_t a;
        TRY(new_attr(B, NULL, NULL, &a));
        dnnl_primitive_desc_t pd;
        lcn_status rc = pick_pd(B, &ed, a, t, NULL, NULL, 0, "eltwise primitive_desc_create", &pd);
        dnnl_primitive_attr_destroy(a);
        if (rc != LCN_OK) return rc;
        dnnl_memory_t m;
        rc = tensor_mem(B, t, &m);
        if (rc != LCN_OK) {
            dnnl_primitive_desc_destroy(pd);
            return rc;
        }
        dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}};
        TRY(add_step(B, pd, NULL, 2, args));
    }
    return LCN_OK;
}

static lcn_status build_se(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_layer *L = &B->p->net.layers[i];
    TRY(concrete(B, t));
    lcn_tensor x = *t;
    TRY(build_gap(B, &x, "pool", 1));
    set_threads(B, B->p->threads);
    lcn_ops relu = {0}, gate = {0};
    ops_push(&relu, dnnl_eltwise_relu, 0.f, 0.f);
    ops_act(&gate, &L->d.gate);
    lcn_conv c1 = {L->d.se_reduce, 1, 1, 1, 1, 0, 0, 0, 0, 1, i * 4, L->nw[1] > 0, &relu, "fc1", NULL};
    lcn_conv c2 = {t->c, 1, 1, 1, 1, 0, 0, 0, 0, 1, i * 4 + 2, L->nw[3] > 0, &gate, "fc2", NULL};
    TRY(build_conv(B, &x, &c1));
    TRY(build_conv(B, &x, &c2));
    /* t *= gate, broadcast over H, W, in place */
    set_threads_for(B, &t->md);
    dnnl_binary_desc_t bdsc;
    DN(dnnl_binary_desc_init(&bdsc, dnnl_binary_mul, &t->md, &x.md, &t->md), "binary_desc_init");
    dnnl_primitive_attr_t a;
    TRY(new_attr(B, NULL, NULL, &a));
    dnnl_primitive_desc_t pd;
    lcn_status rc = pick_pd(B, &bdsc, a, t, NULL, NULL, 0, "binary primitive_desc_create", &pd);
    dnnl_primitive_attr_destroy(a);
    if (rc != LCN_OK) return rc;
    dnnl_memory_t m0, m1;
    rc = tensor_mem(B, t, &m0);
    if (rc == LCN_OK) rc = tensor_mem(B, &x, &m1);
    if (rc != LCN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC_0, m0}, {DNNL_ARG_SRC_1, m1}, {DNNL_ARG_DST, m0}};
    return add_step(B, pd, "mul", 3, args);
}

/* ---- depthwise convs on their own as lcn_dw32 kernels ---- */

/* Is t nChw8c with whole blocks of 8 (oneDNN's AVX2 layout) on a CPU
 * without AVX-512 but with AVX2: can lcn_dw32's AVX2 body read it? */
static int dw32_blk_in(const lcn_tensor *t) {
    if (lcn_avx512_supported() || !lcn_avx2_supported() || t->virt || t->c % 8) return 0;
    dnnl_memory_desc_t b8;
    dnnl_dims_t d = {t->n, t->c, t->h, t->w};
    if (dnnl_memory_desc_init_by_tag(&b8, 4, d, dnnl_f32, dnnl_aBcd8b) != dnnl_success) return 0;
    return dnnl_memory_desc_equal(&t->md, &b8);
}

/* Input bytes up to which the AVX2 body is timed (decide_dw32). */
#define DW32_BLK_MAX_IN (512u << 10)

/* Can layer i, reading t, run as an lcn_dw32 kernel? A depthwise conv
 * (one output channel a group) with a kernel up to LCN_DW32_MAXK, a plain
 * activation and no scale fused into it. */
static int dw32_candidate(const lcn_net *net, int i, const lcn_tensor *t) {
    const lcn_layer *L = &net->layers[i];
    const lcn_layer_desc *d = &L->d;
    int act;
    float scale;
    return (lcn_avx512_supported() || dw32_blk_in(t)) && !lcn_env_off("LCNET_NO_DW32") && d->kind == LCN_LAYER_CONV &&
           d->groups > 1 && d->groups == d->in_c && d->groups == d->out_c && L->ic == t->c &&
           d->kh <= LCN_DW32_MAXK && d->kw <= LCN_DW32_MAXK && fc32_post(net, i, &act, &scale) &&
           scale == 1.f;
}

/* -1: run depthwise layers as lcn_dw32.c kernels when timing says so; 0:
 * never; 1: whenever the kernel applies (tests). */
static int lcn_dw32_mode = -1;

lcn_status lcn_test_dw32(int mode) { return set_mode(&lcn_dw32_mode, mode, -1, 1); }

/* Best of 5 runs after 2 warm-ups of k on n zeroed images, in seconds. */
static double time_dw32(const lcn_dw32 *k, int n, int nthr) {
    size_t ni = (size_t)n * k->ih * k->iw * k->c, no = (size_t)n * k->oh * k->ow * k->c;
    float *x = lcn_aligned_alloc(sizeof(float) * ni), *y = lcn_aligned_alloc(sizeof(float) * no);
    void *sc = lcn_aligned_alloc(lcn_dw32_scratch_bytes(k, nthr));
    double best = 1e30;
    if (x && y && sc) {
        memset(x, 0, sizeof(float) * ni);
        for (int r = 0; r < 7; r++) {
            double t0 = lcn_now();
            lcn_dw32_run(k, x, y, n, nthr, sc);
            double dt = lcn_now() - t0;
            if (r >= 2 && dt < best) best = dt;
        }
    }
    free(x);
    free(y);
    free(sc);
    return best;
}

/* Plan build: should depthwise layer i (the conv cv) run as an lcn_dw32
 * kernel? Times it against the oneDNN primitive the normal path would
 * pick (interleaved, best of three) and keeps it when faster; sets
 * p->dw[i] then. */
static lcn_status decide_dw32(lcn_builder *B, const lcn_tensor *t, int i, const lcn_conv *cv) {
    lcn_plan *p = B->p;
    int mode = __atomic_load_n(&lcn_dw32_mode, __ATOMIC_SEQ_CST);
    /* only on the layout oneDNN's primitive would read (AVX-512: NHWC, or
     * the caller's input; AVX2: nChw8c): a reorder first would cost more
     * than the kernel saves */
    const int blk = dw32_blk_in(t);
    if (mode == 0 || p->dw[i] || (!blk && !t->virt && !md_is_tag(&t->md, dnnl_acdb))) return LCN_OK;
    if (!blk && !lcn_avx512_supported()) return LCN_OK;
    lcn_layer *L = &p->net.layers[i];
    if (blk && mode == -1 &&
            (L->d.stride_h > 1 || L->d.stride_w > 1 ||
                    sizeof(float) * (size_t)t->n * t->c * t->h * t->w > DW32_BLK_MAX_IN))
        /* the AVX2 body is timed at stride 1 on inputs that stay in L2.
         * Strided, it copies two input rows an output row into its ring and
         * loses to jit_dw (AMD Zen 3, 1 thread, apart: 3x3/2 from 112x112 x
         * 48 84 us vs 70; 5x5/2 from 14x14 x 384 23 vs 19). On larger maps
         * it won apart and at plan time but lost inside a run (x1.0, plans
         * alternating: 3x3 at 112x112 x 16 128 vs 122 us at 1 thread, at
         * 56x56 x 64 190 vs 182 at 2), where on the smaller ones it won
         * (1 thread: 5x5 at 14x14 x 256 53-55 vs 58-59, 7x7 x 512 33 vs
         * 38, 3x3 at 28x28 x 128 56 vs 64). */
        return LCN_OK;
    lcn_act act = {0, 0.f, 0.f};
    float scale;
    fc32_post(&p->net, i, &act.kind, &scale);
    lcn_dw32 *k = lcn_dw32_new(L, act.kind, blk);
    if (!k) return NOMEM();
    if (mode == 1) {
        p->dw[i] = k;
        return LCN_OK;
    }
    char key[128] = "";
    layer_key(key, sizeof key, "dw32", L, p->threads);
    int choice;
    float ca, cb;
    if (choice_get(key, &choice, &ca, &cb)) {
        k->us_kern = ca, k->us_dnnl = cb;
        if (choice)
            p->dw[i] = k;
        else
            lcn_dw32_free(k);
        return LCN_OK;
    }
    dnnl_primitive_desc_t pd = NULL;
    int oh, ow;
    lcn_status rc = conv_pd(B, t, cv, &pd, &oh, &ow);
    if (rc == LCN_OK) {
        double tk = 1e30, td = 1e30;
        for (int r = 0; r < 3; r++) {
            double a = time_dw32(k, t->n, B->nthr), b = time_pd(B, pd);
            if (a < tk) tk = a;
            if (b < td) td = b;
        }
        choice_put(key, tk < td, (float)(tk * 1e6), (float)(td * 1e6));
        k->us_kern = (float)(tk * 1e6), k->us_dnnl = (float)(td * 1e6);
        if (tk < td) {
            p->dw[i] = k;
            k = NULL;
        }
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    lcn_dw32_free(k);
    return rc;
}

/* Adds the step running p->dw[i] on t (made NHWC), with its scratch. */
static lcn_status build_dw32(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_dw32 *k = B->p->dw[i];
    if (i == __atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST))
        return dn_err(B->err, dnnl_unimplemented, i, "convolution primitive_desc_create");
    lcn_tensor o;
    const char *isa = k->blk ? "avx2" : "avx512";
    if (k->blk) {
        TRY(kern_io_blk(B, t, k->c, k->oh, k->ow, &o));
    } else {
        TRY(kern_io(B, t, 0, k->c, k->oh, k->ow, &o));
    }
    if (B->for_plan) {
        lcn_layer *L = &B->p->net.layers[i];
        if (k->us_kern > 0)
            snprintf(L->impl, sizeof L->impl,
                    "lcn_dw32:%s (padded rows in L1: %.0f us vs %.0f us for oneDNN)", isa, k->us_kern,
                    k->us_dnnl);
        else
            snprintf(L->impl, sizeof L->impl, "lcn_dw32:%s (padded rows in L1)", isa);
    } else {
        lcn_step *st = kern_step(B, i, t, &o, k->blk ? "lcn_dw32:avx2" : "lcn_dw32:avx512");
        if (!st) return NOMEM();
        st->dw = k;
        lcn_bctx *c = B->c;
        if (!grow((void **)&c->owned, &c->capowned, c->nowned, sizeof *c->owned)) return NOMEM();
        st->scratch = lcn_aligned_alloc(lcn_dw32_scratch_bytes(k, B->nthr));
        if (!st->scratch) return NOMEM();
        c->owned[c->nowned++] = st->scratch;
    }
    *t = o;
    return LCN_OK;
}

/* -1 (default) and 1: run SE layers as lcn_se32 kernels where it applies;
 * 0: never (tests, comparisons). */
static int lcn_se32_mode = -1;

lcn_status lcn_test_se32(int mode) { return set_mode(&lcn_se32_mode, mode, -1, 1); }

/* Plan build: SE layer i runs as one lcn_se32 step when the CPU has
 * AVX-512, its gate is a hard sigmoid, ReLU, hardswish or none and
 * LCNET_NO_SE32 is not set. Not timed: in alternating runs against
 * oneDNN's four primitives it was faster at 1 thread (x2.5's last SE 252 vs
 * ~330 us, its FCs streaming 3.3 MB of weights; x1.0 ~20 us a run) and
 * within noise at 2 threads. */
static lcn_status decide_se32(lcn_builder *B, const lcn_tensor *t, int i) {
    lcn_plan *p = B->p;
    const lcn_layer *L = &p->net.layers[i];
    int g = L->d.gate.kind;
    if (__atomic_load_n(&lcn_se32_mode, __ATOMIC_SEQ_CST) == 0 || p->se[i] || !lcn_dwpw_supported() ||
            L->ic != t->c || !(g == LCN_ACT_HARDSIGMOID || simple_act(g)) || lcn_env_off("LCNET_NO_SE32"))
        return LCN_OK;
    p->se[i] = lcn_se32_new(L);
    return p->se[i] ? LCN_OK : NOMEM();
}

/* Adds the step running p->se[i] on t (made NHWC), in place. */
static lcn_status build_se32(lcn_builder *B, lcn_tensor *t, int i) {
    const lcn_se32 *k = B->p->se[i];
    if (i == __atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST))
        return dn_err(B->err, dnnl_unimplemented, i, "pooling primitive_desc_create");
    dnnl_memory_desc_t want, b8;
    dnnl_dims_t d = {t->n, t->c, t->h, t->w};
    DN(dnnl_memory_desc_init_by_tag(&want, 4, d, dnnl_f32, dnnl_acdb), "kernel md");
    DN(dnnl_memory_desc_init_by_tag(&b8, 4, d, dnnl_f32, dnnl_aBcd8b), "kernel md");
    /* the AVX2 body also works in place on oneDNN's AVX2 layout */
    int blk = k->f1->avx2 && t->c % 8 == 0 && !t->virt && dnnl_memory_desc_equal(&t->md, &b8);
    if (!blk) TRY(ensure(B, t, &want));
    dnnl_memory_t m;
    TRY(tensor_mem(B, t, &m)); /* sizes the slot */
    if (B->for_plan) {
        snprintf(B->p->net.layers[i].impl, sizeof B->p->net.layers[i].impl,
                "lcn_se32:%s (pool, FC + ReLU, FC + gate, scale: one step%s)", KERN_ISA(k->f1),
                blk ? ", nChw8c" : "");
        return LCN_OK;
    }
    lcn_step *st = kern_step(B, i, t, t, k->f1->avx2 ? "lcn_se32:avx2" : "lcn_se32:avx512");
    if (!st) return NOMEM();
    st->se = k;
    st->se_blk = blk;
    st->rows = t->n, st->hw = t->h * t->w;
    lcn_bctx *c = B->c;
    if (!grow((void **)&c->owned, &c->capowned, c->nowned, sizeof *c->owned)) return NOMEM();
    st->scratch = lcn_aligned_alloc(lcn_se32_scratch_bytes(k, t->n));
    if (!st->scratch) return NOMEM();
    c->owned[c->nowned++] = st->scratch;
    return LCN_OK;
}

static lcn_status build_softmax(lcn_builder *B, lcn_tensor *t) {
    TRY(concrete(B, t));
    set_threads_for(B, &t->md);
    dnnl_softmax_desc_t sd;
    DN(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &t->md, 1),
            "softmax_forward_desc_init");
    dnnl_primitive_attr_t a;
    TRY(new_attr(B, NULL, NULL, &a));
    dnnl_primitive_desc_t pd;
    lcn_status rc = pick_pd(B, &sd, a, t, NULL, NULL, 0, "softmax primitive_desc_create", &pd);
    dnnl_primitive_attr_destroy(a);
    if (rc != LCN_OK) return rc;
    dnnl_memory_t ms, md;
    lcn_tensor o = *t;
    rc = tensor_mem(B, t, &ms);
    if (rc == LCN_OK) {
        next_place(B, t, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), &o);
        rc = tensor_mem(B, &o, &md);
    }
    if (rc != LCN_OK) {
        dnnl_primitive_desc_destroy(pd);
        return rc;
    }
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_DST, md}};
    TRY(add_step(B, pd, NULL, 2, args));
    *t = o;
    return LCN_OK;
}

static int input_read_only(const lcn_bctx *c);

static lcn_status build_all(lcn_builder *B) {
    lcn_plan *p = B->p;
    lcn_net *net = &p->net;
    lcn_bctx *c = B->c;
    lcn_tensor t;
    memset(&t, 0, sizeof t);
    int first = B->first;
    t.n = c->n, t.c = net->in_c, t.h = net->in_h, t.w = net->in_w;
    t.virt = 1;
    t.slot = SLOT_IN;
    c->first = first;
    c->in_c = t.c, c->in_hw = t.h * t.w;
    c->in_elems = (size_t)t.c * t.h * t.w;
    if (first > 0) {
        /* the head of a split batch: the n pooled vectors [n][C] are the n
         * pixels of one 1 x n NHWC image, so that every 1x1 conv and FC is
         * one matrix product reading its weights once for the batch */
        const lcn_layer *F = &net->layers[first];
        t.n = 1, t.c = F->ic, t.h = 1, t.w = c->n;
        t.virt = 0;
        dnnl_dims_t d = {1, t.c, 1, t.w};
        DN(dnnl_memory_desc_init_by_tag(&t.md, 4, d, dnnl_f32, dnnl_acdb), "head md");
        c->in_mode = IO_COPY;
        c->in_c = t.c, c->in_hw = 1;
        c->in_elems = (size_t)t.c;
    }
    for (int i = first; i < net->n; i++) {
        lcn_layer *L = &net->layers[i];
        B->layer = i;
        B->tmp_off = 0;
        set_threads(B, p->threads);
        if (L->fused_into >= 0) {
            if (B->for_plan)
                snprintf(L->impl, sizeof L->impl, "post-op of layer %d", L->fused_into);
            continue;
        }
        if (p->dw_in[i] >= 0) continue; /* ran as a post-op of layer dw_in[i] */
        if (p->chain_of[i] >= 0 && p->chain_of[i] != i) continue; /* in the chain of layer chain_of[i] */
        if (p->chain[i]) {
            TRY(build_chain(B, &t, i));
            continue;
        }
        if (i > 0 && p->kern[i - 1]) continue; /* ran in the block kernel of layer i-1 */
        switch (L->d.kind) {
            case LCN_LAYER_CONV: {
                const lcn_layer_desc *d = &L->d;
                lcn_ops ops = {0};
                if (!ops_layer(&ops, net, i))
                    return lcn_err_set(B->err, LCN_ERR_INVALID, i, "too many fused post-ops");
                int has_bias = L->nw[1] > 0;
                lcn_conv cv = {d->out_c, d->kh, d->kw, d->stride_h, d->stride_w, d->pad_t,
                        d->pad_l, d->pad_b, d->pad_r, d->groups, i * 4, has_bias, &ops, NULL,
                        L->tuned, NULL};
                if (i == 0 && B->for_plan && stem_candidate(net)) TRY(decide_stem(B, &t, &cv));
                if (i == 0 && p->stem) {
                    TRY(build_stem(B, &t));
                    break;
                }
                if (B->for_plan && p->dw_in[i] < 0 && fc32_candidate(net, i, &t))
                    TRY(decide_fc32(B, &t, i, &cv));
                if (p->fc[i]) {
                    TRY(build_fc32(B, &t, i));
                    break;
                }
                if (B->for_plan && p->dw_in[i] < 0 && dwpw_candidate(net, i))
                    TRY(decide_dwpw(B, &t, i, &cv));
                if (p->kern[i]) {
                    TRY(build_dwpw(B, &t, i));
                    break;
                }
                if (B->for_plan && dw32_candidate(net, i, &t)) TRY(decide_dw32(B, &t, i, &cv));
                if (p->dw[i]) {
                    TRY(build_dw32(B, &t, i));
                    break;
                }
                lcn_ops dops = {0};
                lcn_dwpo dw = {0};
                int j = B->for_plan ? dw_candidate(net, i) : p->dw_of[i];
                double us_f = 0, us_p = 0;
                if (j >= 0 && ops_layer(&dops, net, j)) {
                    const lcn_layer_desc *e = &net->layers[j].d;
                    dw = (lcn_dwpo){e->kh, e->stride_h, j * 4, &dops};
                    int fuse = 1;
                    if (B->for_plan) TRY(decide_dw_fusion(B, &t, &cv, &dw, j, &fuse, &us_f, &us_p));
                    if (fuse) cv.dw = &dw;
                }
                if (cv.dw && j == __atomic_load_n(&lcn_fail_layer, __ATOMIC_SEQ_CST))
                    return dn_err(B->err, dnnl_unimplemented, j,
                            "convolution primitive_desc_create");
                TRY(build_conv(B, &t, &cv));
                if (cv.dw && B->for_plan) {
                    p->dw_of[i] = j, p->dw_in[j] = i;
                    size_t len = strlen(L->impl);
                    if (us_f > 0)
                        snprintf(L->impl + len, sizeof L->impl - len,
                                " (+ depthwise layer %d as a post-op: %.0f us vs %.0f us apart)",
                                j, us_f, us_p);
                    else
                        snprintf(L->impl + len, sizeof L->impl - len,
                                " (+ depthwise layer %d as a post-op)", j);
                    lcn_layer *D = &net->layers[j];
                    snprintf(D->impl, sizeof D->impl, "fused into previous 1x1 (layer %d)", i);
                }
                break;
            }
            case LCN_LAYER_FC:
                if (B->for_plan && fc32_candidate(net, i, &t)) TRY(decide_fc32(B, &t, i, NULL));
                if (p->fc[i]) {
                    TRY(build_fc32(B, &t, i));
                    break;
                }
                if (first > 0) { /* a 1x1 conv over the batch's pixels */
                    lcn_ops ops = {0};
                    if (!ops_layer(&ops, net, i))
                        return lcn_err_set(B->err, LCN_ERR_INVALID, i, "too many fused post-ops");
                    lcn_conv cv = {L->d.out_c, 1, 1, 1, 1, 0, 0, 0, 0, 1, i * 4, L->nw[1] > 0, &ops,
                            NULL, L->tuned, NULL};
                    TRY(build_conv(B, &t, &cv));
                    break;
                }
                TRY(build_fc(B, &t, i));
                break;
            case LCN_LAYER_SE:
                if (B->for_plan) TRY(decide_se32(B, &t, i));
                if (p->se[i]) {
                    TRY(build_se32(B, &t, i));
                    break;
                }
                TRY(build_se(B, &t, i));
                break;
            case LCN_LAYER_GAP: TRY(build_gap(B, &t, NULL, 0)); break;
            case LCN_LAYER_SOFTMAX: TRY(build_softmax(B, &t)); break;
            case LCN_LAYER_SCALE:
            case LCN_LAYER_ACTIVATION: {
                lcn_ops ops = {0};
                if (L->d.kind == LCN_LAYER_SCALE)
                    ops_push(&ops, dnnl_eltwise_linear, L->d.factor, 0.f);
                else
                    ops_act(&ops, &L->d.act);
                if (ops.n == 0) { /* identity */
                    if (B->for_plan) snprintf(L->impl, sizeof L->impl, "identity");
                    break;
                }
                TRY(build_eltwise(B, &t, &ops));
                break;
            }
            default: return lcn_err_set(B->err, LCN_ERR_INVALID, i, "unknown layer kind");
        }
        if (i == p->split_g && first == 0 && c->n == 1 && !B->for_plan) {
            /* the pooled vector of one image: C contiguous floats in any of
             * these layouts (one image, 1x1) */
            TRY(concrete(B, &t));
            c->body_steps = c->nsteps;
            c->gap_slot = t.slot, c->gap_off = t.off;
            c->gap_ok = t.h == 1 && t.w == 1 &&
                    (md_is_tag(&t.md, dnnl_acdb) || md_is_tag(&t.md, dnnl_abcd) ||
                            md_is_tag(&t.md, dnnl_aBcd16b) || md_is_tag(&t.md, dnnl_aBcd8b));
        }
    }
    /* output in NCHW: copy, transpose from NHWC, or reorder */
    B->layer = net->n - 1;
    set_threads(B, p->threads);
    TRY(concrete(B, &t));
    c->out_c = t.c, c->out_hw = t.h * t.w;
    c->out_elems = (size_t)t.c * t.h * t.w;
    if (first > 0) { /* the head: NHWC pixels are the samples' outputs */
        dnnl_memory_desc_t want;
        dnnl_dims_t d = {1, t.c, 1, t.w};
        DN(dnnl_memory_desc_init_by_tag(&want, 4, d, dnnl_f32, dnnl_acdb), "head md");
        TRY(ensure(B, &t, &want));
        c->out_mode = IO_COPY;
        c->out_hw = 1;
        c->out_elems = (size_t)t.c;
    } else if (md_is_tag(&t.md, dnnl_acdb) && !md_is_tag(&t.md, dnnl_abcd)) {
        c->out_mode = IO_NHWC;
    } else {
        dnnl_memory_desc_t want;
        dnnl_dims_t d = {t.n, t.c, t.h, t.w};
        DN(dnnl_memory_desc_init_by_tag(&want, 4, d, dnnl_f32, dnnl_abcd), "output md");
        TRY(ensure(B, &t, &want));
        c->out_mode = IO_COPY;
    }
    c->out_slot = t.slot, c->out_off = t.off;
    /* make sure the staging/output views exist for sizing */
    dnnl_memory_t m;
    TRY(tensor_mem(B, &t, &m));
    if (c->slot_size[SLOT_IN] < c->in_elems * c->n * sizeof(float))
        c->slot_size[SLOT_IN] = c->in_elems * c->n * sizeof(float);
    if (B->for_plan) return LCN_OK;
    for (int s = 0; s < NSLOTS; s++) {
        c->slot[s] = lcn_aligned_alloc(c->slot_size[s]);
        if (!c->slot[s]) return NOMEM();
    }
    for (int k = 0; k < c->nbinds; k++)
        DN(dnnl_memory_set_data_handle(c->binds[k].m, (char *)c->slot[c->binds[k].slot] +
                                                              c->binds[k].off),
                "memory_set_data_handle");
    c->in_direct = c->in_mode == IO_COPY && input_read_only(c) && !lcn_env_off("LCNET_NO_DIRECT_INPUT");
    return LCN_OK;
}

/* Is SLOT_IN read only through oneDNN memories (no kernel of the engine's
 * reads or writes it) and never written (no oneDNN destination there)? Then
 * the steps may read the caller's input where it is, instead of a copy. */
static int input_read_only(const lcn_bctx *c) {
    for (int i = 0; i < c->nsteps; i++) {
        const lcn_step *st = &c->steps[i];
        if (!st->prim) { /* the engine's kernels read the slot itself, not a view */
            if (st->src_slot == SLOT_IN || st->dst_slot == SLOT_IN) return 0;
            continue;
        }
        for (int a = 0; a < st->nargs; a++) {
            if (st->args[a].arg != DNNL_ARG_DST) continue;
            for (int k = 0; k < c->nbinds; k++)
                if (c->binds[k].m == st->args[a].memory && c->binds[k].slot == SLOT_IN) return 0;
        }
    }
    return 1;
}

static void bctx_free(lcn_bctx *c) {
    if (!c) return;
    for (int i = 0; i < c->nsteps; i++)
        if (c->steps[i].prim) dnnl_primitive_destroy(c->steps[i].prim);
    for (int i = 0; i < c->nmems; i++) dnnl_memory_destroy(c->mems[i]);
    for (int i = 0; i < c->nowned; i++) free(c->owned[i]);
    for (int s = 0; s < NSLOTS; s++) free(c->slot[s]);
    free(c->stage);
    free(c->body_prof);
    free(c->steps);
    free(c->mems);
    free(c->binds);
    free(c->owned);
    free(c);
}

/* ------------------------------------------------------------------ */
/* plan */

lcn_status lcn_plan_create(int in_c, int in_h, int in_w, int threads, lcn_plan **out,
        lcn_error *err) {
    if (!out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil output pointer");
    *out = NULL;
    if (in_c <= 0 || in_h <= 0 || in_w <= 0)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "input shape %dx%dx%d", in_c, in_h, in_w);
    if (threads <= 0 || threads > 1024)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "threads %d out of range", threads);
    lcn_plan *p = calloc(1, sizeof *p);
    if (!p) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    p->net.in_c = in_c, p->net.in_h = in_h, p->net.in_w = in_w;
    p->threads = threads;
    p->refs = 1;
    dnnl_status_t s = dnnl_engine_create(&p->eng, dnnl_cpu, 0);
    if (s != dnnl_success) {
        free(p);
        return dn_err(err, s, -1, "engine_create");
    }
    lcn_live_add(1);
    *out = p;
    return LCN_OK;
}

static void plan_free(lcn_plan *p) {
    if (p->wts)
        for (int i = 0; i < p->net.n * 4; i++) free(p->wts[i].data);
    free(p->wts);
    free(p->dw_of);
    free(p->dw_in);
    if (p->kern)
        for (int i = 0; i < p->net.n; i++) lcn_dwpw_free(p->kern[i]);
    if (p->chain)
        for (int i = 0; i < p->net.n; i++) lcn_chain_free(p->chain[i]);
    if (p->spare)
        for (int i = 0; i < p->net.n; i++) lcn_dwpw_free(p->spare[i]);
    if (p->fc)
        for (int i = 0; i < p->net.n; i++) lcn_fc32_free(p->fc[i]);
    free(p->fc);
    if (p->dw)
        for (int i = 0; i < p->net.n; i++) lcn_dw32_free(p->dw[i]);
    free(p->dw);
    if (p->se)
        for (int i = 0; i < p->net.n; i++) lcn_se32_free(p->se[i]);
    free(p->se);
    lcn_stem_free(p->stem);
    free(p->kern);
    free(p->pair_us);
    free(p->chain);
    free(p->chain_of);
    free(p->spare);
    lcn_net_free(&p->net);
    if (p->eng) dnnl_engine_destroy(p->eng);
    free(p);
    lcn_live_add(-1);
}

static void plan_unref(lcn_plan *p) {
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) plan_free(p);
}

/* The last global average pool when everything after it works on one value
 * per channel and nothing after it is fused into a layer before it (-1
 * otherwise): see lcn_plan.split_g. */
static int split_point(const lcn_net *net) {
    int g = -1;
    for (int i = 0; i < net->n; i++)
        if (net->layers[i].d.kind == LCN_LAYER_GAP) g = i;
    if (g < 0 || g == net->n - 1) return -1;
    for (int i = g + 1; i < net->n; i++) {
        const lcn_layer *L = &net->layers[i];
        if (L->fused_into >= 0 && L->fused_into <= g) return -1;
        switch (L->d.kind) {
            case LCN_LAYER_CONV:
                if (L->ih != 1 || L->iw != 1 || L->oh != 1 || L->ow != 1) return -1;
                break;
            case LCN_LAYER_FC:
            case LCN_LAYER_SOFTMAX:
            case LCN_LAYER_SCALE:
            case LCN_LAYER_ACTIVATION: break;
            default: return -1;
        }
    }
    return g;
}

lcn_status lcn_plan_finalize(lcn_plan *p, lcn_error *err) {
    if (!p) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil plan");
    if (p->finalized) return lcn_err_set(err, LCN_ERR_STATE, -1, "plan already finalized");
    if (p->net.n == 0) return lcn_err_set(err, LCN_ERR_INVALID, -1, "network has no layers");
    lcn_net *net = &p->net;
    /* act/scale layers right after a conv/fc become its post-ops */
    for (int i = 0; i < net->n; i++) {
        int k = net->layers[i].d.kind;
        if (k != LCN_LAYER_CONV && k != LCN_LAYER_FC) continue;
        lcn_ops ops = {0};
        if (!ops_act(&ops, &net->layers[i].d.act)) continue;
        for (int j = i + 1; j < net->n; j++) {
            lcn_ops next = ops;
            if (!ops_fuse(&next, &net->layers[j].d)) break;
            ops = next;
            net->layers[j].fused_into = i;
        }
    }
    p->wts = calloc((size_t)net->n * 4, sizeof *p->wts);
    p->dw_of = malloc((size_t)net->n * sizeof *p->dw_of);
    p->dw_in = malloc((size_t)net->n * sizeof *p->dw_in);
    p->kern = calloc((size_t)net->n, sizeof *p->kern);
    p->pair_us = calloc((size_t)net->n, sizeof *p->pair_us);
    p->chain = calloc((size_t)net->n, sizeof *p->chain);
    p->chain_of = malloc((size_t)net->n * sizeof *p->chain_of);
    p->spare = calloc((size_t)net->n, sizeof *p->spare);
    p->fc = calloc((size_t)net->n, sizeof *p->fc);
    p->se = calloc((size_t)net->n, sizeof *p->se);
    p->dw = calloc((size_t)net->n, sizeof *p->dw);
    if (!p->wts || !p->dw_of || !p->dw_in || !p->kern || !p->pair_us || !p->chain || !p->chain_of ||
            !p->spare || !p->fc || !p->se || !p->dw)
        return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    for (int i = 0; i < net->n; i++) p->dw_of[i] = p->dw_in[i] = p->chain_of[i] = -1;
    p->split_g = split_point(net);
    int saved = omp_get_max_threads();
    omp_set_num_threads(p->threads);
    lcn_status rc = LCN_OK;
    lcn_bctx *c = calloc(1, sizeof *c);
    dnnl_stream_t strm = NULL;
    if (!c) rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    if (rc == LCN_OK) {
        dnnl_status_t s = dnnl_stream_create(&strm, p->eng, dnnl_stream_default_flags);
        if (s != dnnl_success) rc = dn_err(err, s, -1, "stream_create");
    }
    if (rc == LCN_OK) {
        c->n = 1;
        lcn_builder B = {p, c, strm, 1, -1, 0, err, p->threads};
        rc = build_all(&B);
        if (rc == LCN_OK) rc = decide_chains(p, err);
    }
    bctx_free(c);
    if (strm) dnnl_stream_destroy(strm);
    omp_set_num_threads(saved);
    lcn_net_free_weights(net); /* what was not moved into p->wts */
    if (rc == LCN_OK) p->finalized = 1;
    return rc;
}

lcn_status lcn_plan_build(lcn_plan *p, int n, const lcn_layer_desc *d, const float *const *w,
        const size_t *nw, lcn_error *err) {
    if (!p || (n > 0 && (!d || !w || !nw))) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil argument");
    if (p->finalized) return lcn_err_set(err, LCN_ERR_STATE, -1, "plan already finalized");
    if (p->net.n != 0) return lcn_err_set(err, LCN_ERR_STATE, -1, "plan already has layers");
    lcn_status rc = LCN_OK;
    for (int i = 0; i < n && rc == LCN_OK; i++) rc = lcn_net_add(&p->net, &d[i], w + 4 * (size_t)i, nw + 4 * (size_t)i, 1, err);
    if (rc == LCN_OK) rc = lcn_plan_finalize(p, err);
    lcn_net_free_weights(&p->net); /* no pointer to the caller's arrays stays, whatever happened */
    return rc;
}

lcn_status lcn_plan_output_shape(const lcn_plan *p, int *c, int *h, int *w) {
    if (!p || !c || !h || !w) return LCN_ERR_INVALID;
    lcn_net_shape(&p->net, c, h, w);
    return LCN_OK;
}

lcn_status lcn_plan_layer_impl(const lcn_plan *p, int i, const char **out) {
    if (!p || !out || i < 0 || i >= p->net.n) return LCN_ERR_INVALID;
    *out = p->net.layers[i].impl;
    return LCN_OK;
}

lcn_status lcn_plan_destroy(lcn_plan *p) {
    if (p) plan_unref(p);
    return LCN_OK;
}

/* ------------------------------------------------------------------ */
/* instance */

lcn_status lcn_inst_create(lcn_plan *p, lcn_inst **out, lcn_error *err) {
    if (!p || !out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil plan or output");
    *out = NULL;
    if (!p->finalized) return lcn_err_set(err, LCN_ERR_STATE, -1, "plan not finalized");
    omp_set_num_threads(p->threads);
    lcn_inst *s = calloc(1, sizeof *s);
    if (!s) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    dnnl_status_t st = dnnl_stream_create(&s->strm, p->eng, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        free(s);
        return dn_err(err, st, -1, "stream_create");
    }
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
    s->plan = p;
    lcn_live_add(1);
    *out = s;
    return LCN_OK;
}

/* Bytes of the weights the next layers read that a thread of an lcn_fc32
 * step prefetches into its L2 (link_prefetch): the step streams its own
 * weights a panel (at most 64 columns) at a time, so that most of the 2 MiB
 * stays free. */
enum { LCN_PF_NEAR = 1 << 20, LCN_PF_QUEUE = 32 };

/* Weights waiting for a step to prefetch them (link_prefetch): k's, split
 * into parts of at most size bytes. */
typedef struct pf_need {
    const lcn_fc32 *k;
    int parts;
    size_t size;
} pf_need;

/* Steps bound by reading their weights from L3 or memory (an lcn_fc32
 * step over a few rows: batch 1's head; an lcn_se32 step's two FCs) have
 * the first LCN_PF_NEAR bytes a thread reads prefetched into L2 by the
 * nearest lcn_fc32 step over many rows before them (bound by arithmetic):
 * x2.0 at 1 thread, blocks6.1's SE 159 -> 114 us, last_conv 318 -> 281, the
 * donors 10-14 us slower (lcnet-bench layers, medians of 4 alternating
 * runs). Earlier steps prefetching the rest (to L3: at x2.0 the head's 10 MB
 * come from memory) cost them as much as it saved: their own inputs and
 * weights then leave L2. LCNET_NO_L2PF=1 turns it off. */
static void link_prefetch(lcn_bctx *c) {
    if (lcn_env_off("LCNET_NO_L2PF")) return;
    pf_need q[LCN_PF_QUEUE]; /* the targets' weights up to the next later donor, in the order read */
    int nq = 0;
    for (int i = c->nsteps - 1; i >= 0; i--) {
        lcn_step *st = &c->steps[i];
        const lcn_fc32 *tk[2];
        int ntk = 0, parts = 1;
        if (st->fc && st->rows <= FC32_FEW_ROWS)
            tk[ntk++] = st->fc, parts = lcn_fc32_parts(st->fc, st->rows, st->nthr);
        else if (st->se)
            tk[ntk++] = st->se->f1, tk[ntk++] = st->se->f2, parts = st->nthr;
        if (ntk) {
            if (nq > LCN_PF_QUEUE - ntk) nq = LCN_PF_QUEUE - ntk; /* the last read wait longest */
            memmove(q + ntk, q, sizeof *q * (size_t)nq);
            for (int j = 0; j < ntk; j++) q[j] = (pf_need){tk[j], parts, lcn_fc32_part_bytes(tk[j], parts)};
            nq += ntk;
            continue;
        }
        if (!st->fc || st->fc->avx2 || st->rows < 24) continue; /* AVX2: no prefetching in the body */
        size_t budget = LCN_PF_NEAR; /* bytes a thread prefetches */
        for (int j = 0; j < nq && st->npf < LCN_PF_MAX; j++) {
            /* w bytes of each part cost each thread w parts / nthr */
            size_t take = budget * (size_t)st->nthr / (size_t)q[j].parts / 64 * 64;
            if (take < 4096) break;
            if (take > q[j].size) take = q[j].size;
            st->pf[st->npf++] = (lcn_pf){q[j].k, q[j].parts, take};
            budget -= take * (size_t)q[j].parts / (size_t)st->nthr;
        }
        nq = 0;
    }
}

static lcn_status inst_ctx(lcn_inst *s, int n, int first, lcn_bctx **out, lcn_error *err) {
    for (lcn_bctx *c = s->ctxs; c; c = c->next)
        if (c->n == n && c->first == first) {
            *out = c;
            return LCN_OK;
        }
    lcn_bctx *c = calloc(1, sizeof *c);
    if (!c) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    c->n = n;
    lcn_builder B = {s->plan, c, s->strm, 0, -1, 0, err, s->plan->threads, first};
    lcn_status rc = build_all(&B);
    if (rc == LCN_OK) link_prefetch(c);
    if (rc == LCN_OK && first > 0) {
        c->stage = lcn_aligned_alloc((size_t)n * c->in_elems * sizeof(float));
        if (!c->stage) rc = lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
    }
    omp_set_num_threads(s->plan->threads);
    if (rc != LCN_OK) {
        bctx_free(c);
        return rc;
    }
    c->next = s->ctxs;
    s->ctxs = c;
    *out = c;
    return LCN_OK;
}

/* Points c's memories of SLOT_IN at base (the caller's input during a run,
 * or the slot again after it: C keeps no pointer to the caller's memory).
 * Setting a handle is a pointer store for these plain layouts. */
static void in_views(lcn_bctx *c, const float *base) {
    for (int k = 0; k < c->nbinds; k++)
        if (c->binds[k].slot == SLOT_IN)
            dnnl_memory_set_data_handle(c->binds[k].m, (char *)base + c->binds[k].off);
}

/* After a run: c's views of the input back on its own slot. */
static void in_release(lcn_bctx *c) {
    if (c->in_mode == IO_COPY && c->in_direct) in_views(c, c->slot[SLOT_IN]);
}

/* Copies the input of batch samples into context c (transposed to NHWC
 * when its first step wants that), or points its steps at it (in_direct). */
static void copy_in(const lcn_inst *s, lcn_bctx *c, const float *in, int batch) {
    size_t len = c->in_elems * (size_t)batch;
    if (c->in_mode == IO_NHWC)
        lcn_nchw_to_nhwc(in, c->slot[SLOT_IN], batch, c->in_c, c->in_hw,
                len * sizeof(float) < LCN_COPY_PAR_BYTES ? 1 : s->plan->threads);
    else if (c->in_mode == IO_COPY && c->in_direct)
        in_views(c, in);
    else if (c->in_mode == IO_COPY)
        memcpy(c->slot[SLOT_IN], in, len * sizeof(float));
}

/* Runs steps [from, to) of c; in is the caller's input (for a first step
 * that reads it directly). prof: add each step's time to acc[i - from] (or
 * to the step's own sum when acc is NULL), *tp the clock before. */
static lcn_status run_steps(lcn_inst *s, lcn_bctx *c, const float *in, int batch, int from, int to,
        int prof, double *acc, double *tp, lcn_error *err) {
    int nthr = s->plan->threads;
    for (int i = from; i < to; i++) {
        lcn_step *st = &c->steps[i];
        if (st->nthr != nthr) omp_set_num_threads(nthr = st->nthr);
        if (st->stem) {
            lcn_stem_run(st->stem, in, (float *)((char *)c->slot[st->dst_slot] + st->dst_off), batch,
                    st->nthr);
        } else if (st->kern) {
            lcn_dwpw_run(st->kern, (const float *)((char *)c->slot[st->src_slot] + st->src_off),
                    (float *)((char *)c->slot[st->dst_slot] + st->dst_off), batch, st->nthr);
        } else if (st->se) {
            lcn_se32_run(st->se, (float *)((char *)c->slot[st->src_slot] + st->src_off), st->rows, st->hw,
                    st->se_blk, st->nthr, st->scratch);
        } else if (st->dw) {
            lcn_dw32_run(st->dw, (const float *)((char *)c->slot[st->src_slot] + st->src_off),
                    (float *)((char *)c->slot[st->dst_slot] + st->dst_off), batch, st->nthr, st->scratch);
        } else if (st->fc && st->fc_blk) {
            lcn_fc32_run_blk(st->fc, (const float *)((char *)c->slot[st->src_slot] + st->src_off),
                    (float *)((char *)c->slot[st->dst_slot] + st->dst_off), st->rows, st->hw, st->nthr);
        } else if (st->fc) {
            lcn_fc32_run_pf(st->fc, (const float *)((char *)c->slot[st->src_slot] + st->src_off),
                    (float *)((char *)c->slot[st->dst_slot] + st->dst_off), st->rows, st->nthr, st->pf, st->npf);
        } else if (st->chain) {
            lcn_chain_run(st->chain, (const float *)((char *)c->slot[st->src_slot] + st->src_off),
                    (float *)((char *)c->slot[st->dst_slot] + st->dst_off), batch, st->nthr, st->scratch);
        } else {
            dnnl_status_t e = dnnl_primitive_execute(st->prim, s->strm, st->nargs, st->args);
            if (e != dnnl_success) {
                omp_set_num_threads(s->plan->threads);
                return dn_err(err, e, st->layer, "primitive_execute");
            }
        }
        if (prof) {
            double t = lcn_now();
            if (acc)
                acc[i - from] += t - *tp;
            else
                st->prof_s += t - *tp;
            *tp = t;
        }
    }
    if (nthr != s->plan->threads) omp_set_num_threads(s->plan->threads);
    dnnl_status_t e = dnnl_stream_wait(s->strm);
    if (e != dnnl_success) return dn_err(err, e, -1, "stream_wait");
    return LCN_OK;
}

/* The output of context c, batch samples, to the caller's NCHW buffer. */
static void copy_out(const lcn_inst *s, const lcn_bctx *c, float *out, int batch) {
    size_t len = c->out_elems * (size_t)batch;
    const float *res = (const float *)((char *)c->slot[c->out_slot] + c->out_off);
    if (c->out_mode == IO_NHWC)
        lcn_nhwc_to_nchw(res, out, batch, c->out_c, c->out_hw,
                len * sizeof(float) < LCN_COPY_PAR_BYTES ? 1 : s->plan->threads);
    else
        memcpy(out, res, len * sizeof(float));
}

/* A split batch: the layers up to the pool image by image in the batch-1
 * context c1, the pooled vectors gathered in the head context's stage, the
 * rest as one batch. */
static lcn_status run_split(lcn_inst *s, lcn_bctx *c1, lcn_bctx *ch, const float *in, int batch,
        float *out, lcn_error *err) {
    const int prof = s->profile;
    if (prof && !ch->body_prof) {
        ch->body_prof = calloc((size_t)c1->body_steps + 1, sizeof *ch->body_prof);
        if (!ch->body_prof) return lcn_err_set(err, LCN_ERR_NOMEM, -1, "out of memory");
        ch->nbody = c1->body_steps;
    }
    size_t C = ch->in_elems;
    double tp = prof ? lcn_now() : 0;
    for (int b = 0; b < batch; b++) {
        const float *img = in + (size_t)b * c1->in_elems;
        copy_in(s, c1, img, 1);
        if (prof) {
            double t = lcn_now();
            ch->prof_io_s += t - tp;
            tp = t;
        }
        lcn_status rc = run_steps(s, c1, img, 1, 0, c1->body_steps, prof, ch->body_prof, &tp, err);
        in_release(c1);
        if (rc != LCN_OK) return rc;
        memcpy(ch->stage + (size_t)b * C, (char *)c1->slot[c1->gap_slot] + c1->gap_off, C * sizeof(float));
    }
    copy_in(s, ch, ch->stage, batch);
    lcn_status rc = run_steps(s, ch, ch->stage, batch, 0, ch->nsteps, prof, NULL, &tp, err);
    in_release(ch);
    if (rc != LCN_OK) return rc;
    copy_out(s, ch, out, batch);
    if (prof) {
        ch->prof_io_s += lcn_now() - tp;
        ch->prof_runs++;
    }
    return LCN_OK;
}

lcn_status lcn_inst_run(lcn_inst *s, const float *in, size_t in_len, int batch, float *out,
        size_t out_len, lcn_error *err) {
    if (!s || !in || !out) return lcn_err_set(err, LCN_ERR_INVALID, -1, "nil argument");
    if (batch <= 0) return lcn_err_set(err, LCN_ERR_INVALID, -1, "batch %d", batch);
    omp_set_num_threads(s->plan->threads);
    lcn_bctx *c = NULL;
    lcn_status rc;
    if (batch > 1 && s->plan->split_g >= 0 && __atomic_load_n(&lcn_split_mode, __ATOMIC_SEQ_CST)) {
        lcn_bctx *c1 = NULL, *ch = NULL;
        if ((rc = inst_ctx(s, 1, 0, &c1, err)) != LCN_OK) return rc;
        if (c1->gap_ok) {
            if ((rc = inst_ctx(s, batch, s->plan->split_g + 1, &ch, err)) != LCN_OK) return rc;
            if (in_len != c1->in_elems * batch || out_len != ch->out_elems * batch)
                return lcn_err_set(err, LCN_ERR_INVALID, -1, "in/out length %zu/%zu, want %zu/%zu",
                        in_len, out_len, c1->in_elems * batch, ch->out_elems * batch);
            return run_split(s, c1, ch, in, batch, out, err);
        }
    }
    if ((rc = inst_ctx(s, batch, 0, &c, err)) != LCN_OK) return rc;
    if (in_len != c->in_elems * batch || out_len != c->out_elems * batch)
        return lcn_err_set(err, LCN_ERR_INVALID, -1, "in/out length %zu/%zu, want %zu/%zu",
                in_len, out_len, c->in_elems * batch, c->out_elems * batch);
    const int prof = s->profile;
    double tp = prof ? lcn_now() : 0;
    copy_in(s, c, in, batch);
    if (prof) {
        double t = lcn_now();
        c->prof_io_s += t - tp;
        tp = t;
    }
    rc = run_steps(s, c, in, batch, 0, c->nsteps, prof, NULL, &tp, err);
    in_release(c);
    if (rc != LCN_OK) return rc;
    copy_out(s, c, out, batch);
    if (prof) {
        c->prof_io_s += lcn_now() - tp;
        c->prof_runs++;
    }
    return LCN_OK;
}

lcn_status lcn_inst_set_profile(lcn_inst *s, int on) {
    if (!s) return LCN_ERR_INVALID;
    s->profile = on != 0;
    for (lcn_bctx *c = s->ctxs; c; c = c->next) {
        c->prof_runs = 0;
        c->prof_io_s = 0;
        for (int i = 0; i < c->nsteps; i++) c->steps[i].prof_s = 0;
        if (c->body_prof) memset(c->body_prof, 0, (size_t)c->nbody * sizeof *c->body_prof);
    }
    return LCN_OK;
}

static const lcn_bctx *find_ctx(const lcn_inst *s, int n, int split) {
    for (const lcn_bctx *c = s->ctxs; c; c = c->next)
        if (c->n == n && (c->first > 0) == split) return c;
    return NULL;
}

lcn_status lcn_inst_profile(const lcn_inst *s, int batch, int i, int *layer, char *what,
        size_t whatcap, double *sec, long *runs) {
    if (!s || !layer || !what || !sec || !runs || i < 0) return LCN_ERR_INVALID;
    /* a split batch: the body steps (batch-1 context, summed over the
     * images), then the head's steps, then the copies */
    const lcn_bctx *ch = find_ctx(s, batch, 1), *c1 = find_ctx(s, 1, 0), *c = find_ctx(s, batch, 0);
    if (ch && c1 && ch->body_prof && (!c || ch->prof_runs > 0)) {
        *runs = ch->prof_runs;
        if (i < ch->nbody) {
            *layer = c1->steps[i].layer;
            snprintf(what, whatcap, "%s", c1->steps[i].what);
            *sec = ch->body_prof[i];
            return LCN_OK;
        }
        i -= ch->nbody;
        c = ch;
    }
    if (!c) return LCN_ERR_INVALID;
    *runs = c->prof_runs;
    if (i == c->nsteps) { /* the input and output copies */
        *layer = -1;
        snprintf(what, whatcap, "input/output copies");
        *sec = c->prof_io_s;
        return LCN_OK;
    }
    if (i > c->nsteps) return LCN_ERR_INVALID;
    *layer = c->steps[i].layer;
    snprintf(what, whatcap, "%s", c->steps[i].what);
    *sec = c->steps[i].prof_s;
    return LCN_OK;
}

lcn_status lcn_inst_destroy(lcn_inst *s) {
    if (!s) return LCN_OK;
    while (s->ctxs) {
        lcn_bctx *n = s->ctxs->next;
        bctx_free(s->ctxs);
        s->ctxs = n;
    }
    dnnl_stream_destroy(s->strm);
    plan_unref(s->plan);
    free(s);
    lcn_live_add(-1);
    return LCN_OK;
}
