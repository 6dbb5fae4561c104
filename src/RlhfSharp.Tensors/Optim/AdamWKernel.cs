using System.Runtime.Intrinsics;

namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// The element-wise AdamW update over one parameter's span, as a scalar reference and as
/// Vector128/256/512 loops. Every lane performs the same IEEE operations in the same order as
/// the scalar code (no fused multiply-add), so all widths give bit-identical results.
/// </summary>
internal static class AdamWKernel
{
    /// <summary>The widest vector width (in floats) this machine accelerates; 1 when none.</summary>
    public static int BestWidth =>
        Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 1;

    /// <summary>The widths to test on this machine: 1 (scalar) and every accelerated vector width.</summary>
    public static IEnumerable<int> SupportedWidths()
    {
        yield return 1;
        if (Vector128.IsHardwareAccelerated)
            yield return 4;
        if (Vector256.IsHardwareAccelerated)
            yield return 8;
        if (Vector512.IsHardwareAccelerated)
            yield return 16;
    }

    /// <summary>
    /// Per element (AdamW, Loshchilov &amp; Hutter 2019, Algorithm 2, in PyTorch's arrangement):
    /// p ← p·decay; m ← β1·m + c1·g; v ← β2·v + c2·g²; p ← p − stepSize·m / (√v / √bc2 + ε),
    /// with c_i = 1 − β_i, decay = 1 − lr·λ, stepSize = lr / bc1, bc_i = 1 − β_iᵗ (the caller computes these in double).
    /// </summary>
    public static void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps, int width = 0)
    {
        if (g.Length != p.Length || m.Length != p.Length || v.Length != p.Length)
            throw new ArgumentException("AdamWKernel: parameter, gradient and moment spans must have the same length");
        if (width == 0)
            width = BestWidth;
        int i = width switch
        {
            16 => Vector512Loop(p, g, m, v, decay, beta1, c1, beta2, c2, stepSize, sqrtBc2, eps),
            8 => Vector256Loop(p, g, m, v, decay, beta1, c1, beta2, c2, stepSize, sqrtBc2, eps),
            4 => Vector128Loop(p, g, m, v, decay, beta1, c1, beta2, c2, stepSize, sqrtBc2, eps),
            1 => 0,
            _ => throw new ArgumentOutOfRangeException(nameof(width), width, "width must be 0 (best), 1, 4, 8 or 16"),
        };
        Scalar(p[i..], g[i..], m[i..], v[i..], decay, beta1, c1, beta2, c2, stepSize, sqrtBc2, eps);
    }

    private static void Scalar(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float gi = g[i];
            float mi = (beta1 * m[i]) + (c1 * gi);
            float vi = (beta2 * v[i]) + (c2 * (gi * gi));
            m[i] = mi;
            v[i] = vi;
            float denom = (MathF.Sqrt(vi) / sqrtBc2) + eps;
            p[i] = (p[i] * decay) - (stepSize * (mi / denom));
        }
    }

    // The three loops are the scalar body written once per width; they return how many elements they did.
    private static int Vector512Loop(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps)
    {
        int n = p.Length - (p.Length % Vector512<float>.Count);
        var b1 = Vector512.Create(beta1);
        var b2 = Vector512.Create(beta2);
        var k1 = Vector512.Create(c1);
        var k2 = Vector512.Create(c2);
        var dec = Vector512.Create(decay);
        var step = Vector512.Create(stepSize);
        var bc2 = Vector512.Create(sqrtBc2);
        var e = Vector512.Create(eps);
        for (int i = 0; i < n; i += Vector512<float>.Count)
        {
            var gi = Vector512.Create(g.Slice(i, Vector512<float>.Count));
            var mi = (b1 * Vector512.Create(m.Slice(i, Vector512<float>.Count))) + (k1 * gi);
            var vi = (b2 * Vector512.Create(v.Slice(i, Vector512<float>.Count))) + (k2 * (gi * gi));
            mi.CopyTo(m.Slice(i, Vector512<float>.Count));
            vi.CopyTo(v.Slice(i, Vector512<float>.Count));
            var denom = (Vector512.Sqrt(vi) / bc2) + e;
            var pi = (Vector512.Create(p.Slice(i, Vector512<float>.Count)) * dec) - (step * (mi / denom));
            pi.CopyTo(p.Slice(i, Vector512<float>.Count));
        }
        return n;
    }

    private static int Vector256Loop(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps)
    {
        int n = p.Length - (p.Length % Vector256<float>.Count);
        var b1 = Vector256.Create(beta1);
        var b2 = Vector256.Create(beta2);
        var k1 = Vector256.Create(c1);
        var k2 = Vector256.Create(c2);
        var dec = Vector256.Create(decay);
        var step = Vector256.Create(stepSize);
        var bc2 = Vector256.Create(sqrtBc2);
        var e = Vector256.Create(eps);
        for (int i = 0; i < n; i += Vector256<float>.Count)
        {
            var gi = Vector256.Create(g.Slice(i, Vector256<float>.Count));
            var mi = (b1 * Vector256.Create(m.Slice(i, Vector256<float>.Count))) + (k1 * gi);
            var vi = (b2 * Vector256.Create(v.Slice(i, Vector256<float>.Count))) + (k2 * (gi * gi));
            mi.CopyTo(m.Slice(i, Vector256<float>.Count));
            vi.CopyTo(v.Slice(i, Vector256<float>.Count));
            var denom = (Vector256.Sqrt(vi) / bc2) + e;
            var pi = (Vector256.Create(p.Slice(i, Vector256<float>.Count)) * dec) - (step * (mi / denom));
            pi.CopyTo(p.Slice(i, Vector256<float>.Count));
        }
        return n;
    }

    private static int Vector128Loop(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        float decay, float beta1, float c1, float beta2, float c2, float stepSize, float sqrtBc2, float eps)
    {
        int n = p.Length - (p.Length % Vector128<float>.Count);
        var b1 = Vector128.Create(beta1);
        var b2 = Vector128.Create(beta2);
        var k1 = Vector128.Create(c1);
        var k2 = Vector128.Create(c2);
        var dec = Vector128.Create(decay);
        var step = Vector128.Create(stepSize);
        var bc2 = Vector128.Create(sqrtBc2);
        var e = Vector128.Create(eps);
        for (int i = 0; i < n; i += Vector128<float>.Count)
        {
            var gi = Vector128.Create(g.Slice(i, Vector128<float>.Count));
            var mi = (b1 * Vector128.Create(m.Slice(i, Vector128<float>.Count))) + (k1 * gi);
            var vi = (b2 * Vector128.Create(v.Slice(i, Vector128<float>.Count))) + (k2 * (gi * gi));
            mi.CopyTo(m.Slice(i, Vector128<float>.Count));
            vi.CopyTo(v.Slice(i, Vector128<float>.Count));
            var denom = (Vector128.Sqrt(vi) / bc2) + e;
            var pi = (Vector128.Create(p.Slice(i, Vector128<float>.Count)) * dec) - (step * (mi / denom));
            pi.CopyTo(p.Slice(i, Vector128<float>.Count));
        }
        return n;
    }
}
