using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors;

/// <summary>
/// SiLU x·σ(x) and GPT-2's tanh GELU x·σ(2u), each with its gradient in one pass, with the all-float <see cref="FastExp"/> instead of the
/// vectorised library exp, which widens to double. σ is formed from e = exp(−|x|) ∈ (0, 1] as
/// 1/(1+e) for x ≥ 0 and e/(1+e) for x &lt; 0, so it never overflows and keeps its relative
/// accuracy for negative x; below x = −87 (where e is flushed to 0) σ is 0. Every path evaluates the same
/// operations in the same order with explicit fused multiply-adds, so the Vector512, Vector256 and
/// scalar paths agree bit for bit and results do not depend on where an element sits in the span.
/// <c>maxWidth</c> (512, 256 or 0) caps the width for tests.
/// </summary>
internal static class SiluKernels
{
    private static int Width(int maxWidth) =>
        maxWidth >= 512 && Vector512.IsHardwareAccelerated ? 512
        : maxWidth >= 256 && Vector256.IsHardwareAccelerated ? 256
        : 0;

    /// <summary>σ(x) for one element (the scalar path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x)
    {
        float e = FastExp.Exp(-MathF.Abs(x));
        return (x >= 0 ? 1f : e) / (1f + e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var e = FastExp.Exp(-Vector512.Abs(x));
        var num = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One, e);
        return num / (Vector512<float>.One + e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x)
    {
        var e = FastExp.Exp(-Vector256.Abs(x));
        var num = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One, e);
        return num / (Vector256<float>.One + e);
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

    // GPT-2's tanh GELU as x·σ(k) with k = 2u = 2√(2/π)·x·(1 + 0.044715·x²), which is the same
    // function as 0.5·x·(1 + tanh(u)) and keeps the left tail's relative accuracy.
    private const float GeluK = 1.5957691216057308f; // 2·√(2/π)
    private const float GeluA = 0.044715f;
    private const float GeluA3 = 3f * 0.044715f;

    /// <summary>y = GELU-tanh(x) = x·σ(2u). x [n] -> y [n]</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y, int maxWidth = 512)
    {
        if (y.Length < x.Length)
            throw new ArgumentException("GeluTanh: destination is shorter than the source");
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        switch (Width(maxWidth))
        {
            case 512:
                for (; i <= n - 16; i += 16)
                {
                    var v = Vector512.LoadUnsafe(ref src, (nuint)i);
                    var k = Vector512.Create(GeluK) * v * Vector512.FusedMultiplyAdd(Vector512.Create(GeluA), v * v, Vector512<float>.One);
                    (v * Sigmoid(k)).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
            case 256:
                for (; i <= n - 8; i += 8)
                {
                    var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                    var k = Vector256.Create(GeluK) * v * Vector256.FusedMultiplyAdd(Vector256.Create(GeluA), v * v, Vector256<float>.One);
                    (v * Sigmoid(k)).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref src, i);
            float k = GeluK * v * MathF.FusedMultiplyAdd(GeluA, v * v, 1f);
            Unsafe.Add(ref dst, i) = v * Sigmoid(k);
        }
    }

    /// <summary>dx = g·(σ(k) + x·σ(k)(1 − σ(k))·dk/dx), dk/dx = 2√(2/π)·(1 + 3·0.044715·x²). x [n], g [n] -> dx [n]</summary>
    public static void GeluTanhBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx, int maxWidth = 512)
    {
        if (g.Length != x.Length || dx.Length < x.Length)
            throw new ArgumentException("GeluTanhBackward: spans differ in length");
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
                    var v2 = v * v;
                    var s = Sigmoid(Vector512.Create(GeluK) * v * Vector512.FusedMultiplyAdd(Vector512.Create(GeluA), v2, Vector512<float>.One));
                    var dk = Vector512.Create(GeluK) * Vector512.FusedMultiplyAdd(Vector512.Create(GeluA3), v2, Vector512<float>.One);
                    var d = Vector512.FusedMultiplyAdd(v * s * (Vector512<float>.One - s), dk, s);
                    (Vector512.LoadUnsafe(ref grad, (nuint)i) * d).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
            case 256:
                for (; i <= n - 8; i += 8)
                {
                    var v = Vector256.LoadUnsafe(ref src, (nuint)i);
                    var v2 = v * v;
                    var s = Sigmoid(Vector256.Create(GeluK) * v * Vector256.FusedMultiplyAdd(Vector256.Create(GeluA), v2, Vector256<float>.One));
                    var dk = Vector256.Create(GeluK) * Vector256.FusedMultiplyAdd(Vector256.Create(GeluA3), v2, Vector256<float>.One);
                    var d = Vector256.FusedMultiplyAdd(v * s * (Vector256<float>.One - s), dk, s);
                    (Vector256.LoadUnsafe(ref grad, (nuint)i) * d).StoreUnsafe(ref dst, (nuint)i);
                }
                break;
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref src, i);
            float v2 = v * v;
            float s = Sigmoid(GeluK * v * MathF.FusedMultiplyAdd(GeluA, v2, 1f));
            float dk = GeluK * MathF.FusedMultiplyAdd(GeluA3, v2, 1f);
            float d = MathF.FusedMultiplyAdd(v * s * (1f - s), dk, s);
            Unsafe.Add(ref dst, i) = Unsafe.Add(ref grad, i) * d;
        }
    }
}
