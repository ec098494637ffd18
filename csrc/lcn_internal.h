/*
 * lcn_internal.h: backend-independent pieces shared by the C files of this
 * directory (network description, shape inference, layout copies, errors).
 * Nothing here depends on a oneDNN version.
 */
#ifndef LCN_INTERNAL_H
#define LCN_INTERNAL_H

#include <time.h>

#include "lcn.h"

#define LCN_ALIGN 64
#define LCN_TUNED_LEN 64

/* One validated layer with its input/output shape per sample. */
typedef struct lcn_layer {
    lcn_layer_desc d;
    int ic, ih, iw; /* input shape */
    int oc, oh, ow; /* output shape */
    float *w[4];    /* plain weights: copies (owned; see lcn_net_free_weights), or */
    int borrowed;   /* the caller's arrays, read during lcn_plan_build only */
    size_t nw[4];   /* lengths in floats; 0 = absent */
    int fused_into; /* index of the layer this one became a post-op of, or -1 */
    char impl[256]; /* implementation names at batch 1 */
    char tuned[LCN_TUNED_LEN]; /* implementation picked by timing, "" if none */
} lcn_layer;

typedef struct lcn_net {
    int in_c, in_h, in_w;
    int n, cap;
    lcn_layer *layers; /* owned */
} lcn_net;

void lcn_live_add(int64_t d);

