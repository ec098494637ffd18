/*
 * lcn.h: a small plain C API over oneDNN for chains of CNN layers
 * (PP-LCNet and friends). Used by the Go package dnn through cgo.
 *
 * Objects (opaque, create/destroy pairs):
 *   lcn_plan  a validated network whose weights lcn_plan_build read in
 *             place and packed or reordered once into C memory, in the
 *             layouts the kernels want. Read-only after finalize; shared by
 *             instances. Reference counted: lcn_plan_destroy drops the
 *             caller's reference, each instance holds one more.
 *   lcn_inst  per running instance state: stream, activations, scratchpad
 *             and primitives (built lazily per batch size). One thread at a
 *             time; with threads > 1, create, run and destroy it on the
 *             same OS thread (with 1 thread any OS thread will do).
 *
 * Every function returns an lcn_status. When it is not LCN_OK and err is not
 * NULL, *err (owned by the caller) says what failed. All memory handed to
 * oneDNN is 64-byte-aligned memory owned by this library; pointers passed in
 * are only read or written during the call and never kept.
 *
 * Layouts at the boundary: input NCHW float32, output NCHW float32
 * (N x C x H x W), weights as in PyTorch (OIHW, groups outermost).
 */
#ifndef LCN_H
#define LCN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lcn_status {
    LCN_OK = 0,
    LCN_ERR_INVALID = 1, /* bad argument or network description */
    LCN_ERR_NOMEM = 2,   /* allocation failed */
    LCN_ERR_DNNL = 3,    /* oneDNN returned an error: see lcn_error */
    LCN_ERR_VERSION = 4, /* the oneDNN library loaded is not the one built for */
    LCN_ERR_STATE = 5,   /* call out of order (e.g. add after finalize) */
} lcn_status;

/* Error details, filled by a failing call. Owned by the caller. */
typedef struct lcn_error {
    int dnnl_status;      /* dnnl_status_t when code is LCN_ERR_DNNL, else 0 */
    int layer;            /* index of the layer being built, -1 if none */
    char status_name[32]; /* dnnl_status2str(dnnl_status), "" if none */
    char msg[224];        /* what failed, e.g. "convolution primitive_desc_create" */
} lcn_error;

typedef enum lcn_act_kind {
    LCN_ACT_NONE = 0,
    LCN_ACT_RELU = 1,
    LCN_ACT_HARDSWISH = 2,   /* x * clip(x/6 + 0.5, 0, 1); alpha, beta unused */
    LCN_ACT_HARDSIGMOID = 3, /* clip(alpha*x + beta, 0, 1) */
    LCN_ACT_SIGMOID = 4,     /* 1 / (1 + exp(-x)) */
} lcn_act_kind;

typedef struct lcn_act {
    int kind; /* lcn_act_kind */
    float alpha, beta;
} lcn_act;

typedef enum lcn_layer_kind {
    LCN_LAYER_CONV = 1,       /* grouped 2-D convolution + bias + act */
    LCN_LAYER_SE = 2,         /* squeeze-excite, in place */
    LCN_LAYER_GAP = 3,        /* global average pool C x H x W -> C x 1 x 1 */
    LCN_LAYER_FC = 4,         /* fully connected (C*H*W) -> out_c, + bias + act */
    LCN_LAYER_SOFTMAX = 5,    /* softmax over C */
    LCN_LAYER_SCALE = 6,      /* multiply by factor */
    LCN_LAYER_ACTIVATION = 7, /* standalone act */
} lcn_layer_kind;

/* One layer of the chain. Plain values only; weights are passed separately. */
typedef struct lcn_layer_desc {
    int kind; /* lcn_layer_kind */
    /* CONV: in_c must equal the input channels; out_c, kernel, strides,
     * pads (top, left, bottom, right), groups (in_c and out_c divisible).
     * FC: in_c = C*H*W of the input, out_c outputs. SE: in_c = channels. */
    int in_c, out_c, kh, kw, stride_h, stride_w;
    int pad_t, pad_l, pad_b, pad_r, groups;
    lcn_act act;    /* CONV, FC, ACTIVATION */
    int se_reduce;  /* SE: reduced channels R */
    lcn_act gate;   /* SE: gate act (usually HARDSIGMOID) */
    float factor;   /* SCALE */
} lcn_layer_desc;

/* Checks that the oneDNN library loaded matches the headers this file was
 * compiled with (major.minor) and that a CPU engine can be created.
 * Call once before anything else; cheap to call again. */
