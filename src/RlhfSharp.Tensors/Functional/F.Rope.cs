namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Rotary position embedding (Su et al. 2021), GPT-NeoX / Llama half-split convention: each pair
    /// (i, i + rotaryDim/2) is rotated by angle p·θ^(−2i/rotaryDim); dims at and past
    /// <paramref name="rotaryDim"/> (partial rotary, default all) pass through. Backward is the inverse
    /// rotation of the gradient; saved: the positions and the cos/sin tables.
    /// x [B, H, T, D], positions int32 [T] or [B, T] -> [B, H, T, D]
    /// </summary>
    public static Tensor Rope(Tensor x, Tensor positions, float theta = 10000f, int? rotaryDim = null)
    {
        int rd = CheckRotaryDim(x.Rank == 4 ? x.ShapeArr[3] : 0, rotaryDim, x);
        if (x.IsOnDevice)
        {
            CheckPositionsShape(x, positions);
            int rows = MaxPosition(positions) + 1;
            var cache = new RopeCache(x.ShapeArr[3], rows, theta, rd);
            cache.Reserve(rows);
            return DeviceRope(x, positions, cache);
        }
        var pos = CheckPositions(x, positions);
        var (cos, sin) = RopeCache.Tables(pos, rd, theta);
        return RopeCore(x, Enumerable.Range(0, pos.Length).ToArray(), positions.Rank == 2, cos, sin, rd);
    }

    /// <summary>
    /// <see cref="Rope(Tensor, Tensor, float, int?)"/> with precomputed tables; positions must lie in
    /// [0, cache.MaxPositions). x [B, H, T, D], positions int32 [T] or [B, T] -> [B, H, T, D]
    /// </summary>
    public static Tensor Rope(Tensor x, Tensor positions, RopeCache cache)
    {
        if (x.Rank != 4 || x.ShapeArr[3] != cache.HeadDim)
            throw new ShapeMismatchException("Rope", $"x must be [B, H, T, {cache.HeadDim}] for this cache, got {ShapeUtil.Format(x.ShapeArr)}");
        if (x.IsOnDevice)
        {
            // Positions on the device are not read back to be checked: a position outside the
            // tables built (see RopeCache.Reserve) gives NaN in the output (never a read out of
            // bounds). Positions on the host grow the tables to cover them.
            CheckPositionsShape(x, positions);
            if (!positions.IsOnDevice)
                cache.Reserve(Math.Min(cache.MaxPositions, MaxPosition(positions) + 1));
            return DeviceRope(x, positions, cache);
        }
        var pos = CheckPositions(x, positions);
        int needed = 0;
        foreach (var p in pos)
        {
            if ((uint)p >= (uint)cache.MaxPositions)
                throw new IndexOutOfRangeException($"Rope: position {p} is outside the cache's [0, {cache.MaxPositions}); build the RopeCache with a larger maxPositions");
            needed = Math.Max(needed, p + 1);
        }
        var tables = cache.EnsureBuilt(needed);
        return RopeCore(x, pos, positions.Rank == 2, tables.Cos, tables.Sin, cache.RotaryDim);
    }

    internal static int CheckRotaryDim(int headDim, int? rotaryDim, Tensor? x = null)
    {
        if (x is not null && x.Rank != 4)
            throw new ShapeMismatchException("Rope", $"x must be [B, H, T, D], got {ShapeUtil.Format(x.ShapeArr)}");
        int rd = rotaryDim ?? headDim;
        if (rd <= 0 || rd > headDim || rd % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(rotaryDim), rd, $"Rope: rotaryDim must be even and in (0, {headDim}] for head dim {headDim}");
        return rd;
    }

    private static int MaxPosition(Tensor positions)
    {
        var values = positions.IntsForReading();
        return values.Length == 0 ? 0 : values.Max();
    }

    private static void CheckPositionsShape(Tensor x, Tensor positions)
    {
        if (positions.Dtype != DType.Int32)
            throw new ArgumentException($"Rope: positions must be an int32 tensor, got {positions.Dtype}");
        int b = x.ShapeArr[0], t = x.ShapeArr[2];
        bool ok = (positions.Rank == 1 && positions.ShapeArr[0] == t) || (positions.Rank == 2 && positions.ShapeArr[0] == b && positions.ShapeArr[1] == t);
        if (!ok)
            throw new ShapeMismatchException("Rope", $"positions shape {ShapeUtil.Format(positions.ShapeArr)} must be [{t}] or [{b}, {t}] for x of shape {ShapeUtil.Format(x.ShapeArr)}");
    }

    private static int[] CheckPositions(Tensor x, Tensor positions)
    {
        CheckPositionsShape(x, positions);
        return positions.IntsForReading();
    }

    /// <summary>Rotates every (b, h, t) row by table row tableRow[k], k = t or b·T + t.</summary>
    private static Tensor RopeCore(Tensor x, int[] tableRow, bool perBatch, float[] cos, float[] sin, int rd)
    {
        // Read through x itself (not recorded); a copy only when its rows are strided.
        var src = x.Float();
        if (src.StridesArr[3] != 1 && src.ShapeArr[3] > 1)
            src = src.Detach().Contiguous();
        int bn = src.ShapeArr[0], hn = src.ShapeArr[1], tn = src.ShapeArr[2], d = src.ShapeArr[3];
        var y = Uninit(src.Numel);
        Rotate(src.F!, src.Offset, src.StridesArr, y, bn, hn, tn, d, tableRow, perBatch, cos, sin, rd, 1f);
        var result = Tensor.Wrap(y, src.ShapeArr);
        return Tensor.Record(result, "rope", [x], g =>
        {
            var gd = Dense(g);
            var dx = Uninit(gd.Length);
            Rotate(gd, 0, StridesCache.For(src.ShapeArr), dx, bn, hn, tn, d, tableRow, perBatch, cos, sin, rd, -1f);
            return [Tensor.Wrap(dx, src.ShapeArr)];
        });
    }

    /// <summary>dst (contiguous) = rotation of src by +angle (sign 1) or −angle (sign −1, the inverse).</summary>
    private static void Rotate(float[] src, int offset, int[] strides, float[] dst, int bn, int hn, int tn, int d,
        int[] tableRow, bool perBatch, float[] cos, float[] sin, int rd, float sign)
    {
        Partition.For(bn * hn, 3L * tn * d, new RotateRows(src, offset, strides, dst, hn, tn, d, tableRow, perBatch, cos, sin, rd, sign));
    }

    // Rotate over the (b, h) pairs [start, end).
    private readonly struct RotateRows(float[] src, int offset, int[] strides, float[] dst, int hn, int tn, int d,
        int[] tableRow, bool perBatch, float[] cos, float[] sin, int rd, float sign) : IPartitionBody
    {
        public void Run(int chunk, int start, int end)
        {
            int half = rd / 2;
            for (int bh = start; bh < end; bh++)
            {
                int b = bh / hn, h = bh % hn;
                for (int t = 0; t < tn; t++)
                {
                    var xs = src.AsSpan(offset + (b * strides[0]) + (h * strides[1]) + (t * strides[2]), d);
                    var ys = dst.AsSpan(((bh * tn) + t) * d, d);
                    int row = tableRow[perBatch ? (b * tn) + t : t];
                    var c = cos.AsSpan(row * half, half);
                    var s = sin.AsSpan(row * half, half);
                    for (int i = 0; i < half; i++)
                    {
                        float x1 = xs[i], x2 = xs[i + half], si = sign * s[i];
                        ys[i] = (x1 * c[i]) - (x2 * si);
                        ys[i + half] = (x2 * c[i]) + (x1 * si);
                    }
                    xs[rd..].CopyTo(ys[rd..]);
                }
            }
        }
    }
}
