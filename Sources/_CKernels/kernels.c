// Hand-written vector kernels. The exponential is Cody–Waite range reduction plus the Cephes
// degree-6 polynomial (relative error < 2e-7 on [-87, 88]). Built with reassociation allowed
// (see Package.swift), so rounding must be an explicit floorf (vroundps), never an
// add-and-subtract trick the optimizer would fold away.
#include "ada_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float exp_poly(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.37f ? 88.37f : x;
    float fx = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - fx * 0.693359375f + fx * 2.12194440e-4f;
    float r2 = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r2 + r + 1.0f;
    int32_t n = (int32_t)fx;
    uint32_t bits = (uint32_t)(n + 127) << 23;
    float s;
    memcpy(&s, &bits, 4);
    return y * s;
}

float ada_exp(float x) { return exp_poly(x); }

float ada_max(const float *x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

double ada_sum_exp(const float *x, int n, float shift) {
    double total = 0;
    for (int i = 0; i < n; i += 256) {
        int e = i + 256 < n ? i + 256 : n;
        float s = 0;
        for (int j = i; j < e; j++) s += exp_poly(x[j] - shift);
        total += s;
    }
    return total;
}

float ada_exp_inplace(float *x, int n, float shift) {
    float s = 0;
    for (int i = 0; i < n; i++) {
        float e = exp_poly(x[i] - shift);
        x[i] = e;
        s += e;
    }
    return s;
}

void ada_causal_softmax(float *p, int t) {
    for (int r = 0; r < t; r++) {
        float *row = p + (long)r * t;
        int n = r + 1;
        float m = ada_max(row, n);
        float inv = 1.0f / ada_exp_inplace(row, n, m);
        for (int j = 0; j < n; j++) row[j] *= inv;
        for (int j = n; j < t; j++) row[j] = 0;
    }
}

void ada_swiglu(float *g, const float *u, long n) {
    for (long i = 0; i < n; i++) {
        float x = g[i];
        g[i] = x / (1.0f + exp_poly(-x)) * u[i];
    }
}

void ada_window_softmax(float *p, int t, int window) {
    for (int r = 0; r < t; r++) {
        float *row = p + (long)r * t;
        int lo = r - window + 1 < 0 ? 0 : r - window + 1;
        int n = r + 1 - lo;
        float m = ada_max(row + lo, n);
        float inv = 1.0f / ada_exp_inplace(row + lo, n, m);
        for (int j = 0; j < lo; j++) row[j] = 0;
        for (int j = lo; j <= r; j++) row[j] *= inv;
        for (int j = r + 1; j < t; j++) row[j] = 0;
    }
}

void ada_geglu(float *g, const float *u, long n) {
    const float c = 0.7978845608028654f;  // sqrt(2 / pi)
    for (long i = 0; i < n; i++) {
        float x = g[i];
        float y = c * (x + 0.044715f * x * x * x);
        // tanh(y) = 1 - 2 / (exp(2y) + 1), saturating for large |y|.
        float th = 1.0f - 2.0f / (exp_poly(2.0f * y) + 1.0f);
        g[i] = 0.5f * x * (1.0f + th) * u[i];
    }
}

// Natural logarithm of a positive normal float: the exponent split off, the mantissa moved
// to [sqrt(1/2), sqrt(2)), and the Cephes degree-9 polynomial (error about 1e-7 relative).
static inline float log_poly(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    float e = (float)((int32_t)((bits >> 23) & 0xff) - 126);
    bits = (bits & 0x807fffffu) | 0x3f000000u;  // mantissa in [0.5, 1)
    float m;
    memcpy(&m, &bits, 4);
    int low = m < 0.707106781186547524f;
    e = low ? e - 1.0f : e;
    m = low ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    return m + y + 0.693359375f * e;
}

// Branch-free, so loops over it vectorize: the power of max(x, 1e-30), then 0 below that.
static inline float pow_pos(float x, float p) {
    float y = exp_poly(p * log_poly(fmaxf(x, 1e-30f)));
    return x < 1e-30f ? 0.0f : y;
}

float ada_pow_pos(float x, float p) { return pow_pos(x, p); }

double ada_clip_error(const float *x, const float *w, int n, float scale, float zero, int integer_zero, float maxq,
                      float norm, double bound) {
    double s = 0;
    float d[32];
    for (int i = 0; i < n; i += 32) {
        int e = i + 32 < n ? i + 32 : n, len = e - i;
        for (int j = 0; j < len; j++) {
            float v = x[i + j];
            float q = integer_zero ? rintf(v / scale) + zero : rintf(v / scale + zero);
            q = q < 0 ? 0 : q > maxq ? maxq : q;
            d[j] = fabsf(v - (q - zero) * scale);
        }
        if (norm == 2.0f) {
            for (int j = 0; j < len; j++) d[j] *= d[j];
        } else {
            for (int j = 0; j < len; j++) d[j] = pow_pos(d[j], norm);
        }
        float chunk = 0;
        if (w) {
            for (int j = 0; j < len; j++) chunk += w[i + j] * d[j];
        } else {
            for (int j = 0; j < len; j++) chunk += d[j];
        }
        s += chunk;
        if (s >= bound) return s;
    }
    return s;
}
