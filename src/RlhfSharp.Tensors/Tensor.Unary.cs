using System.Numerics.Tensors;

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

    /// <summary>Applies an element-wise map; returns the result and the contiguous input.</summary>
    private (Tensor Y, Tensor X) UnaryForward(SpanMap f)
    {
        var x = Float().Contiguous();
        var y = new float[Numel];
        f(x.Span, y);
        return (new Tensor(y, (int[])ShapeArr.Clone()), x);
    }

    // Each op: x [..] -> y [..], same shape.

    public Tensor Neg()
    {
        var (y, _) = UnaryForward(TensorPrimitives.Negate);
        return Record(y, "neg", [this], g => [g.Neg()]);
    }

    public Tensor Exp()
    {
        var (y, _) = UnaryForward(TensorPrimitives.Exp);
        return Record(y, "exp", [this], g => [Binary(g, y, BinaryOp.Mul, "exp")]);
    }

    public Tensor Log()
    {
        var (y, x) = UnaryForward(TensorPrimitives.Log);
        return Record(y, "log", [this], g => [Binary(g, x, BinaryOp.Div, "log")]);
    }

    public Tensor Sqrt()
    {
        var (y, _) = UnaryForward(TensorPrimitives.Sqrt);
        // d sqrt(x) = 1 / (2 sqrt(x))
        return Record(y, "sqrt", [this], g => [Binary(g, Binary(y, Scalar(2f), BinaryOp.Mul, "sqrt"), BinaryOp.Div, "sqrt")]);
    }

    public Tensor Rsqrt()
    {
        var (y, _) = UnaryForward(static (x, d) =>
        {
            TensorPrimitives.Sqrt(x, d);
            TensorPrimitives.Divide(1f, d, d);
        });
        // d x^(-1/2) = -1/2 · x^(-3/2) = -1/2 · y³
        return Record(y, "rsqrt", [this], g => [Binary(g, y.Map(v => -0.5f * v * v * v), BinaryOp.Mul, "rsqrt")]);
    }

    /// <summary>x^p for a scalar exponent.</summary>
    public Tensor Pow(float p)
    {
        var (y, x) = UnaryForward((s, d) => TensorPrimitives.Pow(s, p, d));
        return Record(y, "pow", [this], g => [Binary(g, x.Map(v => p * MathF.Pow(v, p - 1)), BinaryOp.Mul, "pow")]);
    }

    /// <summary>|x|; the gradient at 0 is 0.</summary>
    public Tensor Abs()
    {
        var (y, x) = UnaryForward(TensorPrimitives.Abs);
        return Record(y, "abs", [this], g => [Binary(g, x.Map(v => MathF.Sign(v)), BinaryOp.Mul, "abs")]);
    }

    public Tensor Tanh()
    {
        var (y, _) = UnaryForward(TensorPrimitives.Tanh);
        return Record(y, "tanh", [this], g => [Binary(g, y.Map(v => 1f - (v * v)), BinaryOp.Mul, "tanh")]);
    }

    public Tensor Sigmoid()
    {
        var (y, _) = UnaryForward(TensorPrimitives.Sigmoid);
        return Record(y, "sigmoid", [this], g => [Binary(g, y.Map(v => v * (1f - v)), BinaryOp.Mul, "sigmoid")]);
    }

    /// <summary>max(x, 0); the gradient at 0 is 0.</summary>
    public Tensor Relu()
    {
        var (y, x) = UnaryForward(static (s, d) => TensorPrimitives.Max(s, 0f, d));
        return Record(y, "relu", [this], g => [Binary(g, x.Map(v => v > 0 ? 1f : 0f), BinaryOp.Mul, "relu")]);
    }

    /// <summary>x·σ(x) (SiLU / swish), used by SwiGLU.</summary>
    public Tensor Silu()
    {
        var (y, x) = UnaryForward(static (s, d) =>
        {
            TensorPrimitives.Sigmoid(s, d);
            TensorPrimitives.Multiply(s, d, d);
        });
        // d/dx xσ(x) = σ(x)·(1 + x·(1 − σ(x)))
        return Record(y, "silu", [this], g => [Binary(g, x.Map(v =>
        {
            float s = 1f / (1f + MathF.Exp(-v));
            return s * (1f + (v * (1f - s)));
        }), BinaryOp.Mul, "silu")]);
    }

    /// <summary>log(1 + eˣ), computed stably.</summary>
    public Tensor Softplus()
    {
        var (y, x) = UnaryForward(static (s, d) =>
        {
            for (int i = 0; i < s.Length; i++)
                d[i] = SoftplusScalar(s[i]);
        });
        return Record(y, "softplus", [this], g => [Binary(g, x.Map(v => 1f / (1f + MathF.Exp(-v))), BinaryOp.Mul, "softplus")]);
    }

    internal static float SoftplusScalar(float v) => v > 0 ? v + MathF.Log(1f + MathF.Exp(-v)) : MathF.Log(1f + MathF.Exp(v));

    /// <summary>GELU, exact (erf) or with GPT-2's tanh approximation.</summary>
    public Tensor Gelu(GeluApproximation approximate = GeluApproximation.None)
    {
        if (approximate == GeluApproximation.Tanh)
        {
            var (yt, xt) = UnaryForward(static (s, d) =>
            {
                for (int i = 0; i < s.Length; i++)
                    d[i] = GeluTanh(s[i]);
            });
            return Record(yt, "gelu_tanh", [this], g => [Binary(g, xt.Map(GeluTanhGrad), BinaryOp.Mul, "gelu")]);
        }
        var (y, x) = UnaryForward(static (s, d) =>
        {
            for (int i = 0; i < s.Length; i++)
                d[i] = 0.5f * s[i] * (1f + Erf(s[i] * 0.70710678f));
        });
        // d/dx x·Φ(x) = Φ(x) + x·φ(x)
        return Record(y, "gelu", [this], g => [Binary(g, x.Map(v => (0.5f * (1f + Erf(v * 0.70710678f))) + (v * 0.39894228f * MathF.Exp(-0.5f * v * v))), BinaryOp.Mul, "gelu")]);
    }

    private const float GeluC = 0.7978845608f; // √(2/π)

    internal static float GeluTanh(float x) => 0.5f * x * (1f + MathF.Tanh(GeluC * (x + (0.044715f * x * x * x))));

    internal static float GeluTanhGrad(float x)
    {
        float u = GeluC * (x + (0.044715f * x * x * x));
        float t = MathF.Tanh(u);
        float du = GeluC * (1f + (3f * 0.044715f * x * x));
        return (0.5f * (1f + t)) + (0.5f * x * (1f - (t * t)) * du);
    }

    /// <summary>erf via the Chebyshev fit of erfc from Numerical Recipes (fractional error below 1.2e-7), evaluated in double.</summary>
    internal static float Erf(float xf)
    {
        double x = xf;
        double sign = x < 0 ? -1 : 1;
        x = Math.Abs(x);
        double t = 1.0 / (1.0 + (0.5 * x));
        double poly = 0.17087277;
        foreach (var coef in ErfCoefficients)
            poly = coef + (t * poly);
        double tau = t * Math.Exp((-x * x) + poly);
        return (float)(sign * (1.0 - tau));
    }

    // Coefficients of t^8 … t^0 after the leading 0.17087277 (Numerical Recipes, erfc).
    private static readonly double[] ErfCoefficients =
        [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

    /// <summary>Clamps to [min, max] (either may be null); the gradient is 0 outside.</summary>
    public Tensor Clamp(float? min = null, float? max = null)
    {
        float lo = min ?? float.NegativeInfinity, hi = max ?? float.PositiveInfinity;
        if (lo > hi)
            throw new ArgumentException($"Clamp: min {lo} is greater than max {hi}");
        var (y, x) = UnaryForward((s, d) =>
        {
            TensorPrimitives.Max(s, lo, d);
            TensorPrimitives.Min(d, hi, d);
        });
        return Record(y, "clamp", [this], g => [Binary(g, x.Map(v => v >= lo && v <= hi ? 1f : 0f), BinaryOp.Mul, "clamp")]);
    }
}
