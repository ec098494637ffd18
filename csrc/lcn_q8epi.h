/*
 * lcn_q8epi.h: what the int8 kernels of the chain (lcn_dw8, lcn_pw8) share:
 * the per-channel weight quantization and the epilogue of lcn_dw8.h, in
 * scalar form (the references; the AVX-512 kernels do the same float
 * operations in the same order).
 */
#ifndef LCN_Q8EPI_H
#define LCN_Q8EPI_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "lcn.h"

/* sat_s8(rint(v)) */
static inline int8_t lcn_q8_sat(float v) {
    float r = rintf(v);
    if (r > 127.f) return 127;
    if (r < -128.f) return -128;
    return (int8_t)r;
}

/* The weight scale of a channel whose largest |w| is m. */
static inline float lcn_q8_wscale(float m) { return m > 0.f ? 127.f / m : 1.f; }

/* Epilogue constants of one output channel (lcn_dw8.h): weight scale ws,
 * bias b, input scale s_x, output scale sy (1 for fp32 output). */
typedef struct lcn_q8epi {
    float M, A, G, H;
} lcn_q8epi;

static inline lcn_q8epi lcn_q8_epi(float ws, float b, float s_x, float sy) {
    float os = 1.f / (s_x * ws);
    lcn_q8epi e = {sy * os, b * sy, os / 6.f, b / 6.f + 0.5f};
    return e;
}

/* The kernels are compiled once per activation and output type, with those
 * as constants: DEF(ACT, F32, NAME) defines NAME_<act>_<s8|f32>, and
 * LCN_Q8_CALL(NAME, act, f32, args...) calls the one for act and f32. */
