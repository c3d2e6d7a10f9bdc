#ifndef ADA_KERNELS_H
#define ADA_KERNELS_H
#include "ada_packed.h"  // the packed products (packed.c)
// Vectorized element-wise kernels (exp, softmax, SiLU) for the forward pass. Written in C so
// the compiler may reassociate reductions and use AVX2/FMA; see kernels.c.

/// Maximum of x[0..n) (-INFINITY when n == 0).
float ada_max(const float *x, int n);
/// Sum of exp(x[i] - shift), accumulated per 256-element block in float, then in double.
double ada_sum_exp(const float *x, int n, float shift);
/// x[i] = exp(x[i] - shift) in place; returns the sum.
float ada_exp_inplace(float *x, int n, float shift);
/// Row-wise causal softmax of a t×t row-major matrix (columns past the diagonal become 0).
void ada_causal_softmax(float *p, int t);
/// g[i] = silu(g[i]) * u[i].
void ada_swiglu(float *g, const float *u, long n);
/// Row-wise causal softmax where row r sees columns r-window+1 .. r only (others become 0).
void ada_window_softmax(float *p, int t, int window);
/// g[i] = gelu_tanh(g[i]) * u[i].
void ada_geglu(float *g, const float *u, long n);
/// y[r] = Σ_c w[r·cols + c]·x[c] for r < rows (row-major W, one input vector), rows split
/// across the kernels' thread pool (matvec.c); each row summed the same way whatever the split.
void ada_matvec(const float *w, int rows, int cols, const float *x, float *y);
/// Scalar exp with the same polynomial (for tests and odd spots).
float ada_exp(float x);
/// x^p for x > 0 as exp(p·log x) with polynomial log and exp (relative error a few 1e-6 for
/// |p·log x| ≤ 40); 0 for x < 1e-30.
float ada_pow_pos(float x, float p);
/// The clip search's group error Σ w[i]·|x[i] − x̂[i]|^norm (w NULL: all 1), x̂ the round trip
/// of x[i] through scale and zero (integer_zero: round x/scale, then add zero; else round
/// x/scale + zero; codes clamped to [0, maxq]), |d|^norm as ada_pow_pos (norm 2: d·d).
/// Summed per 32 elements in float, then in double; returns once the sum reaches bound.
double ada_clip_error(const float *x, const float *w, int n, float scale, float zero, int integer_zero, float maxq,
                      float norm, double bound);
#endif
