// Small AVX2 helpers shared by the C kernels (packed.c, matvec.c).
#ifndef ADA_SIMD_INTERNAL_H
#define ADA_SIMD_INTERNAL_H
#include <immintrin.h>

/// The sum of a vector's eight lanes.
static inline float ada_hsum8(__m256 v) {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_shuffle_ps(a, a, 1));
    return _mm_cvtss_f32(a);
}
#endif
