using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

/// <summary>Which tanh-or-erf form of GELU to use.</summary>
public enum GeluApproximation
{
    /// <summary>Exact: x·Φ(x) = 0.5·x·(1 + erf(x/√2)).</summary>
    None,

    /// <summary>GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    Tanh,
}

public sealed partial class Tensor
{
    private delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>Applies an element-wise map; returns the result and the contiguous input (detached, sharing storage when it can).</summary>
    private (Tensor Y, Tensor X) UnaryForward(SpanMap f)
    {
        var x = Float().Detach().Contiguous();
        var y = GradBuffers.Rent(Numel);
        f(x.Span, y);
        return (new Tensor(y, ShapeArr), x);
    }

    /// <summary>g ⊙ f'(saved) for a unary op: the local derivative is computed span-wise from a saved input or output.</summary>
    private static Tensor ChainGrad(Tensor g, Tensor saved, SpanMap derivative)
    {
        var d = GradBuffers.Rent(saved.Numel);
        derivative(saved.Span, d);
        TensorPrimitives.Multiply(g.Float().Contiguous().Span, d, d);
        return new Tensor(d, saved.ShapeArr);
    }

    // Each op: x [..] -> y [..], same shape. Neg, Exp, Log, Sqrt, Abs, Pow and Clamp on a Float64
    // tensor compute in double (Math.Exp, Math.Log, …) and return Float64, with no gradient; every
    // other unary op reads it as float32.

