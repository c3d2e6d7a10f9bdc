// Packed codes times int8 activations, with AVX-512 VNNI (vpdpbusd: unsigned 8-bit codes ×
// signed 8-bit inputs, summed four at a time into 32-bit lanes) — the scheme of llama.cpp's
// Q4_1 × Q8_1. Each input row is quantized once per product, per block of 32:
//   x[c] ≈ d_b · q[c],  d_b = max_{c in b} |x[c]| / 127,  q[c] = round(x[c] / d_b) in [-127, 127]
// so a block's code·input dot is the exact integer Σ code·q times d_b, and
//   per-OC: y[r] = Σ_g s[r,g] · (Σ_{b in g} d_b Σ_{c in b} code·q − z[r,g] · Σ_{b in g} d_b Σ_{c in b} q)
//   per-IC: y[r] = Σ_b e_b Σ_{c in b} code·p − Σ_c z[G,c] · e_b p[c]   (p, e: the int8 form of s[G,:]·x)
// Both subtract the zero term of the quantized input, so the result is the exact product of
// the dequantized weights with the rounded input: its error is Σ_c ŵ[r,c] · (x̂[c] − x[c]),
// at most Σ_c |ŵ[r,c]| · d_b(c) / 2 (plus Float32 summation order).
// Compiled per function for AVX-512 (the target's baseline is AVX2); callers check
// ada_i8_supported() first.
#include "packed_internal.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ada_i8_quantize(const float *x, int pad, int8_t *q, float *d8, float *sums) {
    for (int b = 0; b < pad / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(xb[i]));
        float d = amax / 127, inv = amax > 0 ? 127 / amax : 0;
        int sum = 0;
        for (int i = 0; i < 32; i++) {
            float v = nearbyintf(xb[i] * inv);
            v = v > 127 ? 127 : v < -127 ? -127 : v;
            q[b * 32 + i] = (int8_t)v;
            sum += (int)v;
        }
        for (int k = 0; k < 8; k++) d8[b * 8 + k] = d;
        sums[b] = d * (float)sum;
    }
}

int ada_i8_supported(void) {
    static int cached = -1;
    if (cached < 0) {
        // ADA_INT8=off runs the Float32 path a CPU without VNNI runs (for comparisons and tests).
        const char *env = getenv("ADA_INT8");
        if (env && strcmp(env, "off") == 0) return cached = 0;
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                 && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
                 && __builtin_cpu_supports("avx512vnni");
    }
    return cached;
}

#define I8 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))

// ---- two blocks of codes as 64 bytes in input order (layout a constant after inlining) ----

INLINE I8 __m512i pair2(const uint8_t *p, uint64_t lo, uint64_t hi) {
    (void)p;
    __m512i z = _mm512_permutexvar_epi64(_mm512_set_epi64(1, 1, 1, 1, 0, 0, 0, 0),
                                         _mm512_castsi128_si512(_mm_set_epi64x((long long)hi, (long long)lo)));
    z = _mm512_srlv_epi64(z, _mm512_set_epi64(6, 4, 2, 0, 6, 4, 2, 0));
    return _mm512_and_si512(z, _mm512_set1_epi8(3));
}

INLINE I8 __m512i pair_codes(const uint8_t *p, int layout) {
    if (layout == 4) {
        const __m256i m = _mm256_set1_epi8(15);
        __m256i raw = _mm256_loadu_si256((const __m256i *)p);
        __m256i lo = _mm256_and_si256(raw, m), hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m);
        __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);  // lo0 lo1 hi0 hi1
        return _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));        // lo0 hi0 lo1 hi1
    }
    if (layout == 2) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        return pair2(p, a, b);
    }
    if (layout == 3) {
        uint64_t a, b;
        uint32_t ha, hb;
        memcpy(&a, p, 8);
        memcpy(&ha, p + 8, 4);
        memcpy(&b, p + 12, 8);
        memcpy(&hb, p + 20, 4);
        __m512i z = pair2(p, a, b);
        return _mm512_mask_add_epi8(z, (__mmask64)((uint64_t)ha | (uint64_t)hb << 32), z, _mm512_set1_epi8(4));
    }
    return _mm512_loadu_si512((const void *)p);
}

