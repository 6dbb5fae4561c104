using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Dapo;

/// <summary>
/// DAPO's soft overlong punishment (Yu et al. 2025, §3.4, eq. 13), a length-aware reward added to
/// the score: 0 when |y| ≤ L_max − L_cache; (L_max − L_cache − |y|)/L_cache inside the band
/// L_max − L_cache &lt; |y| ≤ L_max (from 0 down to −1); −1 beyond L_max.
/// </summary>
public static class OverlongPenalty
{
    /// <summary>The penalty of one response of <paramref name="length"/> tokens; maxLength L_max, cacheLength L_cache in (0, L_max].</summary>
    public static double Of(int length, int maxLength, int cacheLength)
    {
        Check(maxLength, cacheLength);
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, "OverlongPenalty.Of: a response length must be >= 0");
        int expected = maxLength - cacheLength;
        if (length <= expected)
            return 0;
        if (length <= maxLength)
            return (double)(expected - length) / cacheLength;
        return -1;
    }

    /// <summary>The penalty of each response, its length read from the mask. responseMask [B, T] -> [B] float64</summary>
    public static Tensor Compute(Tensor responseMask, int maxLength, int cacheLength)
    {
        Check(maxLength, cacheLength);
        var lengths = ResponseMask.Lengths(responseMask, "OverlongPenalty.Compute");
        var penalties = new double[lengths.Length];
        for (int b = 0; b < lengths.Length; b++)
            penalties[b] = Of(lengths[b], maxLength, cacheLength);
        return Tensor.FromArray(penalties, lengths.Length);
    }

    private static void Check(int maxLength, int cacheLength)
    {
        if (cacheLength <= 0 || cacheLength > maxLength)
            throw new ArgumentOutOfRangeException(nameof(cacheLength), cacheLength, $"OverlongPenalty: the cache length L_cache ({cacheLength}) must lie in (0, L_max = {maxLength}] (DAPO uses L_max = 20480 with L_cache = 4096)");
    }
}