    public Tensor Neg()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Neg, "neg");
        if (Dtype == DType.Float64)
            return MapDouble(static x => -x);
        var (y, _) = UnaryForward(TensorPrimitives.Negate);
        return Record(y, "neg", [this], g => [g.Neg()]);
    }

    public Tensor Exp()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Exp, "exp");
        if (Dtype == DType.Float64)
            return MapDouble(Math.Exp);
        var (y, _) = UnaryForward(TensorPrimitives.Exp);
        return Record(y, "exp", [this], g => [Binary(g, y, BinaryOp.Mul, "exp")]);
    }

    public Tensor Log()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Log, "log");
        if (Dtype == DType.Float64)
            return MapDouble(Math.Log);
        var (y, x) = UnaryForward(TensorPrimitives.Log);
        return Record(y, "log", [this], g => [Binary(g, x, BinaryOp.Div, "log")]);
    }

    public Tensor Sqrt()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Sqrt, "sqrt");
        if (Dtype == DType.Float64)
            return MapDouble(Math.Sqrt);
        var (y, _) = UnaryForward(TensorPrimitives.Sqrt);
        // d sqrt(x) = 1 / (2 sqrt(x))
        return Record(y, "sqrt", [this], g => [Binary(g, Binary(y, Scalar(2f), BinaryOp.Mul, "sqrt"), BinaryOp.Div, "sqrt")]);
    }

    public Tensor Rsqrt()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Rsqrt, "rsqrt");
        var (y, _) = UnaryForward(static (x, d) =>
        {
            TensorPrimitives.Sqrt(x, d);
            TensorPrimitives.Divide(1f, d, d);
        });
        // d x^(-1/2) = -1/2 · x^(-3/2) = -1/2 · y³
        return Record(y, "rsqrt", [this], g => [ChainGrad(g, y, static (v, d) =>
        {
            TensorPrimitives.Multiply(v, v, d);
            TensorPrimitives.Multiply(d, v, d);
            TensorPrimitives.Multiply(d, -0.5f, d);
        })]);
    }

    /// <summary>x^p for a scalar exponent (on Float64: <see cref="Math.Pow"/> with p widened).</summary>
    public Tensor Pow(float p)
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Pow, "pow", p);
        if (Dtype == DType.Float64)
            return MapDouble(x => Math.Pow(x, p));
        var (y, x) = UnaryForward((s, d) => TensorPrimitives.Pow(s, p, d));
        // d xᵖ = p·x^(p−1)
        return Record(y, "pow", [this], g => [ChainGrad(g, x, (v, d) =>
        {
            if (p == 0)
            {
                d.Clear(); // x⁰ is constant, even at x = 0
                return;
            }
            TensorPrimitives.Pow(v, p - 1f, d);
            TensorPrimitives.Multiply(d, p, d);
        })]);
    }

    /// <summary>|x|; the gradient at 0 is 0.</summary>
    public Tensor Abs()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Abs, "abs");
        if (Dtype == DType.Float64)
            return MapDouble(Math.Abs);
        var (y, x) = UnaryForward(TensorPrimitives.Abs);
        return Record(y, "abs", [this], g => [ChainGrad(g, x, static (v, d) =>
        {
            for (int i = 0; i < v.Length; i++)
                d[i] = v[i] > 0 ? 1f : v[i] < 0 ? -1f : 0f;
        })]);
    }

    /// <summary>tanh, per element with <see cref="MathF.Tanh"/> (the vectorised TensorPrimitives.Tanh loses relative accuracy near 0).</summary>
    public Tensor Tanh()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Tanh, "tanh");
        var (y, _) = UnaryForward(static (s, d) =>
        {
            for (int i = 0; i < s.Length; i++)
                d[i] = MathF.Tanh(s[i]);
        });
        // d tanh = 1 − y²
        return Record(y, "tanh", [this], g => [ChainGrad(g, y, static (v, d) =>
        {
            TensorPrimitives.Multiply(v, v, d);
            TensorPrimitives.Subtract(1f, d, d);
        })]);
    }

    public Tensor Sigmoid()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Sigmoid, "sigmoid");
        var (y, _) = UnaryForward(TensorPrimitives.Sigmoid);
        // d σ = y·(1 − y)
        return Record(y, "sigmoid", [this], g => [ChainGrad(g, y, static (v, d) =>
        {
            TensorPrimitives.Subtract(1f, v, d);
            TensorPrimitives.Multiply(d, v, d);
        })]);
    }

    /// <summary>max(x, 0); the gradient at 0 is 0.</summary>
    public Tensor Relu()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Relu, "relu");
        var (y, x) = UnaryForward(static (s, d) => TensorPrimitives.Max(s, 0f, d));
        return Record(y, "relu", [this], g => [ChainGrad(g, x, static (v, d) =>
        {
            for (int i = 0; i < v.Length; i++)
                d[i] = v[i] > 0 ? 1f : 0f;
        })]);
    }

    /// <summary>x·σ(x) (SiLU / swish), used by SwiGLU; one fused pass each way (<see cref="SiluKernels"/>).</summary>
    public Tensor Silu()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Silu, "silu");
        var (y, x) = UnaryForward(static (s, d) => SiluKernels.Silu(s, d));
        // d/dx xσ(x) = σ(x)·(1 + x·(1 − σ(x)))
        return Record(y, "silu", [this], g =>
        {
            var d = GradBuffers.Rent(x.Numel);
            SiluKernels.SiluBackward(x.Span, g.Float().Contiguous().Span, d);
            return [new Tensor(d, x.ShapeArr)];
        });
    }

    /// <summary>log(1 + eˣ), computed stably for any x.</summary>
    public Tensor Softplus()
    {
        if (G is not null)
            return DeviceUnary(UnaryOp.Softplus, "softplus");
        var (y, x) = UnaryForward(static (s, d) =>
        {
            for (int i = 0; i < s.Length; i++)
                d[i] = SoftplusScalar(s[i]);
        });
        // d softplus = σ(x)
        return Record(y, "softplus", [this], g => [ChainGrad(g, x, TensorPrimitives.Sigmoid)]);
    }

    /// <summary>
    /// log(1 + eᵛ) in double: v + log(1 + e⁻ᵛ) for v &gt; 0; for v &lt; −15, eᵛ − e²ᵛ/2 (the log1p series,
    /// exact to float precision there, where log(1 + eᵛ) would round 1 + eᵛ).
    /// </summary>
    internal static float SoftplusScalar(float v)
    {
        if (v > 0)
            return v + (float)Math.Log(1.0 + Math.Exp(-(double)v));
        if (v < -15)
        {
            double e = Math.Exp(v);
            return (float)(e - (0.5 * e * e));
        }
        return (float)Math.Log(1.0 + Math.Exp(v));
    }

    /// <summary>GELU, exact (erf) or with GPT-2's tanh approximation.</summary>
    public Tensor Gelu(GeluApproximation approximate = GeluApproximation.None)
    {
        if (G is not null)
            return DeviceUnary(approximate == GeluApproximation.Tanh ? UnaryOp.GeluTanh : UnaryOp.GeluErf, approximate == GeluApproximation.Tanh ? "gelu_tanh" : "gelu");
        if (approximate == GeluApproximation.Tanh)
        {
            // The float kernels (FastExp-based σ), split over threads like the other wide element-wise ops.
            var xt = Float().Detach().Contiguous();
            var yt = GradBuffers.Rent(Numel);
            ElementwiseParallel(xt, null, yt, static (s, _, d) => SiluKernels.GeluTanh(s, d));
            return Record(new Tensor(yt, ShapeArr), "gelu_tanh", [this], g =>
            {
                var gd = g.Float().Contiguous();
                var d = GradBuffers.Rent(xt.Numel);
                ElementwiseParallel(xt, gd, d, static (s, gs, dst) => SiluKernels.GeluTanhBackward(s, gs, dst));
                return [new Tensor(d, xt.ShapeArr)];
            });
        }
        var (y, x) = UnaryForward(static (s, d) =>
        {
            for (int i = 0; i < s.Length; i++)
                d[i] = (float)(s[i] * Phi(s[i]));
        });
        // d/dx x·Φ(x) = Φ(x) + x·φ(x)
        return Record(y, "gelu", [this], g => [ChainGrad(g, x, static (v, d) =>
        {
            for (int i = 0; i < v.Length; i++)
            {
                double xv = v[i];
                d[i] = (float)(Phi(xv) + (xv * InvSqrt2Pi * Math.Exp(-0.5 * xv * xv)));
            }
        })]);
    }

    private delegate void SpanKernel(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> y);

    // y[i] = f(x[i], g[i]) over contiguous x (and g), in chunks over the engine's threads when wide enough.
    private static void ElementwiseParallel(Tensor x, Tensor? g, float[] y, SpanKernel kernel)
    {
        var xs = x.F!;
        int xo = x.Offset, n = x.Numel;
        var gs = g?.F;
        int go = g?.Offset ?? 0;
        Partition.For(n, 16, (_, start, end) =>
            kernel(xs.AsSpan(xo + start, end - start), gs is null ? default : gs.AsSpan(go + start, end - start), y.AsSpan(start, end - start)));
    }

    private const double InvSqrt2Pi = 0.3989422804014327; // 1/√(2π)

    /// <summary>erf(x) = 1 − erfc(x), in float.</summary>
    internal static float Erf(float x) => (float)(1.0 - Erfc(x));

    /// <summary>Standard normal CDF Φ(x) = ½·erfc(−x/√2); keeps relative accuracy in the left tail.</summary>
    internal static double Phi(double x) => 0.5 * Erfc(-x * 0.7071067811865476);

    /// <summary>erfc via the Chebyshev fit from Numerical Recipes (fractional error below 1.2e-7 everywhere), in double.</summary>
    internal static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + (0.5 * z));
        double poly = 0.17087277;
        foreach (var coef in ErfCoefficients)
            poly = coef + (t * poly);
        double tau = t * Math.Exp((-z * z) + poly);
        return x >= 0 ? tau : 2.0 - tau;
    }

    // Coefficients of t^8 … t^0 after the leading 0.17087277 (Numerical Recipes, erfc).
    private static readonly double[] ErfCoefficients =
        [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

    /// <summary>
    /// Clamps to [min, max] (either may be null); the gradient is 0 outside. On a Float64 tensor
    /// the bounds are widened exactly and the result is Float64 (no gradient).
    /// </summary>
    public Tensor Clamp(float? min = null, float? max = null)
    {
        float lo = min ?? float.NegativeInfinity, hi = max ?? float.PositiveInfinity;
        if (lo > hi)
            throw new ArgumentException($"Clamp: min {lo} is greater than max {hi}");
        if (Dtype == DType.Float64)
            return Clamp((double?)min, (double?)max);
        if (G is not null)
            return DeviceUnary(UnaryOp.Clamp, "clamp", lo, hi);
        var (y, x) = UnaryForward((s, d) =>
        {
            TensorPrimitives.Max(s, lo, d);
            TensorPrimitives.Min(d, hi, d);
        });
        return Record(y, "clamp", [this], g => [ChainGrad(g, x, (v, d) =>
        {
            for (int i = 0; i < v.Length; i++)
                d[i] = v[i] >= lo && v[i] <= hi ? 1f : 0f;
        })]);
    }
}
