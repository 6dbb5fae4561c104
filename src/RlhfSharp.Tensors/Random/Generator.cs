namespace RlhfSharp.Tensors;

/// <summary>
/// Seeded random generator (xoshiro256** seeded through splitmix64). The sequence depends only on
/// the seed, never on the .NET version or machine, and its state can be saved and restored so a
/// resumed run draws exactly the numbers the uninterrupted run would have.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;

    public Generator(ulong seed)
    {
        Seed = seed;
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong Seed { get; }

    /// <summary>
    /// Generator number <paramref name="index"/> of a family keyed by <paramref name="seed"/>: the
    /// same pair always gives the same stream, and different indices give unrelated streams
    /// (each row of a batch drawing from its own, say).
    /// </summary>
    public static Generator Stream(ulong seed, long index)
    {
        ulong x = seed ^ 0x6A09E667F3BCC909UL;
        ulong key = SplitMix(ref x);
        return new Generator(key + ((ulong)index * 0xD1B54A32D192ED03UL));
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, "NextInt: n must be positive");
        return (int)((NextUInt64() >> 33) * (ulong)n >> 31);
    }

    /// <summary>Standard normal (Box–Muller; one draw per call, no cached second value so state is just four words).</summary>
    public float NextNormal()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    /// <summary>A tensor of N(mean, std²) samples. -> shape</summary>
    public Tensor Normal(int[] shape, float mean = 0f, float std = 1f)
    {
        var data = new float[ShapeUtil.Numel(shape)];
        for (int i = 0; i < data.Length; i++)
            data[i] = mean + (std * NextNormal());
        return Tensor.Wrap(data, (int[])shape.Clone());
    }

    /// <summary>A tensor of U[low, high) samples. -> shape</summary>
    public Tensor Uniform(int[] shape, float low = 0f, float high = 1f)
    {
        var data = new float[ShapeUtil.Numel(shape)];
        for (int i = 0; i < data.Length; i++)
            data[i] = low + ((high - low) * NextFloat());
        return Tensor.Wrap(data, (int[])shape.Clone());
    }

    /// <summary>
    /// Draws <paramref name="numSamples"/> indices per row from unnormalised non-negative
    /// probabilities, with replacement (inverse-CDF on a double running sum). probs [B, V] or [V] -> int32 [B, numSamples] or [numSamples]
    /// </summary>
    public Tensor Multinomial(Tensor probs, int numSamples = 1)
    {
        if (probs.Rank is < 1 or > 2)
            throw new ShapeMismatchException("Multinomial", $"probabilities must be [V] or [B, V], got {ShapeUtil.Format(probs.ShapeArr)}");
        if (numSamples < 1)
            throw new ArgumentOutOfRangeException(nameof(numSamples), numSamples, "Multinomial: numSamples must be at least 1");
        var p = probs.Float().Contiguous().ToArray();
        int v = probs.ShapeArr[^1];
        int rows = probs.Rank == 1 ? 1 : probs.ShapeArr[0];
        var result = new int[rows * numSamples];
        for (int r = 0; r < rows; r++)
        {
            var row = p.AsSpan(r * v, v);
            double total = 0;
            foreach (var x in row)
            {
                if (!(x >= 0) || float.IsInfinity(x))
                    throw new ArgumentException($"Multinomial: row {r} has an invalid probability {x}; probabilities must be finite and non-negative");
                total += x;
            }
            if (total <= 0)
                throw new ArgumentException($"Multinomial: row {r} sums to 0; at least one probability must be positive");
            for (int s = 0; s < numSamples; s++)
                result[(r * numSamples) + s] = SampleIndex(row, total);
        }
        return Tensor.FromArray(result, probs.Rank == 1 ? [numSamples] : [rows, numSamples]);
    }

    /// <summary>One index from unnormalised non-negative weights summing to <paramref name="total"/>.</summary>
    public int SampleIndex(ReadOnlySpan<float> weights, double total)
    {
        double u = NextDouble() * total;
        double acc = 0;
        int last = -1;
        for (int i = 0; i < weights.Length; i++)
        {
            if (weights[i] <= 0)
                continue;
            acc += weights[i];
            last = i;
            if (u < acc)
                return i;
        }
        return last; // rounding put u at the very top
    }

    /// <summary>In-place Fisher–Yates shuffle.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>The four state words, for checkpoints.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(ulong[] state)
    {
        if (state.Length != 4 || (state[0] | state[1] | state[2] | state[3]) == 0)
            throw new ArgumentException("Generator.SetState: expected the four non-zero-in-total words returned by GetState()");
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
    }
}
