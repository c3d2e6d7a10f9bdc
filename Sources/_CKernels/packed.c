// Low-bit matrix products on packed codes, hand-written for AVX2/FMA (the target's baseline,
// -march=haswell). Each block of 32 codes is widened to Float32 in registers and multiplied
// with the input; no Float32 copy of the weights is made.
//   per-OC (scales along the row):  y[r] = sum_g s[r,g] * (sum_{c in g} q[r,c] x[c] - z[r,g] * sum_{c in g} x[c])
//   per-IC (scales along a column): y[r] = sum_c q[r,c] * (s[G,c] x[c]) - sum_c s[G,c] z[G,c] x[c], G = r / group
// so both read the codes once per token; per-IC pays one scaled copy of x per row group.
#include "packed_internal.h"
#include "simd_internal.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define block_bytes ada_block_bytes

long ada_packed_row_bytes(int cols, int layout) { return (long)((cols + 31) / 32) * block_bytes(layout); }

void ada_packed_layout(const uint8_t *codes, int rows, int cols, int layout, uint8_t *out) {
    long rb = ada_packed_row_bytes(cols, layout);
    int bb = block_bytes(layout), blocks = (cols + 31) / 32;
    memset(out, 0, (size_t)(rb * rows));
    for (int r = 0; r < rows; r++) {
        for (int b = 0; b < blocks; b++) {
            uint8_t c[32] = {0};
            int n = cols - b * 32 < 32 ? cols - b * 32 : 32;
            memcpy(c, codes + (long)r * cols + b * 32, (size_t)n);
            uint8_t *d = out + r * rb + (long)b * bb;
            if (layout == 4) {
                for (int j = 0; j < 16; j++) d[j] = (uint8_t)(c[j] | c[j + 16] << 4);
            } else if (layout == 2 || layout == 3) {
                for (int j = 0; j < 8; j++)
                    d[j] = (uint8_t)((c[j] & 3) | (c[j + 8] & 3) << 2 | (c[j + 16] & 3) << 4 | (c[j + 24] & 3) << 6);
                if (layout == 3) {
                    uint32_t h = 0;
                    for (int j = 0; j < 32; j++) h |= (uint32_t)((c[j] >> 2) & 1) << j;
                    for (int k = 0; k < 4; k++) d[8 + k] = (uint8_t)(h >> (8 * k));
                }
            } else {
                memcpy(d, c, 32);
            }
        }
    }
}

void ada_unpack_blocks(const uint8_t *row, int blocks, int layout, uint8_t *out) {
    int bb = block_bytes(layout);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *d = row + (long)b * bb;
        uint8_t *o = out + b * 32;
        if (layout == 4) {
            for (int j = 0; j < 16; j++) {
                o[j] = d[j] & 15;
                o[j + 16] = d[j] >> 4;
            }
        } else if (layout == 2 || layout == 3) {
            for (int k = 0; k < 4; k++)
                for (int j = 0; j < 8; j++) o[8 * k + j] = (d[j] >> (2 * k)) & 3;
            if (layout == 3) {
                uint32_t h = (uint32_t)d[8] | (uint32_t)d[9] << 8 | (uint32_t)d[10] << 16 | (uint32_t)d[11] << 24;
                for (int j = 0; j < 32; j++) o[j] |= (uint8_t)(((h >> j) & 1) << 2);
            }
        } else {
            memcpy(o, d, 32);
        }
    }
}

void ada_packed_unpack_row(const uint8_t *row, int cols, int layout, uint8_t *out) {
    int blocks = (cols + 31) / 32;
    uint8_t codes[blocks * 32 + 1];
    ada_unpack_blocks(row, blocks, layout, codes);
    memcpy(out, codes, (size_t)cols);
}

// ---- one block of 32 codes times 32 inputs, into four accumulators ----

static inline __m256 widen8(__m128i bytes) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)); }

static inline void block8(const uint8_t *p, const float *x, __m256 acc[4]) {
    __m128i a = _mm_loadu_si128((const __m128i *)p), b = _mm_loadu_si128((const __m128i *)(p + 16));
    acc[0] = _mm256_fmadd_ps(widen8(a), _mm256_loadu_ps(x), acc[0]);
    acc[1] = _mm256_fmadd_ps(widen8(_mm_srli_si128(a, 8)), _mm256_loadu_ps(x + 8), acc[1]);
    acc[2] = _mm256_fmadd_ps(widen8(b), _mm256_loadu_ps(x + 16), acc[2]);
    acc[3] = _mm256_fmadd_ps(widen8(_mm_srli_si128(b, 8)), _mm256_loadu_ps(x + 24), acc[3]);
}