lcn_status lcn_err_set(lcn_error *err, lcn_status code, int layer, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

void *lcn_aligned_alloc(size_t bytes); /* LCN_ALIGN-aligned, free with free() */
/* Whether environment variable name is set to something other than "" or
 * "0" (the LCNET_NO_* switches). */
int lcn_env_off(const char *name);
/* A process-wide switch *v: -1 (not yet read) becomes 1 unless the
 * environment variable name turns it off (lcn_env_off), then stays. */
int lcn_env_switch(int *v, const char *name);

/* Current output shape of the chain (the input shape when empty). */
void lcn_net_shape(const lcn_net *net, int *c, int *h, int *w);

/* Validates d against the current output shape, appends. The weights are
 * copied, or with borrow set only pointed at: the caller's arrays, which
 * must stay readable (and unchanged) until lcn_net_free_weights, before the
 * caller's call into C returns. */
lcn_status lcn_net_add(lcn_net *net, const lcn_layer_desc *d, const float *const w[4],
        const size_t nw[4], int borrow, lcn_error *err);

void lcn_net_free_weights(lcn_net *net);
void lcn_net_free(lcn_net *net);

/* Layout copies between NCHW (plain) and NHWC, n samples of c x hw, on
 * nthr OpenMP threads. */
void lcn_nchw_to_nhwc(const float *src, float *dst, int n, int c, int hw, int nthr);
void lcn_nhwc_to_nchw(const float *src, float *dst, int n, int c, int hw, int nthr);
/* dst[j * ldd + i] = src[i * lds + j], i < rows, j < cols (lcn_common.c);
 * _mode with simd = 0 runs the element loop only (tests). */
void lcn_transpose(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd);
void lcn_transpose_mode(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd, int simd);

/* Fused depthwise conv + act + 1x1 conv + act on fp32 NHWC activations
 * (lcn_fp32_dwpw.c, AVX-512). Weights packed at plan time, read-only. */
/* A monotonic clock in seconds (plan-time timing, profiling). */
static inline double lcn_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define LCN_DWPW_MAXK 7 /* largest depthwise kernel the block kernel takes */

typedef struct lcn_dwpw {
    int c, oc, kh, kw, sh, sw, pt, pl; /* depthwise: c channels; 1x1: c -> oc */
    int ih, iw, oh, ow;                /* depthwise input and output size */
    int act1, act2;                    /* lcn_act_kind: NONE, RELU or HARDSWISH */
    int cpad, ocpad;                   /* c, oc rounded up to 16 */
    float *wdw, *bdw;                  /* [kh*kw][cpad], [cpad] */
    float *wpw, *bpw;                  /* [c][ocpad], [ocpad] */
    float *zero;                       /* iw * c + 16 zeros: the rows above and below the input */
    float us_kern, us_pair;            /* plan-time timing (0: not timed) */
    int avx2;                          /* run the AVX2 bodies (lcn_fp32_avx2.c) */
} lcn_dwpw;

/* The instruction sets of the engine's own fp32 kernels: AVX-512F (all of
 * them) and AVX2 + FMA (lcn_dwpw, chains and lcn_stem). LCNET_NO_AVX512=1 makes
 * lcn_avx512_supported false, so that an AVX-512 machine runs and tests the
 * AVX2 bodies; read when a plan is built. */
int lcn_avx512_supported(void);
int lcn_avx2_supported(void);
int lcn_dwpw_supported(void); /* the CPU runs the kernel (either set) */
const char *lcn_dwpw_isa(void); /* "avx512", "avx2" or "" */
/* The AVX2 row bodies of lcn_dwpw (lcn_fp32_avx2.c): the depthwise output
 * row oy into buf [ow][cpad], and the 1x1 conv of np pixels of buf. */
void lcn_dwpw_dw_row_avx2(const lcn_dwpw *k, const float *const *rows, int oy, float *buf);
void lcn_dwpw_pw_rows_avx2(const lcn_dwpw *k, const float *buf, float *d, int np);
/* Packs the weights of depthwise layer dw and 1x1 layer pw (plain copies
 * still present); NULL when out of memory. */
lcn_dwpw *lcn_dwpw_new(const lcn_layer *dw, const lcn_layer *pw);
void lcn_dwpw_free(lcn_dwpw *k);
/* src: n x ih x iw x c, dst: n x oh x ow x oc, rows split among nthr
 * OpenMP threads. */
void lcn_dwpw_run(const lcn_dwpw *k, const float *src, float *dst, int n, int nthr);

/* A chain of block kernels run row by row (lcn_fp32_dwpw.c): the 1x1
 * output rows of stage s go to a ring buffer of as many rows as the
 * depthwise kernel of stage s+1 is high, which that stage reads at once, so
 * the activations between the stages never leave the core's caches. Stage
 * s+1's input is stage s's output (same channels and size). */
#define LCN_CHAIN_MAX 16
typedef struct lcn_chain {
    int n;                       /* stages, 2..LCN_CHAIN_MAX */
    lcn_dwpw *st[LCN_CHAIN_MAX]; /* not owned: the plan keeps and frees the stages */
    size_t scratch;              /* bytes of scratch one thread needs */
    float us_chain, us_apart;    /* plan-time estimate (0: not timed) */
} lcn_chain;
#define LCN_CHAIN_SCRATCH_MAX (512u << 10)
/* NULL for lack of memory or for a scratch larger than
 * LCN_CHAIN_SCRATCH_MAX. lcn_chain_free frees the chain, not its stages. */
lcn_chain *lcn_chain_new(lcn_dwpw *const *st, int n);
void lcn_chain_free(lcn_chain *ch);
/* Bytes of per-thread scratch a chain of these stages needs. */
size_t lcn_chain_scratch(lcn_dwpw *const *st, int n);
/* src: n x ih x iw x c of stage 0, dst: n x oh x ow x oc of the last stage;
 * the last stage's rows are split among nthr OpenMP threads, each with its
 * part of scratch (lcn_chain_scratch_bytes(ch, nthr) bytes, the caller's:
 * an instance's own, so that instances of one plan run at once). */
void lcn_chain_run(const lcn_chain *ch, const float *src, float *dst, int n, int nthr, void *scratch);
size_t lcn_chain_scratch_bytes(const lcn_chain *ch, int nthr);

/* Direct convolution of a first layer with few input channels, reading the
 * NCHW input and writing NHWC (lcn_fp32_stem.c, AVX-512). */
typedef struct lcn_stem {
    int ic, oc, kh, kw, sh, sw, pt, pl;
    int ih, iw, oh, ow;
    int act;          /* lcn_act_kind: NONE, RELU or HARDSWISH */
    int ocpad;        /* oc rounded up to 16 */
    float *w, *b;     /* [ic*kh*kw][ocpad], [ocpad] */
    float *zero;      /* iw + 16 zeros: the rows above and below the input */
    float us_kern, us_dnnl; /* plan-time timing (0: not timed) */
    int avx2;         /* run the AVX2 body (lcn_fp32_avx2.c) */
} lcn_stem;

/* The AVX2 body of lcn_stem: output row oy of one image into d. */
void lcn_stem_row_avx2(const lcn_stem *k, const float *src, int oy, float *d);

lcn_stem *lcn_stem_new(const lcn_layer *L); /* NULL when out of memory */
void lcn_stem_free(lcn_stem *k);
/* src: n x ic x ih x iw (NCHW), dst: n x oh x ow x oc (NHWC). */
void lcn_stem_run(const lcn_stem *k, const float *src, float *dst, int n, int nthr);

/* y = act(x W^T + b) * scale for m rows of k inputs: a fully connected
 * layer or a 1x1 conv over few pixels, weights streamed as packed panels
 * (lcn_fc32.c, AVX-512; AVX2 bodies in lcn_fp32_avx2.c). */
typedef struct lcn_fc32 {
    int k, n;               /* inputs per row, outputs */
    int act;                /* lcn_act_kind: NONE, RELU, HARDSWISH or HARDSIGMOID */
    float alpha, beta;      /* HARDSIGMOID: clip(alpha x + beta, 0, 1) */
    float scale;            /* outputs are act(x W^T + b) * scale */
    int npad;               /* n rounded up to 16 */
    float *w, *b;           /* panels of 64 columns, each [k][width] (strips: strips
                             * of 16 columns, each [k][16]); [npad] */
    float us_kern, us_dnnl; /* plan-time timing (0: not timed) */
    int avx2;               /* run the AVX2 body (lcn_fp32_avx2.c) */
    int strips;             /* w in strips: for lcn_fc32_run_blk only */
} lcn_fc32;
enum { LCN_FC_PANEL = 64 }; /* columns of a panel of lcn_fc32's packed weights */
/* The AVX2 body of lcn_fc32 (lcn_fp32_avx2.c): panels [q0, q1) for m rows. */
void lcn_fc32_panels_avx2(const lcn_fc32 *k, const float *x, float *y, int m, int q0, int q1);
/* ... and on nChw8c (k->k and k->n multiples of 8: a 1x1 conv between
 * oneDNN's AVX2 convs; k->strips set): rows [r0, r1) of images of hw pixels
 * (row r: pixel r % hw of image r / hw), 16-column strips [g0, g1) (strip
 * g: columns 16 g .. 16 g + 15). */
void lcn_fc32_blk_avx2(const lcn_fc32 *k, const float *x, float *y, int hw, int r0, int r1, int g0, int g1);
/* lcn_fc32 on nChw8c x and y (AVX2 bodies only, k->strips set): m rows of
 * images of hw pixels; the 16-column strips split among nthr threads. */
void lcn_fc32_run_blk(const lcn_fc32 *k, const float *x, float *y, int m, int hw, int nthr);
/* The AVX2 pool and scale of lcn_se32 (lcn_fp32_avx2.c) on one image x of
 * hw pixels and c channels, NHWC (blk 0) or nChw8c (blk 1): v[ch] = mean of
 * channel ch, x[.][ch] *= g[ch], for channels [c0, c1) (c0 a multiple of 8;
 * v is written up to c1 rounded up to 8). */
void lcn_se_pool_avx2(const float *x, int hw, int c, int blk, float *v, int c0, int c1);
void lcn_se_mul_avx2(float *x, int hw, int c, int blk, const float *g, int c0, int c1);

/* Repacks k's weights from panels into strips of 16 columns, each [k][16]
 * (the layout lcn_fc32_run_blk reads; the panel bodies can no longer run
 * k). 0, or -1 when out of memory (k unchanged). */
int lcn_fc32_use_strips(lcn_fc32 *k);
/* Packs weights w [n][k_in] (FC, or OIHW with a 1x1 kernel) and bias b (n
 * values, or NULL); NULL when out of memory. */
lcn_fc32 *lcn_fc32_new(const float *w, const float *b, int n, int k_in, const lcn_act *act, float scale);
void lcn_fc32_free(lcn_fc32 *k);
/* x: m x k, y: m x n, both dense; the rows (m >= 12 nthr) or else the
 * output columns split among nthr OpenMP threads. */
void lcn_fc32_run(const lcn_fc32 *k, const float *x, float *y, int m, int nthr);
/* Weights a step prefetches while it computes (lcn_fc32_run_pf): the
 * first bytes of each part of k's weights, the parts being what each of
 * parts threads reads when k runs (its panels split evenly; parts = 1: all
 * of them). A prefetching step of parts threads gives thread t part t; of
 * another count, each thread an even share of every part's bytes. */
typedef struct lcn_pf {
    const lcn_fc32 *k;
    int parts;
    size_t bytes;
} lcn_pf;
enum { LCN_PF_MAX = 6 };
/* lcn_fc32_run that also prefetches pf[0..npf) in that order, spread over
 * each thread's run (into L2: what L2 cannot keep moves on to L3). */
void lcn_fc32_run_pf(const lcn_fc32 *k, const float *x, float *y, int m, int nthr, const lcn_pf *pf, int npf);
/* How many parts (lcn_pf) the threads of a run of k on m rows split its
 * weights into: nthr when they split the columns, else 1 (one thread, or
 * each thread reading all of them). */
int lcn_fc32_parts(const lcn_fc32 *k, int m, int nthr);
/* The bytes of the largest of those parts. */
size_t lcn_fc32_part_bytes(const lcn_fc32 *k, int parts);

/* A squeeze-excite layer as one step (lcn_fc32.c): x [n][hw][c] (NHWC) *=
 * gate(W2 relu(W1 mean(x) + b1) + b2), in place; with the AVX2 bodies x
 * may also be nChw8c (c a multiple of 8: oneDNN's AVX2 layout). */
typedef struct lcn_se32 {
    int c, r;
    lcn_fc32 *f1, *f2; /* c -> r + ReLU, r -> c + the layer's gate */
} lcn_se32;

lcn_se32 *lcn_se32_new(const lcn_layer *L); /* NULL when out of memory */
void lcn_se32_free(lcn_se32 *k);
size_t lcn_se32_scratch_bytes(const lcn_se32 *k, int n);
/* scratch: lcn_se32_scratch_bytes(k, n) bytes, 64-byte aligned. */
/* blk: x is nChw8c (AVX2 bodies only, c a multiple of 8), else NHWC. */
void lcn_se32_run(const lcn_se32 *k, float *x, int n, int hw, int blk, int nthr, float *scratch);

/* A depthwise conv (groups = channels, multiplier 1) + bias + act (NONE,
 * RELU or HARDSWISH) on fp32 activations (lcn_dw32.c): NHWC with AVX-512,
 * or nChw8c with AVX2 (blk; channels a multiple of 8). */
#define LCN_DW32_MAXK 7
typedef struct lcn_dw32 {
    int c, cpad, kh, kw, sh, sw, pt, pl;
    int ih, iw, oh, ow;
    int act;
    int blk;                /* nChw8c, the AVX2 body (lcn_fp32_avx2.c) */
    int sw_cols;            /* columns of a zero-padded input strip */
    int g1, n1, n2;         /* a row: n1 groups of g1 pixels, n2 of g1 - 1 */
    float *w, *b;           /* [cpad / L][kh * kw][L], L = 16 (8 if blk); [cpad] */
    float us_kern, us_dnnl; /* plan-time timing (0: not timed) */
} lcn_dw32;

/* Packs layer L's weights, act the activation to apply (L's own, or the
 * one fused into it), for the NHWC body (blk 0) or the nChw8c one (blk 1);
 * NULL when out of memory, or L is not a depthwise conv with a kernel up
 * to LCN_DW32_MAXK (with blk: on channels a multiple of 8). */
lcn_dw32 *lcn_dw32_new(const lcn_layer *L, int act, int blk);
void lcn_dw32_free(lcn_dw32 *k);
size_t lcn_dw32_scratch_bytes(const lcn_dw32 *k, int nthr);
/* src: n x ih x iw x c, dst: n x oh x ow x c (NHWC, dense; k->blk:
 * nChw8c); scratch: lcn_dw32_scratch_bytes(k, nthr) bytes, 64-byte
 * aligned. */
void lcn_dw32_run(const lcn_dw32 *k, const float *src, float *dst, int n, int nthr, void *scratch);
/* The AVX2 body: output rows [oy0, oy1) of 8-channel block b of one image
 * (src, dst: the image's nChw8c planes), ring: one thread's scratch. */
void lcn_dw32_blk_avx2(const lcn_dw32 *k, const float *src, float *dst, int b, int oy0, int oy1, float *ring);

#endif
