import _CKernels

/// Vectorized exponential and its reductions, backed by the C kernels of `_CKernels`
/// (hand-written: glibc's `expf` is a scalar call per element, and Swift does not vectorize
/// floating-point reductions). Cody–Waite range reduction and the Cephes degree-6
/// polynomial; relative error below 2e-7 on [-87, 88]; inputs below -87.3 give ~0, inputs
/// above 88.37 are clamped.
public enum FastMath {
    @inlinable
    public static func exp(_ x: Float) -> Float { ada_exp(x) }

    /// `x^p` for `x > 0` as `exp(p·log x)` with the same kind of polynomials (relative error a
    /// few 1e-6 while `|p·log x| ≤ 40`); 0 for `x < 1e-30`. The clip search's error norm.
    @inlinable
    public static func pow(_ x: Float, _ p: Float) -> Float { ada_pow_pos(x, p) }

    /// Maximum of a contiguous run (−∞ when empty).
    @inlinable
    public static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float { ada_max(x, Int32(n)) }

    /// Sum of `exp(x[i] − shift)`; blocks of 256 summed in single precision, then in double.
    @inlinable
    public static func sumExp(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> Double {
        ada_sum_exp(x, Int32(n), shift)
    }

    /// In place `x[i] = exp(x[i] − shift)`, returning the sum.
    @inlinable
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        ada_exp_inplace(x, Int32(n), shift)
    }

    /// Row-wise causal softmax of a `t × t` matrix; entries past the diagonal become 0.
    @inlinable
    public static func causalSoftmax(_ p: UnsafeMutablePointer<Float>, _ t: Int) { ada_causal_softmax(p, Int32(t)) }

    /// Causal softmax where row `r` sees columns `r − window + 1 … r` only.
    public static func windowSoftmax(_ p: UnsafeMutablePointer<Float>, _ t: Int, _ window: Int) {
        ada_window_softmax(p, Int32(t), Int32(window))
    }

    /// `g[i] = gelu_tanh(g[i]) · u[i]`.
    @inlinable
    public static func geglu(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, _ n: Int) {
        ada_geglu(g, u, n)
    }

    /// `g[i] = silu(g[i]) · u[i]`.
    @inlinable
    public static func swiglu(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, _ n: Int) {
        ada_swiglu(g, u, n)
    }
}