static inline void block4(const uint8_t *p, const float *x, __m256 acc[4]) {
    const __m128i m = _mm_set1_epi8(15);
    __m128i raw = _mm_loadu_si128((const __m128i *)p);
    __m128i lo = _mm_and_si128(raw, m), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), m);
    acc[0] = _mm256_fmadd_ps(widen8(lo), _mm256_loadu_ps(x), acc[0]);
    acc[1] = _mm256_fmadd_ps(widen8(_mm_srli_si128(lo, 8)), _mm256_loadu_ps(x + 8), acc[1]);
    acc[2] = _mm256_fmadd_ps(widen8(hi), _mm256_loadu_ps(x + 16), acc[2]);
    acc[3] = _mm256_fmadd_ps(widen8(_mm_srli_si128(hi, 8)), _mm256_loadu_ps(x + 24), acc[3]);
}

static inline __m128i low2(__m128i raw, int k) { return _mm_and_si128(_mm_srli_epi16(raw, 2 * k), _mm_set1_epi8(3)); }

static inline void block2(const uint8_t *p, const float *x, __m256 acc[4]) {
    __m128i raw = _mm_loadl_epi64((const __m128i *)p);
    for (int k = 0; k < 4; k++) acc[k] = _mm256_fmadd_ps(widen8(low2(raw, k)), _mm256_loadu_ps(x + 8 * k), acc[k]);
}

// Bit 2 of eight codes from one byte of the high-bit word: lut[b] holds 4 in byte i when bit i
// of b is set, added to the low two bits before widening.
static uint64_t high_lut[256];
static pthread_once_t lut_once = PTHREAD_ONCE_INIT;
static void fill_lut(void) {
    for (int b = 0; b < 256; b++) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) if (b >> i & 1) v |= (uint64_t)4 << (8 * i);
        high_lut[b] = v;
    }
}

static inline void block3(const uint8_t *p, const float *x, __m256 acc[4]) {
    __m128i raw = _mm_loadl_epi64((const __m128i *)p);
    for (int k = 0; k < 4; k++) {
        __m128i high = _mm_loadl_epi64((const __m128i *)&high_lut[p[8 + k]]);
        acc[k] = _mm256_fmadd_ps(widen8(_mm_add_epi8(low2(raw, k), high)), _mm256_loadu_ps(x + 8 * k), acc[k]);
    }
}

/// Σ over blocks [b0, b1) of codes · x (x indexed from block 0), as eight partial sums.
static inline __m256 dot_blocks_v(const uint8_t *row, int layout, const float *x, int b0, int b1) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int bb = block_bytes(layout);
    const uint8_t *p = row + (long)b0 * bb;
    const float *xp = x + (long)b0 * 32;
    switch (layout) {
    case 4: for (int b = b0; b < b1; b++, p += bb, xp += 32) block4(p, xp, acc); break;
    case 3: for (int b = b0; b < b1; b++, p += bb, xp += 32) block3(p, xp, acc); break;
    case 2: for (int b = b0; b < b1; b++, p += bb, xp += 32) block2(p, xp, acc); break;
    default: for (int b = b0; b < b1; b++, p += bb, xp += 32) block8(p, xp, acc); break;
    }
    return _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
}

static float dot_blocks(const uint8_t *row, int layout, const float *x, int b0, int b1) {
    return ada_hsum8(dot_blocks_v(row, layout, x, b0, b1));
}

// ---- the product, split into tasks of rows ----

typedef ada_job job_t;

static _Thread_local float *scratch_buf;
static _Thread_local long scratch_len;

float *ada_scratch(long n) {
    if (n > scratch_len) {
        free(scratch_buf);
        scratch_buf = malloc((size_t)n * sizeof(float));
        scratch_len = scratch_buf ? n : 0;
    }
    return scratch_buf;
}