lcn_status lcn_init(lcn_error *err);

typedef struct lcn_plan lcn_plan;
typedef struct lcn_inst lcn_inst;

/* Number of live plans + instances (objects created and not yet freed). */
lcn_status lcn_live_handles(int64_t *out);

/* oneDNN version "major.minor.patch" (+ " (commit)" when known) and the ISA its JIT uses
 * (e.g. "avx512_core_bf16"). *out is static: never free it. */
lcn_status lcn_version(const char **out);
lcn_status lcn_isa(const char **out);

/* lcn_kernel_isa: the instruction set the engine's own fp32 kernel name
 * ("lcn_dwpw", "lcn_chain", "lcn_stem", "lcn_dw32", "lcn_fc32", "lcn_se32")
 * runs with on this CPU ("avx512", "avx2"), or "" when it does not run and
 * oneDNN's primitives take its layers. */
const char *lcn_kernel_isa(const char *name);

/* Creates an empty plan for input in_c x in_h x in_w (per sample) whose
 * primitives use `threads` OpenMP threads. On success *out owns one
 * reference: drop it with lcn_plan_destroy. */
lcn_status lcn_plan_create(int in_c, int in_h, int in_w, int threads,
        lcn_plan **out, lcn_error *err);

/* Builds the batch-1 primitive descriptors, picks implementations (timing
 * the candidate depthwise kernels) and reorders every weight once into its
 * final layout. Sets the calling OS thread's OpenMP thread count to the
 * plan's for the duration of the call; with threads > 1 this leaves a
 * libgomp pool on the calling thread, so call it on a thread that ends. */
lcn_status lcn_plan_finalize(lcn_plan *p, lcn_error *err);

/* Adds n layers, then lcn_plan_finalize, in one call: layer i is d[i] with
 * weights w[4i..4i+3] of nw[4i..4i+3] floats (w, b, w2, b2). Lengths are
 * checked:
 *   CONV: w = out_c*(in_c/groups)*kh*kw (OIHW), b = 0 or out_c
 *   FC:   w = out_c*in_c ([out][in]),           b = 0 or out_c
 *   SE:   w = R*C ([R][C]), b = 0 or R, w2 = C*R ([C][R]), b2 = 0 or C
 *   others: all lengths 0. Unused pointers may be NULL.
 * The arrays are read during the call only, without being copied first:
 * the plan keeps its own packed or reordered copies and no pointer into
 * them once the call returns, whatever it returns. The plan must have no
 * layers yet. */
lcn_status lcn_plan_build(lcn_plan *p, int n, const lcn_layer_desc *d, const float *const *w,
        const size_t *nw, lcn_error *err);

/* Per-sample output shape (valid after finalize). */
lcn_status lcn_plan_output_shape(const lcn_plan *p, int *c, int *h, int *w);

/* Implementation names chosen for layer i at batch 1, e.g.
 * "jit_dw:avx512_core" or "pool=jit:avx512_core fc1=..."; "" before
 * finalize. *out points into the plan: valid until the plan is freed. */
lcn_status lcn_plan_layer_impl(const lcn_plan *p, int i, const char **out);

/* Drops the creator's reference (call once); the plan is freed when no
 * instance holds it any more. NULL is a no-op. */
lcn_status lcn_plan_destroy(lcn_plan *p);

/* Creates an instance of a finalized plan (takes a plan reference).
 * With threads > 1, call it on the OS thread that will run and destroy it. */
lcn_status lcn_inst_create(lcn_plan *p, lcn_inst **out, lcn_error *err);

/* Runs one inference: in holds batch x C x H x W floats (NCHW), out receives
 * batch x prod(output shape). in and out are used during the call only.
 * Primitives for a new batch size are built on first use and cached. */
lcn_status lcn_inst_run(lcn_inst *s, const float *in, size_t in_len, int batch,
        float *out, size_t out_len, lcn_error *err);

/* Frees the instance and its plan reference. NULL is a no-op. */
/* Profiling: lcn_inst_set_profile turns the timing of every step of every
 * run on or off (and zeroes what was summed). lcn_inst_profile reads step i
 * of the runs with batch size batch: the layer it belongs to, what runs
 * ("tag=impl" of a oneDNN primitive, or a kernel's name), the seconds summed
 * and the number of profiled runs. Step i == number of steps is the input
 * and output copies (layer -1); beyond that LCN_ERR_INVALID. */
