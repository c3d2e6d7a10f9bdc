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
