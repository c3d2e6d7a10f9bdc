// Rows of a packed matrix back to Float32, (code − zero) · scale, for products with many
// input rows (a prompt's pass): a panel of rows is dequantized here and multiplied with
// sgemm, which then reuses each weight across the rows of the input.
#include "packed_internal.h"

typedef struct {
    const ada_packed_matrix *m;
    int r0, r1, tasks;
    float *out;
} dequant_job;

static void dequant_task(void *ctx, int task) {
    const dequant_job *j = ctx;
    const ada_packed_matrix *m = j->m;
    int n = j->r1 - j->r0;
    int a = j->r0 + (int)((long)n * task / j->tasks), b = j->r0 + (int)((long)n * (task + 1) / j->tasks);
    int cols = m->cols, blocks = (cols + 31) / 32, groups = (cols + m->group - 1) / m->group;
    uint8_t codes[blocks * 32];
    for (int r = a; r < b; r++) {
        ada_unpack_blocks(m->codes + (long)r * m->row_bytes, blocks, m->layout, codes);
        float *w = j->out + (long)(r - j->r0) * cols;
        if (m->dim == 0) {
            const float *s = m->scales + (long)r * groups, *z = m->zeros + (long)r * groups;
            for (int g = 0; g < groups; g++) {
                int c0 = g * m->group, c1 = c0 + m->group < cols ? c0 + m->group : cols;
                float sg = s[g], zg = z[g];
                for (int c = c0; c < c1; c++) w[c] = ((float)codes[c] - zg) * sg;
            }
        } else {
            const float *s = m->scales + (long)(r / m->group) * cols, *z = m->zeros + (long)(r / m->group) * cols;
            for (int c = 0; c < cols; c++) w[c] = ((float)codes[c] - z[c]) * s[c];
        }
    }
}

// In the caller, not on the pool: dequantizing takes about 0.3 ns per weight on one core
// (a SmolLM2 layer in 0.3 ms), while waking the pool between sgemm calls leaves its workers
// spinning on the cores OpenBLAS's threads need (measured on SmolLM2 w4: a 512-token prompt's
// pass took 1.2–1.5 s that way, 0.65–0.77 s this way).
void ada_packed_dequantize(const ada_packed_matrix *m, int r0, int r1, float *out) {
    if (r1 <= r0) return;
    dequant_job job = {m, r0, r1, 1, out};
    dequant_task(&job, 0);
}