lcn_status lcn_inst_set_profile(lcn_inst *s, int on);
lcn_status lcn_inst_profile(const lcn_inst *s, int batch, int i, int *layer, char *what,
        size_t whatcap, double *sec, long *runs);
lcn_status lcn_inst_destroy(lcn_inst *s);

/* lcn_release_omp_pool frees the calling OS thread's OpenMP thread pool; a
 * thread calls it when it will run no more inference work (see
 * lcn_common.c). */
void lcn_release_omp_pool(void);

/* Testing only: makes building layer `layer` fail as if oneDNN had no
 * implementation for it (-1 turns it off). Process-wide. */
lcn_status lcn_test_fail_layer(int layer);

/* Testing only: whether lcn_plan_finalize fuses a depthwise conv into the
 * 1x1 conv before it: -1 when timing says so (the default), 0 never, 1
 * whenever oneDNN implements the fusion. Process-wide. */
lcn_status lcn_test_dw_fusion(int mode);

/* Testing only: whether lcn_plan_finalize runs a depthwise conv and the 1x1
 * conv after it as one fused kernel: -1 when timing says so (the default),
 * 0 never, 1 whenever the kernel supports the pair. Process-wide. */
lcn_status lcn_test_dwpw(int mode);
lcn_status lcn_test_chain(int mode);
lcn_status lcn_test_split(int mode);

/* Testing only: whether lcn_plan_finalize runs the first conv as a kernel
 * reading the NCHW input directly: -1 when timing says so (the default), 0
 * never, 1 whenever the kernel supports the layer. Process-wide. */
lcn_status lcn_test_stem(int mode);
/* Testing only: whether lcn_plan_finalize runs FC layers and 1x1 convs over
 * few pixels as lcn_fc32 kernels: -1 when timing says so (the default), 0
 * never, 1 whenever the kernel applies. Process-wide. */
lcn_status lcn_test_fc32(int mode);
/* Testing only: whether lcn_fc32 prefetches its next panel non-temporally
 * (on, the default unless LCNET_NO_NTA=1) or into L2. Process-wide, read at
 * run time. */
void lcn_test_fc32_nta(int on);
/* Testing only: whether the fused depthwise + 1x1 kernels prefetch the input
 * rows of the next output row (on, the default unless LCNET_NO_DWPF=1).
 * Process-wide, read at run time. */
void lcn_test_dwpw_prefetch(int on);
/* Testing only: the byte ranges (offsets from the start of the weights, as
 * pairs into off, at most max pairs) that thread t of nt prefetches for
 * the first bytes of each of parts parts of an lcn_fc32 kernel of kin
 * inputs and n outputs (lcn_pf); returns how many, -1 without the kernel. */
int lcn_test_fc32_pf_ranges(int kin, int n, int parts, size_t bytes, int t, int nt, size_t *off, int max);
/* Testing only: whether lcn_plan_finalize runs depthwise convs outside
 * fused blocks as lcn_dw32 kernels: -1 when timing says so (the default),
 * 0 never, 1 whenever the kernel applies. Process-wide. */
lcn_status lcn_test_dw32(int mode);
/* Testing only: whether SE layers run as one lcn_se32 step: -1 (default) or
 * 1 where the kernel applies, 0 never. Process-wide. */
lcn_status lcn_test_se32(int mode);
/* Int8 chains: -1 runs a layer as an own kernel (lcn_pw8, lcn_st8) when
 * timing says so (the default); 0 never; 1 whenever the kernel applies,
 * untuned builds included (tests). */
lcn_status lcn_test_own8(int mode);

/* The kernel choices this process has timed (fp32 and int8 plans), so that
 * a caller can keep them across processes. Entry i (0 <= i < count): key
 * (< 128 bytes), choice, the two times measured (us) and an implementation
 * name (< 64 bytes), copied into the caller's buffers. lcn_choice_put adds
 * or replaces an entry (ignored when the table, 512 entries, is full);
 * keys and names longer than the limits are refused. lcn_choices_reset
 * forgets them all (tests). */
lcn_status lcn_choices_count(int *n);
lcn_status lcn_choice_at(int i, char *key, size_t keycap, int *choice, float *a, float *b,
        char *name, size_t namecap);
lcn_status lcn_choice_put(const char *key, int choice, float a, float b, const char *name);
lcn_status lcn_choices_reset(void);

#ifdef __cplusplus
}
#endif
#endif
