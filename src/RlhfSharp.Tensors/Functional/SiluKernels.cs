using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors;

/// <summary>
/// SiLU x·σ(x) and its gradient in one pass, with an all-float exp (Cephes expf: Cody–Waite range
/// reduction and a degree-6 polynomial, about 1 ulp) instead of the vectorised library exp, which
/// widens to double. σ is formed from e = exp(−|x|) ∈ (0, 1] as 1/(1+e) for x ≥ 0 and e/(1+e) for
/// x &lt; 0, so it never overflows and keeps its relative accuracy for negative x; below
/// x = −87.3 (where e would leave the normal range) σ is 0. Every path evaluates the same
/// operations in the same order with explicit fused multiply-adds, so the Vector512, Vector256 and
/// scalar paths agree bit for bit and results do not depend on where an element sits in the span.
/// <c>maxWidth</c> (512, 256 or 0) caps the width for tests.
/// </summary>
internal static class SiluKernels
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

    // Below this exp(t) is not a normal float; σ(x) is then taken as 0.
    private const float MinExpArg = -87.3f;

    private static int Width(int maxWidth) =>
        maxWidth >= 512 && Vector512.IsHardwareAccelerated ? 512
        : maxWidth >= 256 && Vector256.IsHardwareAccelerated ? 256
        : 0;

    /// <summary>σ(x) for one element (the scalar path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        float t = MathF.Max(-MathF.Abs(x), MinExpArg);
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
        float s = (x >= 0 ? 1f : e) / (1f + e);
        return x < MinExpArg ? 0f : s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var t = Vector512.Max(-Vector512.Abs(x), Vector512.Create(MinExpArg));
        var n = Vector512.Floor(Vector512.FusedMultiplyAdd(t, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-C1), t);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-C2), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var scale = ((Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23).AsSingle();
        var e = p * scale;
        var num = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One, e);
        var s = num / (Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(MinExpArg)), Vector512<float>.Zero, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var t = Vector256.Max(-Vector256.Abs(x), Vector256.Create(MinExpArg));
        var n = Vector256.Floor(Vector256.FusedMultiplyAdd(t, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-C1), t);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-C2), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var scale = ((Vector256.ConvertToInt32(n) + Vector256.Create(127)) << 23).AsSingle();
        var e = p * scale;
        var num = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One, e);
        var s = num / (Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(MinExpArg)), Vector256<float>.Zero, s);
    }

    /// <summary>y = x·σ(x). x [n] -> y [n]</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> y, int maxWidth = 512)
    {
        if (y.Length < x.Length)
            throw new ArgumentException("Silu: destination is shorter than the source");
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        switch (Width(maxWidth))
        {
            case 512:
                for (; i <= n - 16; i += 16)
                {
                    var v = Vector512.LoadUnsafe(ref src, (nuint)i);
                    (v * Sigmoid(v)).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
            case 256:
                for (; i <= n - 8; i += 8)
                {
                    var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                    (v * Sigmoid(v)).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref src, i);
            Unsafe.Add(ref dst, i) = v * Sigmoid(v);
        }
    }

    /// <summary>dx = g·σ(x)·(1 + x·(1 − σ(x))), the SiLU gradient. x [n], g [n] -> dx [n]</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, int maxWidth = 512)
    {
        if (g.Length != x.Length || dx.Length < x.Length)
            throw new ArgumentException("SiluBackward: spans differ in length");
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float grad = ref MemoryMarshal.GetReference(g);
        ref float dst = ref MemoryMarshal.GetReference(dx);
        int n = x.Length, i = 0;
        switch (Width(maxWidth))
        {
            case 512:
                for (; i <= n - 16; i += 16)
                {
                    var v = Vector512.LoadUnsafe(ref src, (nuint)i);
                    var s = Sigmoid(v);
                    var d = s * (Vector512<float>.One + (v * (Vector512<float>.One - s)));
                    (Vector512.LoadUnsafe(ref grad, (nuint)i) * d).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
            case 256:
                for (; i <= n - 8; i += 8)
                {
                    var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                    var s = Sigmoid(v);
                    var d = s * (Vector256<float>.One + (v * (Vector256<float>.One - s)));
                    (Vector256.LoadUnsafe(ref grad, (nuint)i) * d).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref src, i);
            float s = Sigmoid(v);
            float d = s * (1f + (v * (1f - s)));
            Unsafe.Add(ref dst, i) = Unsafe.Add(ref grad, i) * d;
        }
    }
}