INLINE I8 __m256i one_codes(const uint8_t *p, int layout) {
    if (layout == 4) {
        const __m128i m = _mm_set1_epi8(15);
        __m128i raw = _mm_loadu_si128((const __m128i *)p);
        __m128i lo = _mm_and_si128(raw, m), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), m);
        return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    }
    if (layout == 2 || layout == 3) {
        uint64_t a;
        memcpy(&a, p, 8);
        __m256i y = _mm256_srlv_epi64(_mm256_set1_epi64x((long long)a), _mm256_set_epi64x(6, 4, 2, 0));
        y = _mm256_and_si256(y, _mm256_set1_epi8(3));
        if (layout == 3) {
            uint32_t h;
            memcpy(&h, p + 8, 4);
            y = _mm256_mask_add_epi8(y, (__mmask32)h, y, _mm256_set1_epi8(4));
        }
        return y;
    }
    return _mm256_loadu_si256((const __m256i *)p);
}

/// Σ_{b in [b0, b1)} d_b · Σ code·q over one row, as 16 partial sums.
INLINE I8 __m512 row_dot(const uint8_t *row, int layout, const int8_t *q, const float *d8, int b0, int b1) {
    int bb = ada_block_bytes(layout), b = b0;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; b + 4 <= b1; b += 4) {
        __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), pair_codes(row + (long)b * bb, layout),
                                         _mm512_loadu_si512((const void *)(q + b * 32)));
        __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), pair_codes(row + (long)(b + 2) * bb, layout),
                                         _mm512_loadu_si512((const void *)(q + b * 32 + 64)));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_loadu_ps(d8 + b * 8), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_loadu_ps(d8 + b * 8 + 16), acc1);
    }
    if (b + 2 <= b1) {
        __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), pair_codes(row + (long)b * bb, layout),
                                         _mm512_loadu_si512((const void *)(q + b * 32)));
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_loadu_ps(d8 + b * 8), acc0);
        b += 2;
    }
    if (b < b1) {
        __m256i i = _mm256_dpbusd_epi32(_mm256_setzero_si256(), one_codes(row + (long)b * bb, layout),
                                        _mm256_loadu_si256((const __m256i *)(q + b * 32)));
        acc1 = _mm512_add_ps(acc1, _mm512_zextps256_ps512(_mm256_mul_ps(_mm256_cvtepi32_ps(i), _mm256_loadu_ps(d8 + b * 8))));
    }
    return _mm512_add_ps(acc0, acc1);
}

/// Per-OC: Σ_b d_b · s_b · Σ code·q, s_b the row's scale for block b.
INLINE I8 __m512 pair_scaled(const uint8_t *p, int layout, const int8_t *q, const float *d8, const float *s) {
    const __m512i spread = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512i i = _mm512_dpbusd_epi32(_mm512_setzero_si512(), pair_codes(p, layout), _mm512_loadu_si512((const void *)q));
    __m512 sv = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(_mm_castpd_ps(_mm_load_sd((const double *)s))));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(_mm512_loadu_ps(d8), sv));
}

INLINE I8 float row_oc32(const uint8_t *row, int layout, const int8_t *q, const float *d8, const float *s, int blocks) {
    int bb = ada_block_bytes(layout), b = 0;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; b + 4 <= blocks; b += 4) {
        acc0 = _mm512_add_ps(acc0, pair_scaled(row + (long)b * bb, layout, q + b * 32, d8 + b * 8, s + b));
        acc1 = _mm512_add_ps(acc1, pair_scaled(row + (long)(b + 2) * bb, layout, q + b * 32 + 64, d8 + b * 8 + 16, s + b + 2));
    }
    if (b + 2 <= blocks) {
        acc0 = _mm512_add_ps(acc0, pair_scaled(row + (long)b * bb, layout, q + b * 32, d8 + b * 8, s + b));
        b += 2;
    }
    float tail = 0;
    if (b < blocks) tail = s[b] * _mm512_reduce_add_ps(row_dot(row, layout, q, d8, b, blocks));
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + tail;
}

