/*
 * lcn_internal.h: backend-independent pieces shared by the C files of this
 * directory (network description, shape inference, layout copies, errors).
 * Nothing here depends on a oneDNN version.
 */
#ifndef LCN_INTERNAL_H
#define LCN_INTERNAL_H

#include "lcn.h"

#define LCN_ALIGN 64
#define LCN_TUNED_LEN 64

/* One validated layer with its input/output shape per sample. */
typedef struct lcn_layer {
    lcn_layer_desc d;
    int ic, ih, iw; /* input shape */
    int oc, oh, ow; /* output shape */
    float *w[4];    /* plain weight copies (owned; see lcn_net_free_weights) */
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

/* Current output shape of the chain (the input shape when empty). */
void lcn_net_shape(const lcn_net *net, int *c, int *h, int *w);

/* Validates d against the current output shape, copies the weights, appends. */
lcn_status lcn_net_add(lcn_net *net, const lcn_layer_desc *d, const float *const w[4],
        const size_t nw[4], lcn_error *err);

void lcn_net_free_weights(lcn_net *net);
void lcn_net_free(lcn_net *net);

/* Layout copies between NCHW (plain) and NHWC, n samples of c x hw, on
 * nthr OpenMP threads. */
void lcn_nchw_to_nhwc(const float *src, float *dst, int n, int c, int hw, int nthr);
void lcn_nhwc_to_nchw(const float *src, float *dst, int n, int c, int hw, int nthr);

#endif
