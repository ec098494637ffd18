/*
 * lcn_act512.h: the activations of the engine's fp32 AVX-512 kernels
 * (lcn_fp32_dwpw.c, lcn_fp32_stem.c, lcn_fc32.c) on one vector, the same
 * formulas as oneDNN's post-ops. Inlined into each kernel body with act a
 * compile-time constant, so that the switch disappears.
 */
#ifndef LCN_ACT512_H
#define LCN_ACT512_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "lcn.h"

/* act(x): NONE, RELU, HARDSWISH (x * relu6(x + 3) / 6) or HARDSIGMOID
 * (clip(alpha x + beta, 0, 1)); other kinds pass x through (the kernels
 * are not chosen for them). */
__attribute__((target("avx512f,fma"))) static inline __attribute__((always_inline)) __m512 lcn_act512(
        __m512 x, const int act, float alpha, float beta) {
    switch (act) {
        case LCN_ACT_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
        case LCN_ACT_HARDSWISH: {
            __m512 r = _mm512_add_ps(x, _mm512_set1_ps(3.f));
            r = _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(6.f));
            return _mm512_mul_ps(_mm512_mul_ps(x, r), _mm512_set1_ps(1.f / 6.f));
        }
        case LCN_ACT_HARDSIGMOID: {
            __m512 r = _mm512_fmadd_ps(x, _mm512_set1_ps(alpha), _mm512_set1_ps(beta));
            return _mm512_min_ps(_mm512_max_ps(r, _mm512_setzero_ps()), _mm512_set1_ps(1.f));
        }
        default: return x;
    }
}

/* Stores the P x V accumulators acc of a register tile at d (rows ld floats
 * apart) as act(x) * scale, the last vector of each row masked by last. */
#define LCN_TILE_STORE(acc, P, V, d, ld, last, act, alpha, beta, scale)                            \
    _Pragma("GCC unroll 16") for (int p_ = 0; p_ < (P); p_++)                                      \
        _Pragma("GCC unroll 16") for (int v_ = 0; v_ < (V); v_++) {                                \
            __m512 r_ = lcn_act512((acc)[p_][v_], (act), (alpha), (beta));                         \
            if ((scale) != 1.f) r_ = _mm512_mul_ps(r_, _mm512_set1_ps(scale));                      \
            if (v_ == (V) - 1)                                                                     \
                _mm512_mask_storeu_ps((d) + (size_t)p_ * (ld) + 16 * v_, (last), r_);              \
            else                                                                                   \
                _mm512_storeu_ps((d) + (size_t)p_ * (ld) + 16 * v_, r_);                           \
        }
#endif

#endif
