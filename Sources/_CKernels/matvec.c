// Float32 matrix times one vector, y = W·x, on the kernels' thread pool: a decoding step's
// dense products. Memory-bound: each weight is read once, so the rows are split across the
// pool's threads, four rows at a time against the same slice of x. On a 1 GiB matrix this and
// OpenBLAS's sgemv read alike (35 and 33 GB/s here); on a decoder's many small matrices the
// pool's cheap hand-off wins (SmolLM2 F32 decoding 35 tok/s with sgemv, 63–78 with this;
// docs/benchmarks.md).
#include "ada_kernels.h"
#include "simd_internal.h"

typedef struct {
    const float *w, *x;
    float *y;
    int rows, cols, tasks;
} mv_job;

static void mv_rows(const mv_job *j, int r0, int r1) {
    int cols = j->cols, body = cols / 16 * 16;
    const float *x = j->x;
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const float *w0 = j->w + (long)r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int c = 0; c < body; c += 16) {
            __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), x0, a0);
            b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c + 8), x1, b0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c), x0, a1);
            b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c + 8), x1, b1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c), x0, a2);
            b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c + 8), x1, b2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c), x0, a3);
            b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c + 8), x1, b3);
        }
        float s0 = ada_hsum8(_mm256_add_ps(a0, b0)), s1 = ada_hsum8(_mm256_add_ps(a1, b1));
        float s2 = ada_hsum8(_mm256_add_ps(a2, b2)), s3 = ada_hsum8(_mm256_add_ps(a3, b3));
        for (int c = body; c < cols; c++) {
            s0 += w0[c] * x[c];
            s1 += w1[c] * x[c];
            s2 += w2[c] * x[c];
            s3 += w3[c] * x[c];
        }
        j->y[r] = s0;
        j->y[r + 1] = s1;
        j->y[r + 2] = s2;
        j->y[r + 3] = s3;
    }
    for (; r < r1; r++) {
        const float *w0 = j->w + (long)r * cols;
        __m256 a0 = _mm256_setzero_ps(), b0 = a0;
        for (int c = 0; c < body; c += 16) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), _mm256_loadu_ps(x + c), a0);
            b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c + 8), _mm256_loadu_ps(x + c + 8), b0);
        }
        float s0 = ada_hsum8(_mm256_add_ps(a0, b0));
        for (int c = body; c < cols; c++) s0 += w0[c] * x[c];
        j->y[r] = s0;
    }
}

static void mv_task(void *ctx, int task) {
    const mv_job *j = ctx;
    // Task boundaries on multiples of 4 rows, so each row is computed the same way whatever
    // the split.
    int quads = (j->rows + 3) / 4;
    int r0 = (int)((long)quads * task / j->tasks) * 4, r1 = (int)((long)quads * (task + 1) / j->tasks) * 4;
    if (r1 > j->rows) r1 = j->rows;
    if (r0 < r1) mv_rows(j, r0, r1);
}

void ada_matvec(const float *w, int rows, int cols, const float *x, float *y) {
    if (rows <= 0) return;
    long work = (long)rows * cols;
    int threads = ada_threads();
    mv_job job = {w, x, y, rows, cols, work < 65536 ? 1 : 4 * threads};
    ada_parallel(job.tasks, mv_task, &job);
}