/// Per-OC, an even number of blocks per group: each group's pairs scaled by s[r,g].
INLINE I8 float row_oc_even(const uint8_t *row, int layout, const int8_t *q, const float *d8, const float *s,
                            int groups, int gb, int blocks) {
    int bb = ada_block_bytes(layout);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (int g = 0; g < groups; g++) {
        __m512 sv = _mm512_set1_ps(s[g]);
        int b = g * gb, b1 = b + gb < blocks ? b + gb : blocks;
        for (; b + 4 <= b1; b += 4) {
            __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), pair_codes(row + (long)b * bb, layout),
                                             _mm512_loadu_si512((const void *)(q + b * 32)));
            __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), pair_codes(row + (long)(b + 2) * bb, layout),
                                             _mm512_loadu_si512((const void *)(q + b * 32 + 64)));
            acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_mul_ps(_mm512_loadu_ps(d8 + b * 8), sv), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_mul_ps(_mm512_loadu_ps(d8 + b * 8 + 16), sv), acc1);
        }
        if (b < b1) acc1 = _mm512_fmadd_ps(sv, row_dot(row, layout, q, d8, b, b1), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

INLINE I8 void rows_oc_l(const ada_job *j, const ada_packed_matrix *m, float *y, int r0, int r1, int layout) {
    int groups = (m->cols + m->group - 1) / m->group, gb = m->group / 32, blocks = j->pad / 32, n = j->n;
    float spread[gb % 2 == 1 && gb > 1 ? blocks : 1], xg[n * groups];
    for (int t = 0; t < n; t++) {  // the rounded input's sum per group
        const float *xs = j->xs + (long)t * blocks;
        for (int g = 0; g < groups; g++) {
            int b1 = (g + 1) * gb < blocks ? (g + 1) * gb : blocks;
            float sum = 0;
            for (int b = g * gb; b < b1; b++) sum += xs[b];
            xg[t * groups + g] = sum;
        }
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = m->codes + r * m->row_bytes;
        const float *s = m->scales + (long)r * groups, *z = m->zeros + (long)r * groups, *sb = s;
        if (gb % 2 == 1 && gb > 1) {  // the row's scale for each block
            for (int g = 0, b = 0; g < groups; g++)
                for (int k = 0; k < gb && b < blocks; k++) spread[b++] = s[g];
            sb = spread;
        }
        for (int t = 0; t < n; t++) {
            const int8_t *q = j->xq + (long)t * j->pad;
            const float *d8 = j->xd + (long)t * blocks * 8;
            float offset = 0;
            for (int g = 0; g < groups; g++) offset += s[g] * z[g] * xg[t * groups + g];
            float dot = gb % 2 == 0 ? row_oc_even(row, layout, q, d8, s, groups, gb, blocks)
                                    : row_oc32(row, layout, q, d8, sb, blocks);
            y[(long)t * m->rows + r] = dot - offset;
        }
    }
}

/// Per-IC: for each group of rows the task touches, the scaled input s[G,:]·x in int8 form and
/// its zero term Σ_c z[G,c] · x̂[c]; then one integer dot per row.
INLINE I8 int rows_ic_l(const ada_job *j, const ada_packed_matrix *m, float *y, int r0, int r1, int layout) {
    int blocks = j->pad / 32, n = j->n;
    long per = (long)j->pad + (long)j->pad / 4 + (long)blocks * 9 + 1;  // v, int8 codes, d8, sums, zero term
    float *buf = ada_scratch((long)n * per);
    if (!buf) return -1;
    int current = -1;
    for (int r = r0; r < r1; r++) {
        int g = r / m->group;
        if (g != current) {
            const float *s = m->scales + (long)g * m->cols, *z = m->zeros + (long)g * m->cols;
            for (int t = 0; t < n; t++) {
                float *v = buf + t * per, *d8 = v + j->pad + j->pad / 4, *sums = d8 + blocks * 8;
                int8_t *q = (int8_t *)(v + j->pad);
                const float *x = j->xpad + (long)t * j->pad;
                for (int i = 0; i < m->cols; i++) v[i] = s[i] * x[i];
                for (int i = m->cols; i < j->pad; i++) v[i] = 0;
                ada_i8_quantize(v, j->pad, q, d8, sums);
                float c = 0;
                for (int i = 0; i < m->cols; i++) c += z[i] * (d8[(i / 32) * 8] * (float)q[i]);
                sums[blocks] = c;
            }
            current = g;
        }
        const uint8_t *row = m->codes + r * m->row_bytes;
        for (int t = 0; t < n; t++) {
            float *v = buf + t * per, *d8 = v + j->pad + j->pad / 4;
            const int8_t *q = (const int8_t *)(v + j->pad);
            y[(long)t * m->rows + r] = _mm512_reduce_add_ps(row_dot(row, layout, q, d8, 0, blocks)) - d8[blocks * 9];
        }
    }
    return 0;
}

I8 int ada_i8_rows(const ada_job *j, const ada_packed_matrix *m, float *y, int r0, int r1) {
    if (m->dim == 1) {
        switch (m->layout) {
        case 2: return rows_ic_l(j, m, y, r0, r1, 2);
        case 3: return rows_ic_l(j, m, y, r0, r1, 3);
        case 4: return rows_ic_l(j, m, y, r0, r1, 4);
        default: return rows_ic_l(j, m, y, r0, r1, 8);
        }
    }
    switch (m->layout) {
    case 2: rows_oc_l(j, m, y, r0, r1, 2); break;
    case 3: rows_oc_l(j, m, y, r0, r1, 3); break;
    case 4: rows_oc_l(j, m, y, r0, r1, 4); break;
    default: rows_oc_l(j, m, y, r0, r1, 8); break;
    }
    return 0;
}
