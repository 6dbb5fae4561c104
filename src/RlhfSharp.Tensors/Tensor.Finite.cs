using System.Numerics;
using System.Runtime.InteropServices;

namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// The row-major index of the first NaN or ±infinity, or −1 when every element is finite
    /// (torch.isfinite(t).all()). Float32, bfloat16 and float64 are scanned; int32 is always finite.
    /// A float32 tensor on a device is checked there first (Σ x², one value read back) and copied
    /// to the host only when that sum is not finite, to find the element.
    /// </summary>
    public long FirstNonFinite()
    {
        if (Dtype == DType.Int32 || Numel == 0)
            return -1;
        if (G is not null)
        {
            if (Dtype == DType.Float32 && IsContiguous)
            {
                var acc = Backend.Full(0f, [1]);
                Backend.AddSumOfSquares(this, acc);
                if (float.IsFinite(acc.Item()))
                    return -1;
            }
            return Cpu().FirstNonFinite(); // Σ x² also overflows for |x| > 1.8e19: the host scan decides
        }
        var t = Contiguous();
        return Dtype switch
        {
            DType.Float32 => FirstNonFinite(t.Span),
            DType.BFloat16 => FirstNonFinite(t.HalfSpan),
            DType.Float64 => FirstNonFinite(t.DoubleSpan),
            _ => throw UnknownDtype("FirstNonFinite"),
        };
    }

    /// <summary>Index of the first NaN or ±infinity in <paramref name="x"/>, or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            // v − v is 0 for a finite v and NaN for NaN or ±∞.
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(x);
            for (int k = 0; k < vectors.Length; k++)
            {
                if (!Vector.EqualsAll(vectors[k] - vectors[k], Vector<float>.Zero))
                    return FirstNonFiniteScalar(x, k * Vector<float>.Count);
            }
            i = vectors.Length * Vector<float>.Count;
        }
        return FirstNonFiniteScalar(x, i);
    }

    private static int FirstNonFiniteScalar(ReadOnlySpan<float> x, int from)
    {
        for (int i = from; i < x.Length; i++)
        {
            if (!float.IsFinite(x[i]))
                return i;
        }
        return -1;
    }

    /// <summary>Index of the first NaN or ±infinity among bfloat16 bit patterns (exponent all ones), or −1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<ushort> bfloat16Bits)
    {
        for (int i = 0; i < bfloat16Bits.Length; i++)
        {
            if ((bfloat16Bits[i] & 0x7F80) == 0x7F80)
                return i;
        }
        return -1;
    }

    private static int FirstNonFinite(ReadOnlySpan<double> x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            if (!double.IsFinite(x[i]))
                return i;
        }
        return -1;
    }
}
