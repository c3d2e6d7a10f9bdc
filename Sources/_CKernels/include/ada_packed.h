#ifndef ADA_PACKED_H
#define ADA_PACKED_H
// Matrix products that read low-bit codes directly (packed.c), for batch-1 and small-batch
// work on quantized layers, and the small thread pool they run on.
#include <stdint.h>

/// The kernel layout of a row: blocks of 32 codes, padded with code 0 past the last column.
/// layout 8: one byte per code. layout 4: byte j holds codes j (low nibble) and j+16.
/// layout 2: byte j holds codes j, j+8, j+16, j+24 (bits 0-1, 2-3, 4-5, 6-7).
/// layout 3: the low two bits as layout 2 (8 bytes), then a 32-bit little-endian word whose
/// bit j is bit 2 of code j (4 bytes).
long ada_packed_row_bytes(int cols, int layout);
/// Writes `rows` rows of `codes` (one per byte, row-major, each < 2^layout) in the layout.
void ada_packed_layout(const uint8_t *codes, int rows, int cols, int layout, uint8_t *out);
/// Reads one row back, one code per byte (the inverse of ada_packed_layout).
void ada_packed_unpack_row(const uint8_t *row, int cols, int layout, uint8_t *out);

/// A quantized [rows, cols] matrix: codes in the kernel layout, Float32 scales and zeros on
/// the quantizer's grid — dim 0 (per-OC): [rows, ceil(cols/group)]; dim 1 (per-IC):
/// [ceil(rows/group), cols]. Element (r, c) is (code - zero) * scale.
typedef struct {
    int rows, cols, layout, dim, group;
    long row_bytes;
    const uint8_t *codes;
    const float *scales, *zeros;
} ada_packed_matrix;

/// Y[t][r] = sum_c W[r][c] * X[t][c] for t < n, for each of `count` matrices sharing the
/// same input (cols equal): ys[k] is matrix k's [n, rows] result, row-major. X has row
/// stride ldx. Runs on the pool (one call, every matrix's rows split into tasks). flags:
/// ADA_PACKED_INT8 rounds each input row to int8 per block of 32 (scale max|x|/127) and
/// multiplies with integer dot products (AVX-512 VNNI) where the CPU has them
/// (ada_packed_int8_available); without the flag, or without VNNI, inputs stay Float32.
/// Returns 0, or -1 when memory for the work buffers could not be allocated (ys incomplete).
#define ADA_PACKED_INT8 1
int ada_packed_matmul(const ada_packed_matrix *const *ms, int count, const float *x, int n, long ldx,
                      float *const *ys, int flags);
/// Rows [r0, r1) of m as Float32, (code − zero) · scale, into out ([r1 − r0, cols],
/// row-major), in the caller: the weights of a panel for a product with many input rows.
void ada_packed_dequantize(const ada_packed_matrix *m, int r0, int r1, float *out);
/// 1 when ADA_PACKED_INT8 takes effect on this CPU (AVX-512 F/BW/VL/DQ with VNNI), else 0.
int ada_packed_int8_available(void);

/// Threads the pool uses (the caller included): ADA_THREADS if set, else the processor count,
/// at most 16. ada_set_threads changes it (1 = run in the caller only).
int ada_threads(void);
void ada_set_threads(int n);
/// Runs fn(ctx, i) for i < tasks on the pool; returns when all are done. A call made while
/// the pool is busy (another thread's call) runs its tasks in the caller.
void ada_parallel(int tasks, void (*fn)(void *ctx, int task), void *ctx);
#endif
