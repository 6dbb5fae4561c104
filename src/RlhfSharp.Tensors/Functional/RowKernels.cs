using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors;

/// <summary>
/// Fused single-pass row kernels for the softmax family (one read of the row, no temporaries),
/// with the all-float <see cref="FastExp"/> on every path.
/// Each has a Vector512, a Vector256 and a scalar path; <c>maxWidth</c> (512, 256 or 0) caps the
/// width so tests can compare every path the machine has against the scalar one.
/// </summary>
internal static class RowKernels
{
    private static int Width(int maxWidth) =>
        maxWidth >= 512 && Vector512.IsHardwareAccelerated ? 512
        : maxWidth >= 256 && Vector256.IsHardwareAccelerated ? 256
        : 0;

    /// <summary>Σ exp(x − shift). x [C] -> scalar</summary>
    public static float SumExp(ReadOnlySpan<float> x, float shift, int maxWidth = 512)
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        float sum = 0;
        switch (Width(maxWidth))
        {
            case 512:
                {
                    var acc = Vector512<float>.Zero;
                    var s = Vector512.Create(shift);
                    for (; i <= n - 16; i += 16)
                        acc += FastExp.Exp(Vector512.LoadUnsafe(ref src, (nuint)i) - s);
                    sum = Vector512.Sum(acc);
                    break;
                }
            case 256:
                {
                    var acc = Vector256<float>.Zero;
                    var s = Vector256.Create(shift);
                    for (; i <= n - 8; i += 8)
                        acc += FastExp.Exp(Vector256.LoadUnsafe(ref src, (nuint)i) - s);
                    sum = Vector256.Sum(acc);
                    break;
                }
        }
        for (; i < n; i++)
            sum += FastExp.Exp(Unsafe.Add(ref src, i) - shift);
        return sum;
    }

    /// <summary>
    /// (Σ e, Σ e·(x − shift)) with e = exp(x − shift); terms with e = 0 contribute 0 even where
    /// x = −∞. Entropy of a row is log Σe − Σe(x−shift)/Σe. x [C] -> two scalars
    /// </summary>
    public static (float Sum, float Weighted) SumExpWeighted(ReadOnlySpan<float> x, float shift, int maxWidth = 512)
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        float sum = 0, weighted = 0;
        switch (Width(maxWidth))
        {
            case 512:
                {
                    Vector512<float> acc = default, accW = default;
                    var s = Vector512.Create(shift);
                    for (; i <= n - 16; i += 16)
                    {
                        var d = Vector512.LoadUnsafe(ref src, (nuint)i) - s;
                        var e = FastExp.Exp(d);
                        acc += e;
                        accW += Vector512.ConditionalSelect(Vector512.Equals(e, Vector512<float>.Zero), Vector512<float>.Zero, e * d);
                    }
                    (sum, weighted) = (Vector512.Sum(acc), Vector512.Sum(accW));
                    break;
                }
            case 256:
                {
                    Vector256<float> acc = default, accW = default;
                    var s = Vector256.Create(shift);
                    for (; i <= n - 8; i += 8)
                    {
                        var d = Vector256.LoadUnsafe(ref src, (nuint)i) - s;
                        var e = FastExp.Exp(d);
                        acc += e;
                        accW += Vector256.ConditionalSelect(Vector256.Equals(e, Vector256<float>.Zero), Vector256<float>.Zero, e * d);
                    }
                    (sum, weighted) = (Vector256.Sum(acc), Vector256.Sum(accW));
                    break;
                }
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref src, i) - shift;
            float e = FastExp.Exp(d);
            sum += e;
            weighted += e == 0 ? 0 : e * d;
        }
        return (sum, weighted);
    }

    /// <summary>dst = scale · exp(x − shift). x [C] -> dst [C]</summary>
    public static void ExpShiftScale(ReadOnlySpan<float> x, float shift, float scale, Span<float> dst, int maxWidth = 512)
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dstRef = ref MemoryMarshal.GetReference(dst);
        int n = x.Length, i = 0;
        switch (Width(maxWidth))
        {
            case 512:
                {
                    var s = Vector512.Create(shift);
                    var k = Vector512.Create(scale);
                    for (; i <= n - 16; i += 16)
                        (FastExp.Exp(Vector512.LoadUnsafe(ref src, (nuint)i) - s) * k).StoreUnsafe(ref dstRef, (nuint)i);
                    break;
                }
            case 256:
                {
                    var s = Vector256.Create(shift);
                    var k = Vector256.Create(scale);
                    for (; i <= n - 8; i += 8)
                        (FastExp.Exp(Vector256.LoadUnsafe(ref src, (nuint)i) - s) * k).StoreUnsafe(ref dstRef, (nuint)i);
                    break;
                }
        }
        for (; i < n; i++)
            Unsafe.Add(ref dstRef, i) = scale * FastExp.Exp(Unsafe.Add(ref src, i) - shift);
    }

    /// <summary>
    /// Entropy backward for one row: dst = −g · p ⊙ (log p + H) with log p = (x − max) − logSum and
    /// p = exp(log p), and 0 where p = 0 (so −∞ logits give 0, not NaN). x [C] -> dst [C]
    /// </summary>
    public static void EntropyGrad(ReadOnlySpan<float> x, float max, float logSum, float entropy, float g, Span<float> dst, int maxWidth = 512)
    {
        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dstRef = ref MemoryMarshal.GetReference(dst);
        int n = x.Length, i = 0;
        switch (Width(maxWidth))
        {
            case 512:
                {
                    var m = Vector512.Create(max);
                    var l = Vector512.Create(logSum);
                    var h = Vector512.Create(entropy);
                    var ng = Vector512.Create(-g);
                    for (; i <= n - 16; i += 16)
                    {
                        var d = Vector512.LoadUnsafe(ref src, (nuint)i) - m - l;
                        var p = FastExp.Exp(d);
                        var r = ng * p * (d + h);
                        Vector512.ConditionalSelect(Vector512.Equals(p, Vector512<float>.Zero), Vector512<float>.Zero, r).StoreUnsafe(ref dstRef, (nuint)i);
                    }
                    break;
                }
            case 256:
                {
                    var m = Vector256.Create(max);
                    var l = Vector256.Create(logSum);
                    var h = Vector256.Create(entropy);
                    var ng = Vector256.Create(-g);
                    for (; i <= n - 8; i += 8)
                    {
                        var d = Vector256.LoadUnsafe(ref src, (nuint)i) - m - l;
                        var p = FastExp.Exp(d);
                        var r = ng * p * (d + h);
                        Vector256.ConditionalSelect(Vector256.Equals(p, Vector256<float>.Zero), Vector256<float>.Zero, r).StoreUnsafe(ref dstRef, (nuint)i);
                    }
                    break;
                }
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref src, i) - max - logSum;
            float p = FastExp.Exp(d);
            Unsafe.Add(ref dstRef, i) = p == 0 ? 0 : -g * p * (d + entropy);
        }
    }

    /// <summary>
    /// The row max m and Σ exp(x − m), so log softmax(x)_j = (x_j − m) − log Σ without the
    /// cancellation of x_j − logsumexp at large |x|. x [C] -> two scalars
    /// </summary>
    public static (float Max, float Sum) MaxSumExp(ReadOnlySpan<float> x, int maxWidth = 512)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(x);
        return (max, SumExp(x, max, maxWidth));
    }
}