/// Per-OC, group a multiple of 32: each group's code·x dot, less zero × the group's input sum.
static int rows_oc(const job_t *j, const ada_packed_matrix *m, float *y, int r0, int r1) {
    int groups = (m->cols + m->group - 1) / m->group, gb = m->group / 32, blocks = j->pad / 32;
    float *xs = ada_scratch((long)j->n * groups);
    if (!xs) return -1;
    for (int t = 0; t < j->n; t++) {
        const float *x = j->xpad + (long)t * j->pad;
        for (int g = 0; g < groups; g++) {
            int c1 = (g + 1) * m->group < m->cols ? (g + 1) * m->group : m->cols;
            float s = 0;
            for (int c = g * m->group; c < c1; c++) s += x[c];
            xs[t * groups + g] = s;
        }
    }
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = m->codes + r * m->row_bytes;
        const float *s = m->scales + (long)r * groups, *z = m->zeros + (long)r * groups;
        for (int t = 0; t < j->n; t++) {
            const float *x = j->xpad + (long)t * j->pad;
            // Scale each group's partial sums in registers; one horizontal sum per row.
            __m256 acc = _mm256_setzero_ps();
            float offset = 0;
            for (int g = 0; g < groups; g++) {
                int b1 = (g + 1) * gb < blocks ? (g + 1) * gb : blocks;
                acc = _mm256_fmadd_ps(_mm256_set1_ps(s[g]), dot_blocks_v(row, m->layout, x, g * gb, b1), acc);
                offset += s[g] * z[g] * xs[t * groups + g];
            }
            y[(long)t * m->rows + r] = ada_hsum8(acc) - offset;
        }
    }
    return 0;
}

/// Per-IC: rows of one group share a scaled input v = s[G,:]·x and a constant sum s·z·x.
static int rows_ic(const job_t *j, const ada_packed_matrix *m, float *y, int r0, int r1) {
    int blocks = j->pad / 32, n = j->n;
    float *v = ada_scratch((long)n * (j->pad + 1));
    if (!v) return -1;
    float *cst = v + (long)n * j->pad;
    int current = -1;
    for (int r = r0; r < r1; r++) {
        int g = r / m->group;
        if (g != current) {
            const float *s = m->scales + (long)g * m->cols, *z = m->zeros + (long)g * m->cols;
            for (int t = 0; t < n; t++) {
                const float *x = j->xpad + (long)t * j->pad;
                float *vt = v + (long)t * j->pad, c = 0;
                for (int i = 0; i < m->cols; i++) {
                    vt[i] = s[i] * x[i];
                    c += vt[i] * z[i];
                }
                for (int i = m->cols; i < j->pad; i++) vt[i] = 0;
                cst[t] = c;
            }
            current = g;
        }
        const uint8_t *row = m->codes + r * m->row_bytes;
        for (int t = 0; t < n; t++) y[(long)t * m->rows + r] = dot_blocks(row, m->layout, v + (long)t * j->pad, 0, blocks) - cst[t];
    }
    return 0;
}

/// Any other grouping (per-OC groups not a multiple of 32): the row's codes one by one.
static int rows_generic(const job_t *j, const ada_packed_matrix *m, float *y, int r0, int r1) {
    int groups = (m->cols + m->group - 1) / m->group;
    uint8_t *q = (uint8_t *)ada_scratch((m->cols + 3) / 4);
    if (!q) return -1;
    for (int r = r0; r < r1; r++) {
        ada_packed_unpack_row(m->codes + r * m->row_bytes, m->cols, m->layout, q);
        for (int t = 0; t < j->n; t++) {
            const float *x = j->xpad + (long)t * j->pad;
            float acc = 0;
            for (int c = 0; c < m->cols; c++) {
                long k = m->dim == 0 ? (long)r * groups + c / m->group : (long)(r / m->group) * m->cols + c;
                acc += ((float)q[c] - m->zeros[k]) * m->scales[k] * x[c];
            }
            y[(long)t * m->rows + r] = acc;
        }
    }
    return 0;
}

static void run_task(void *ctx, int task) {
    job_t *j = ctx;
    int k = task / j->tasks_per_matrix, part = task % j->tasks_per_matrix;
    const ada_packed_matrix *m = j->ms[k];
    // Rows split evenly; a per-IC task builds the scaled input of each group it touches. Each
    // row is computed the same way whatever the split.
    int r0 = (int)((long)m->rows * part / j->tasks_per_matrix), r1 = (int)((long)m->rows * (part + 1) / j->tasks_per_matrix);
    if (r0 >= r1) return;
    int status;
    if (j->use_i8 && (m->dim == 1 || m->group % 32 == 0)) status = ada_i8_rows(j, m, j->ys[k], r0, r1);
    else if (m->dim == 1) status = rows_ic(j, m, j->ys[k], r0, r1);
    else if (m->group % 32 == 0) status = rows_oc(j, m, j->ys[k], r0, r1);
    else status = rows_generic(j, m, j->ys[k], r0, r1);
    if (status != 0) atomic_store(&j->failed, 1);
}

