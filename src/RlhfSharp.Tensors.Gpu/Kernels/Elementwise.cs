using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// Element-wise kernels. Each thread walks the elements with a grid stride (i, i + threads, …), so a
/// launch uses as many threads as the device runs well rather than one per element. Inputs are read
/// through a <see cref="Layout"/> (any view or broadcast); outputs are contiguous.
/// </summary>
internal static class Elementwise
{
    // src [shape] (any layout) -> dst [n] contiguous
    public static void Copy(Index1D t, int n, int threads, Layout src, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = x[src.At(i)];
    }

    public static void CopyInt(Index1D t, int n, int threads, Layout src, ArrayView<int> x, ArrayView<int> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = x[src.At(i)];
    }

    public static void CopyHalf(Index1D t, int n, int threads, Layout src, ArrayView<ushort> x, ArrayView<ushort> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = x[src.At(i)];
    }

    public static void Fill(Index1D t, int n, int threads, float value, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = value;
    }

    public static void IntToFloat(Index1D t, int n, int threads, Layout src, ArrayView<int> x, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = x[src.At(i)];
    }

    // bf16 bits are the high half of a float32's.
    public static void HalfToFloat(Index1D t, int n, int threads, Layout src, ArrayView<ushort> x, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = Interop.IntAsFloat((uint)x[src.At(i)] << 16);
    }

    // float32 (any layout) -> bf16 bits, rounded to nearest even (NaN stays a quiet NaN)
    public static void FloatToHalf(Index1D t, int n, int threads, Layout src, ArrayView<float> x, ArrayView<ushort> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = ToHalf(x[src.At(i)]);
    }

    // float32 (any layout) -> float32 rounded to the nearest bf16 value (what a bf16 GEMM reads)
    public static void RoundToHalf(Index1D t, int n, int threads, Layout src, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = Interop.IntAsFloat((uint)ToHalf(x[src.At(i)]) << 16);
    }

    public static ushort ToHalf(float v)
    {
        uint bits = Interop.FloatAsInt(v);
        if (float.IsNaN(v))
            return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    // a [shape] ∘ b [shape] (layouts broadcast to the output shape) -> y [n]
    public static void Binary(Index1D t, int n, int threads, int op, Layout la, ArrayView<float> a, Layout lb, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = Apply(op, a[la.At(i)], b[lb.At(i)]);
    }

    // a ∘ s, or s ∘ a when scalarFirst != 0 -> y [n]
    public static void BinaryScalar(Index1D t, int n, int threads, int op, Layout la, ArrayView<float> a, float s, int scalarFirst, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
        {
            float v = a[la.At(i)];
            y[i] = scalarFirst != 0 ? Apply(op, s, v) : Apply(op, v, s);
        }
    }

    // a ≥ b (or a ≤ b when ge == 0) as 1 or 0, broadcast to the output shape -> y [n]
    public static void Compare(Index1D t, int n, int threads, int ge, Layout la, ArrayView<float> a, Layout lb, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
        {
            float x = a[la.At(i)], v = b[lb.At(i)];
            y[i] = (ge != 0 ? x >= v : x <= v) ? 1f : 0f;
        }
    }

    // cond ≠ 0 ? a : b, all broadcast to the output shape -> y [n]
    public static void Where(Index1D t, int n, int threads, Layout lc, ArrayView<float> c, Layout la, ArrayView<float> a, Layout lb, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = c[lc.At(i)] != 0f ? a[la.At(i)] : b[lb.At(i)];
    }

    // y = f(x), x contiguous [n]
    public static void Unary(Index1D t, int n, int threads, int op, float p, float q, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = t; i < n; i += threads)
            y[i] = Map(op, x[i], p, q);
    }

