// Shared between packed.c (layouts, the Float32 kernels, the pool) and packed_i8.c (the
// int8-activation kernels): the job of one ada_packed_matmul call.
#ifndef ADA_PACKED_INTERNAL_H
#define ADA_PACKED_INTERNAL_H
#include "ada_packed.h"
#include <stdatomic.h>

static inline int ada_block_bytes(int layout) {
    switch (layout) {
    case 2: return 8;
    case 3: return 12;
    case 4: return 16;
    default: return 32;
    }
}

typedef struct {
    const ada_packed_matrix *const *ms;
    int count, n, pad;  // pad = columns rounded up to 32
    const float *xpad;  // n × pad, zero past cols
    float *const *ys;
    int tasks_per_matrix;
    // The int8 path (use_i8): each input row quantized per block of 32 (ada_i8_quantize).
    int use_i8;
    const int8_t *xq;  // n × pad
    const float *xd;   // n × blocks × 8: each block's scale, repeated 8 times
    const float *xs;   // n × blocks: each block's sum, scale × Σ codes
    atomic_int failed; // a task could not allocate its scratch
} ada_job;

/// Codes of `blocks` blocks of one row from the kernel layout, one per byte (32 per block,
/// the padding past the last column included): ada_packed_unpack_row and the panels'
/// dequantization (packed_dequant.c).
void ada_unpack_blocks(const uint8_t *row, int blocks, int layout, uint8_t *out);
/// Per-thread scratch of at least n floats (kept between calls), NULL when out of memory.
float *ada_scratch(long n);
/// Quantizes x[0..pad) per block of 32 to int8 codes q (round to nearest, |q| ≤ 127), the
/// block's scale d = max|x|/127 repeated 8 times into d8, and d·Σq into sums.
void ada_i8_quantize(const float *x, int pad, int8_t *q, float *d8, float *sums);
/// Whether this CPU runs the int8 kernels (AVX-512 F/BW/VL/DQ and VNNI).
int ada_i8_supported(void);
/// Rows [r0, r1) of matrix m on the int8 path; 0 on success, -1 when out of memory.
int ada_i8_rows(const ada_job *j, const ada_packed_matrix *m, float *y, int r0, int r1);
#endif
