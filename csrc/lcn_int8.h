/*
 * lcn_int8.h: an int8 chain of convolutions on oneDNN (s8 weights per output
 * channel, s8 activations per tensor, VNNI kernels). Used by the Go package
 * dnn (int8.go) for the int8 segments of a quantized model.
 *
 * Objects (opaque, create/destroy pairs):
 *   lcn_i8plan  the validated chain: layer descriptions, fp32 weights (copied)
 *               and the calibration scales. Read-only after finalize; shared
 *               by instances. Reference counted like lcn_plan.
 *   lcn_i8inst  per running instance: stream, quantized weights, activations,
 *               scratchpad and primitives for the current batch size. One
 *               thread at a time; create, run and destroy it on one OS thread.
 *
 * Quantization (symmetric, no zero points):
 *   x_q  = sat_s8(round(x * in_scale))          (segment input, per tensor)
 *   w_q  = sat_s8(round(w * ws[oc])), ws[oc] = 127 / max|w[oc,...]|
 *   y_q  = sat_s8(round(act(acc / (s_x * ws[oc]) + b) * out_scale))
 *   out  = y_q / out_scale of the last layer    (fp32 NCHW)
 * Every scale is "quantized units per real unit" (127 / calibrated range).
 *
 * Every function returns an lcn_status; on failure *err (owned by the caller)
 * says what failed. Pointers passed in are only used during the call.
 */
#ifndef LCN_INT8_H
#define LCN_INT8_H

#include "lcn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lcn_i8plan lcn_i8plan;
typedef struct lcn_i8inst lcn_i8inst;

/* Creates an empty int8 chain for fp32 input in_c x in_h x in_w (per sample)
 * quantized with in_scale, whose primitives use `threads` OpenMP threads.
 * *out owns one reference: drop it with lcn_i8plan_destroy. */
lcn_status lcn_i8plan_create(int in_c, int in_h, int in_w, int threads, float in_scale,
        lcn_i8plan **out, lcn_error *err);

/* Appends a convolution (d->kind must be LCN_LAYER_CONV; act NONE, RELU or
 * HARDSWISH) whose output is requantized with out_scale. w is OIHW fp32
 * (nw floats), b is 0 or out_c floats; both are copied. */
lcn_status lcn_i8plan_add_conv(lcn_i8plan *p, const lcn_layer_desc *d, const float *w,
        size_t nw, const float *b, size_t nb, float out_scale, lcn_error *err);

/* Appends any supported layer: CONV (int8, as above), FC (int8, on a C x 1 x 1
 * input, run as a 1x1 convolution; w is out_c x in_c), GAP (s8 average
 * pooling, keeps the scale) or SE (in place on the s8 tensor: s8 pooling,
 * the two small 1x1 convolutions in fp32, binary mul back into s8; keeps the
 * scale; w0..w3 = w1, b1, w2, b2 as in lcn_net_add). out_scale is ignored for
 * GAP and SE. When the last layer is a CONV or FC with a 1 x 1 output it
 * writes fp32 directly (no dequantizing reorder). */
lcn_status lcn_i8plan_add_layer(lcn_i8plan *p, const lcn_layer_desc *d, const float *w0, size_t n0,
        const float *w1, size_t n1, const float *w2, size_t n2, const float *w3, size_t n3,
        float out_scale, lcn_error *err);

/* As lcn_i8plan_add_layer; with fp32 != 0 a CONV or FC runs in fp32 inside
 * the chain (any activation): an int8 layer before it writes fp32, and the
 * next int8 layer quantizes its output with out_scale (its calibrated
 * scale), all in NHWC, so the chain is not cut. Also takes a SOFTMAX layer
 * (fp32, over the channels). */
lcn_status lcn_i8plan_add_layer_ex(lcn_i8plan *p, const lcn_layer_desc *d, const float *w0,
        size_t n0, const float *w1, size_t n1, const float *w2, size_t n2, const float *w3,
        size_t n3, float out_scale, int fp32, lcn_error *err);
/* Whether lcn_i8plan_finalize times the candidate implementations of each
 * convolution and keeps the fastest (on: the default) or takes oneDNN's
 * first choice (off: faster to finalize). Call before finalize. */
lcn_status lcn_i8plan_set_tuning(lcn_i8plan *p, int on);
/* Builds the batch-1 primitives once (on the calling thread, with the plan's
 * thread count) to check that oneDNN has int8 kernels for every layer and to
 * record their names. */
lcn_status lcn_i8plan_finalize(lcn_i8plan *p, lcn_error *err);

/* Per-sample output shape (valid after finalize). */
lcn_status lcn_i8plan_output_shape(const lcn_i8plan *p, int *c, int *h, int *w);

/* Implementation chosen for layer i at batch 1; "" before finalize. *out
 * points into the plan. */
lcn_status lcn_i8plan_layer_impl(const lcn_i8plan *p, int i, const char **out);

/* Drops the creator's reference. NULL is a no-op. */
lcn_status lcn_i8plan_destroy(lcn_i8plan *p);

/* Creates an instance (takes a plan reference) on the calling OS thread. */
lcn_status lcn_i8inst_create(lcn_i8plan *p, lcn_i8inst **out, lcn_error *err);

/* Runs: in is batch x C x H x W fp32 NCHW, out batch x prod(output shape)
 * fp32 NCHW. A new batch size rebuilds the primitives (once). */
lcn_status lcn_i8inst_run(lcn_i8inst *s, const float *in, size_t in_len, int batch,
        float *out, size_t out_len, lcn_error *err);

/* Frees the instance and its plan reference. NULL is a no-op. */
lcn_status lcn_i8inst_destroy(lcn_i8inst *s);
/* Profiling, as lcn_inst_set_profile / lcn_inst_profile (lcn.h) except
 * that the input and output conversions are steps of their own (layer -1)
 * and there is no extra copies step. */
lcn_status lcn_i8inst_set_profile(lcn_i8inst *s, int on);
lcn_status lcn_i8inst_profile(const lcn_i8inst *s, int batch, int i, int *layer, char *what,
        size_t whatcap, double *sec, long *runs);

/* Testing only: the input quantizer of the chain, fp32 NCHW (n x c x hw)
 * -> s8 NHWC, sat_s8(rint(x * s)), on nthr threads. */
lcn_status lcn_test_quantize_nchw(const float *src, int8_t *dst, int n, int c, int hw, float s,
        int nthr);

#ifdef __cplusplus
}
#endif
#endif
