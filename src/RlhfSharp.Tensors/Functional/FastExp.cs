using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors;

/// <summary>
/// exp in float arithmetic only (Cephes expf: Cody–Waite reduction x = n·ln2 + r and a degree-6
/// polynomial in r, about 1 ulp), for the shifted exponents of softmax-like kernels and SiLU. The
/// vectorised library exp widens to double and costs several times more. Results below
/// exp(−87) ≈ 1.6e-38 are flushed to 0 (no subnormals), −∞ gives 0, arguments above 88 give +∞,
/// NaN stays NaN. The scalar and vector forms perform the same operations (explicit fused
/// multiply-adds) and agree bit for bit.
/// </summary>
internal static class FastExp
{
    private const float Log2E = 1.44269504088896341f;
    private const float C1 = 0.693359375f;
    private const float C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    /// <summary>Below this the result is flushed to 0; n stays ≥ −125, a normal exponent.</summary>
    internal const float MinArg = -87f;

    /// <summary>Above this the result is +∞; n stays ≤ 127.</summary>
    internal const float MaxArg = 88f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float t = MathF.Min(MathF.Max(x, MinArg), MaxArg);
        float n = MathF.Floor(MathF.FusedMultiplyAdd(t, Log2E, 0.5f));
        float r = MathF.FusedMultiplyAdd(n, -C1, t);
        r = MathF.FusedMultiplyAdd(n, -C2, r);
        float p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        p = MathF.FusedMultiplyAdd(p, r * r, r) + 1f;
        float e = p * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        return x < MinArg ? 0f : x > MaxArg ? float.PositiveInfinity : e;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var t = Vector512.Min(Vector512.Max(x, Vector512.Create(MinArg)), Vector512.Create(MaxArg));
        var n = Vector512.Floor(Vector512.FusedMultiplyAdd(t, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-C1), t);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-C2), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var e = p * ((Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23).AsSingle();
        e = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(MinArg)), Vector512<float>.Zero, e);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(MaxArg)), Vector512.Create(float.PositiveInfinity), e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var t = Vector256.Min(Vector256.Max(x, Vector256.Create(MinArg)), Vector256.Create(MaxArg));
        var n = Vector256.Floor(Vector256.FusedMultiplyAdd(t, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-C1), t);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-C2), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var e = p * ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        e = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(MinArg)), Vector256<float>.Zero, e);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(MaxArg)), Vector256.Create(float.PositiveInfinity), e);
    }
}