    // dx = g ⊙ f'(x), from x and y = f(x); all contiguous [n]
    public static void UnaryGrad(Index1D t, int n, int threads, int op, float p, float q, ArrayView<float> x, ArrayView<float> y, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int i = t; i < n; i += threads)
            dx[i] = g[i] * Derivative(op, x[i], y[i], p, q);
    }

    public static float Apply(int op, float x, float y) => (BinaryOp)op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Sub => x - y,
        BinaryOp.Mul => x * y,
        BinaryOp.Div => x / y,
        BinaryOp.Max => x >= y || float.IsNaN(x) ? x : y,
        _ => x <= y || float.IsNaN(x) ? x : y,
    };

    private const float GeluC = 0.7978845608028654f; // √(2/π)

    public static float Map(int op, float x, float p, float q)
    {
        switch ((UnaryOp)op)
        {
            case UnaryOp.Neg: return -x;
            case UnaryOp.Exp: return MathF.Exp(x);
            case UnaryOp.Log: return MathF.Log(x);
            case UnaryOp.Sqrt: return MathF.Sqrt(x);
            case UnaryOp.Rsqrt: return 1f / MathF.Sqrt(x);
            case UnaryOp.Abs: return MathF.Abs(x);
            case UnaryOp.Tanh: return MathF.Tanh(x);
            case UnaryOp.Sigmoid: return Sigmoid(x);
            case UnaryOp.Relu: return x > 0f || float.IsNaN(x) ? x : 0f;
            case UnaryOp.Silu: return x * Sigmoid(x);
            case UnaryOp.Softplus: return x > 20f ? x : MathF.Log(1f + MathF.Exp(x));
            case UnaryOp.GeluErf: return 0.5f * x * Erfc(-x * 0.70710678f);
            case UnaryOp.GeluTanh: return x * Sigmoid(2f * GeluC * (x + (0.044715f * x * x * x)));
            case UnaryOp.Pow: return MathF.Pow(x, p);
            default: return x < p ? p : (x > q ? q : x);
        }
    }

    public static float Derivative(int op, float x, float y, float p, float q)
    {
        switch ((UnaryOp)op)
        {
            case UnaryOp.Neg: return -1f;
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return 1f / x;
            case UnaryOp.Sqrt: return 0.5f / y;
            case UnaryOp.Rsqrt: return -0.5f * y * y * y;
            case UnaryOp.Abs: return x > 0f ? 1f : (x < 0f ? -1f : 0f);
            case UnaryOp.Tanh: return 1f - (y * y);
            case UnaryOp.Sigmoid: return y * (1f - y);
            case UnaryOp.Relu: return x > 0f ? 1f : 0f;
            case UnaryOp.Silu:
                {
                    float s = Sigmoid(x);
                    return s * (1f + (x * (1f - s)));
                }
            case UnaryOp.Softplus: return Sigmoid(x);
            case UnaryOp.GeluErf:
                // Φ(x) + x·φ(x)
                return (0.5f * Erfc(-x * 0.70710678f)) + (x * 0.3989422804f * MathF.Exp(-0.5f * x * x));
            case UnaryOp.GeluTanh:
                {
                    float s = Sigmoid(2f * GeluC * (x + (0.044715f * x * x * x)));
                    float du = GeluC * (1f + (3f * 0.044715f * x * x));
                    return s + (x * 2f * s * (1f - s) * du);
                }
            case UnaryOp.Pow: return p == 0f ? 0f : p * MathF.Pow(x, p - 1f);
            default: return x >= p && x <= q ? 1f : 0f;
        }
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>erfc by the Chebyshev fit from Numerical Recipes (fractional error below 1.2e-7), as the CPU engine.</summary>
    public static float Erfc(float x)
    {
        float z = MathF.Abs(x);
        float t = 1f / (1f + (0.5f * z));
        float poly = -1.26551223f + (t * (1.00002368f + (t * (0.37409196f + (t * (0.09678418f + (t * (-0.18628806f
            + (t * (0.27886807f + (t * (-1.13520398f + (t * (1.48851587f + (t * (-0.82215223f + (t * 0.17087277f)))))))))))))))));
        float tau = t * MathF.Exp((-z * z) + poly);
        return x >= 0f ? tau : 2f - tau;
    }
}