#define LCN_Q8_VARIANTS(DEF, NAME)                                                                 \
    DEF(LCN_ACT_NONE, 0, NAME##_none_s8)                                                           \
    DEF(LCN_ACT_RELU, 0, NAME##_relu_s8)                                                           \
    DEF(LCN_ACT_HARDSWISH, 0, NAME##_hswish_s8)                                                    \
    DEF(LCN_ACT_NONE, 1, NAME##_none_f32)                                                          \
    DEF(LCN_ACT_RELU, 1, NAME##_relu_f32)                                                          \
    DEF(LCN_ACT_HARDSWISH, 1, NAME##_hswish_f32)

#define LCN_Q8_CALL(NAME, act, f32, ...)                                                           \
    switch (act) {                                                                                 \
        case LCN_ACT_RELU: ((f32) ? NAME##_relu_f32 : NAME##_relu_s8)(__VA_ARGS__); break;         \
        case LCN_ACT_HARDSWISH: ((f32) ? NAME##_hswish_f32 : NAME##_hswish_s8)(__VA_ARGS__); break; \
        default: ((f32) ? NAME##_none_f32 : NAME##_none_s8)(__VA_ARGS__); break;                   \
    }

/* Whether v = fma(acc, M, A) may reach 2^30 for |acc| <= 128 * asum, where
 * the kernels clamp before converting to int32. */
static inline int lcn_q8_needs_clamp(int32_t asum, float M, float A) {
    return (double)asum * 128 * fabs(M) + fabs(A) >= 1073741824.0;
}

/* The scalar epilogue: y[off] (s8 or fp32) from the int32 sum acc. */
static inline void lcn_q8_epi_ref(int act, int out_f32, float M, float A, float G, float H, int32_t acc,
        void *y, size_t off) {
    float a = (float)acc;
    float v = fmaf(a, M, A);
    if (act == LCN_ACT_RELU) v = fmaxf(v, 0.f);
    else if (act == LCN_ACT_HARDSWISH) {
        float g = fmaf(a, G, H);
        g = fminf(fmaxf(g, 0.f), 1.f);
        v = v * g;
    }
    if (out_f32) {
        ((float *)y)[off] = v;
        return;
    }
    v = fminf(v, 127.f);
    float r = rintf(v);
    ((int8_t *)y)[off] = r < -128.f ? (int8_t)-128 : (int8_t)r;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* acc += vpdpbusd(u, s) (u8 u, s8 s, 4 products per 32-bit lane), in place.
 * GCC 12 copies the accumulator to and from a scratch register around
 * _mm512_dpbusd_epi32 in a register tile (two zmm moves per multiply-add:
 * lcn_pw8 ran at 44% of the VNNI peak on K=256 and at 84% with this); the
 * asm ties acc to one register. s may be a register or a 64-byte operand. */
#define LCN_DPBUSD(acc, u, s) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "vm"(s))

/* Whether the CPU runs the AVX-512 VNNI kernels (F, BW, VL, VNNI). */
static inline int lcn_q8_avx512_vnni(void) {
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    }
    return have;
}

/* The AVX-512 epilogue of 16 outputs (lcn_pw8, lcn_st8): the float ops of
 * lcn_q8_epi_ref in its order on the constants M/A/G/H (16-float aligned
 * arrays, from element 16*v), acc the int32 sums; writes the lanes of last
 * to y from element off. clamp: |v| may reach 2^30, clamp before the
 * conversion. */
__attribute__((target("avx512f,avx512bw,avx512vl,fma"))) static inline __attribute__((always_inline)) void
lcn_q8_epi16(const float *M, const float *A, const float *G, const float *H, int v, __m512i acc,
        void *y, size_t off, __mmask16 last, const int act, const int f32, int clamp) {
    __m512 a = _mm512_cvtepi32_ps(acc);
    __m512 r = _mm512_fmadd_ps(a, _mm512_load_ps(M + 16 * v), _mm512_load_ps(A + 16 * v));
    if (act == LCN_ACT_RELU) {
        r = _mm512_max_ps(r, _mm512_setzero_ps());
    } else if (act == LCN_ACT_HARDSWISH) {
        __m512 g = _mm512_fmadd_ps(a, _mm512_load_ps(G + 16 * v), _mm512_load_ps(H + 16 * v));
        g = _mm512_min_ps(_mm512_max_ps(g, _mm512_setzero_ps()), _mm512_set1_ps(1.f));
        r = _mm512_mul_ps(r, g);
    }
    if (f32) {
        _mm512_mask_storeu_ps((float *)y + off, last, r);
        return;
    }
    /* rint(min(v, 127)) saturated at -128 is rint(v) saturated to s8 (127
     * is an integer): the conversion rounds to nearest even (MXCSR default)
     * and vpmovsdb saturates, exact while |v| < 2^31 (else clamp first) */
    if (clamp) r = _mm512_max_ps(_mm512_min_ps(r, _mm512_set1_ps(127.f)), _mm512_set1_ps(-128.f));
    _mm_mask_storeu_epi8((int8_t *)y + off, last, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(r)));
}

/* RANGE(k, x, y, from, to, scratch) over [0, total) on nthr OpenMP threads
 * (at most k->d.threads; one when total < min), each thread an even part
 * and its own per bytes of k->scratch (lcn_pw8: pixels, lcn_st8: rows). */
#define LCN_Q8_SPLIT(RANGE, k, x, y, total, nthr, min)                                               \
    do {                                                                                           \
        int nt_ = (nthr) > (k)->d.threads ? (k)->d.threads : (nthr);                               \
        if (nt_ <= 1 || (total) < (min)) {                                                         \
            RANGE(k, x, y, 0, total, (k)->scratch);                                                \
            break;                                                                                 \
        }                                                                                          \
        _Pragma("omp parallel num_threads(nt_)") {                                                 \
            int t_ = omp_get_thread_num(), n_ = omp_get_num_threads();                             \
            long a_ = (total) * t_ / n_, b_ = (total) * (t_ + 1) / n_;                             \
            RANGE(k, x, y, a_, b_, (k)->scratch + (size_t)t_ * (k)->per);                          \
        }                                                                                          \
    } while (0)

/* The start and the end of a register tile acc[P][V] of P pixels x V vectors
 * of 16 outputs from vector v0 (lcn_pw8, lcn_st8; k has comp, M, A, G, H and
 * clamp): the sums start at the compensation of their outputs and end
 * through lcn_q8_epi16, pixel p at element yoff + p * OC of y. */
#define LCN_Q8_TILE_START(P, V, acc, k, v0)                                                         \
    _Pragma("GCC unroll 16") for (int v_ = 0; v_ < (V); v_++) {                                    \
        __m512i c0_ = _mm512_load_si512((k)->comp + 16 * ((v0) + v_));                              \
        _Pragma("GCC unroll 16") for (int p_ = 0; p_ < (P); p_++) acc[p_][v_] = c0_;               \
    }

#define LCN_Q8_TILE_END(P, V, acc, k, v0, y, yoff, OC, act, f32)                                   \
    _Pragma("GCC unroll 16") for (int p_ = 0; p_ < (P); p_++)                                      \
        _Pragma("GCC unroll 16") for (int v_ = 0; v_ < (V); v_++) {                                \
            int o_ = 16 * ((v0) + v_), rem_ = (OC) - o_;                                            \
            __mmask16 last_ = rem_ >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem_) - 1);      \
            lcn_q8_epi16((k)->M, (k)->A, (k)->G, (k)->H, (v0) + v_, acc[p_][v_], y,                 \
                    (yoff) + (size_t)p_ * (OC) + o_, last_, act, f32, (k)->clamp);                  \
        }
#endif

#endif