int ada_packed_int8_available(void) { return ada_i8_supported(); }

int ada_packed_matmul(const ada_packed_matrix *const *ms, int count, const float *x, int n, long ldx,
                      float *const *ys, int flags) {
    if (count <= 0 || n <= 0) return 0;
    pthread_once(&lut_once, fill_lut);
    int cols = ms[0]->cols, pad = (cols + 31) / 32 * 32, blocks = pad / 32;
    int i8 = (flags & ADA_PACKED_INT8) && ada_i8_supported();
    // One buffer: the padded input, then (int8 path) its per-block scales and sums and codes.
    size_t floats = (size_t)n * pad + (i8 ? (size_t)n * blocks * 9 + (size_t)n * pad / 4 : 0);
    float *xpad = calloc(floats, sizeof(float));
    if (!xpad) return -1;
    for (int t = 0; t < n; t++) memcpy(xpad + (long)t * pad, x + t * ldx, (size_t)cols * sizeof(float));
    float *xd = xpad + (long)n * pad, *xs = xd + (long)n * blocks * 8;
    int8_t *xq = (int8_t *)(xs + (long)n * blocks);
    if (i8) {
        for (int t = 0; t < n; t++)
            ada_i8_quantize(xpad + (long)t * pad, pad, xq + (long)t * pad, xd + (long)t * blocks * 8, xs + (long)t * blocks);
    }
    long work = 0;
    for (int k = 0; k < count; k++) work += (long)ms[k]->rows * cols * n;
    int threads = ada_threads();
    // Small products stay in the caller; others get a few tasks per thread for balance.
    int per = work < 65536 ? 1 : 4 * threads;
    job_t job = {ms, count, n, pad, xpad, ys, per, i8, xq, xd, xs, 0};
    ada_parallel(count * per, run_task, &job);
    free(xpad);
    return atomic_load(&job.failed) ? -1 : 0;
}

// ---- the pool: workers spin briefly on a generation counter, then sleep ----
// One job at a time (the submit lock); every started worker takes part in every job and
// reports when it has left it, so no worker can touch a job after its caller returned.

#define MAX_THREADS 16
static pthread_mutex_t submit = PTHREAD_MUTEX_INITIALIZER, sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int wanted_threads, started, finished, next_task, sleepers;
static atomic_long generation;
static void (*job_fn)(void *, int);
static void *job_ctx;
static int job_tasks;

static void work(void) {
    int t;
    while ((t = atomic_fetch_add(&next_task, 1)) < job_tasks) job_fn(job_ctx, t);
}

static void *worker(void *arg) {
    long seen = (long)(intptr_t)arg;
    for (;;) {
        int spins = 0;
        while (atomic_load(&generation) == seen) {
            if (++spins < 100000) { _mm_pause(); continue; }
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = atomic_load(&generation);
        work();
        atomic_fetch_add(&finished, 1);
    }
    return NULL;
}

static void init_threads(void) {
    const char *env = getenv("ADA_THREADS");
    long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    atomic_store(&wanted_threads, (int)(n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n));
}

int ada_threads(void) {
    pthread_once(&once, init_threads);
    return atomic_load(&wanted_threads);
}

void ada_set_threads(int n) {
    pthread_once(&once, init_threads);
    atomic_store(&wanted_threads, n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n);
}

void ada_parallel(int tasks, void (*fn)(void *ctx, int task), void *ctx) {
    int threads = ada_threads();
    if (tasks <= 1 || threads <= 1 || pthread_mutex_trylock(&submit) != 0) {
        for (int t = 0; t < tasks; t++) fn(ctx, t);
        return;
    }
    while (atomic_load(&started) < threads - 1) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker, (void *)(intptr_t)atomic_load(&generation)) != 0) break;
        pthread_detach(th);
        atomic_fetch_add(&started, 1);
    }
    job_fn = fn;
    job_ctx = ctx;
    job_tasks = tasks;
    atomic_store(&finished, 0);
    atomic_store(&next_task, 0);
    atomic_fetch_add(&generation, 1);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    work();
    int workers = atomic_load(&started);
    while (atomic_load(&finished) < workers) _mm_pause();
    pthread_mutex_unlock(&submit);
}
