using System.Runtime.CompilerServices;

namespace RlhfSharp.Tensors;

/// <summary>bfloat16 conversions: the upper 16 bits of an IEEE fp32, rounded to nearest even.</summary>
public static class BFloat16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
            return (ushort)((bits >> 16) | 0x0040); // keep NaN a quiet NaN
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    public static void FromFloat(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"BFloat16.FromFloat: destination holds {dst.Length} values, source {src.Length}");
        for (int i = 0; i < src.Length; i++)
            dst[i] = FromFloat(src[i]);
    }

    public static void ToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
            throw new ArgumentException($"BFloat16.ToFloat: destination holds {dst.Length} values, source {src.Length}");
        for (int i = 0; i < src.Length; i++)
            dst[i] = ToFloat(src[i]);
    }
}
