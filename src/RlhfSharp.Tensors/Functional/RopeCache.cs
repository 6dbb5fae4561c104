namespace RlhfSharp.Tensors;

/// <summary>
/// Cos/sin tables for rotary position embedding (Su et al. 2021, "RoFormer"), GPT-NeoX / Llama
/// half-split convention: angle(p, i) = p · θ^(−2i/rotaryDim) for i &lt; rotaryDim/2, computed in
/// fp32 as Hugging Face does. Build once per model and pass to <see cref="F.Rope(Tensor, Tensor, RopeCache)"/>
/// every generation step. The tables (cos, sin [rows, rotaryDim/2]) are built lazily for the
/// positions actually used and grown on demand up to <see cref="MaxPositions"/>, so a model whose
/// config allows a long context costs nothing for it until a sequence is that long.
/// </summary>
public sealed class RopeCache
{
    // Rows built on first use at the least, so short sequences do not regrow the tables every token.
    private const int MinRows = 64;

    private readonly object _gate = new();
    private readonly Dictionary<DeviceBackend, (int Rows, Tensor Cos, Tensor Sin)> _onDevice = [];
    private BuiltTables _tables = new(0, [], []);

    public RopeCache(int headDim, int maxPositions, float theta = 10000f, int? rotaryDim = null)
    {
        RotaryDim = F.CheckRotaryDim(headDim, rotaryDim);
        if (maxPositions < 1)
            throw new ArgumentOutOfRangeException(nameof(maxPositions), maxPositions, "RopeCache: maxPositions must be at least 1");
        HeadDim = headDim;
        MaxPositions = maxPositions;
        Theta = theta;
    }

    public int HeadDim { get; }

    /// <summary>How many leading dims of each head are rotated (the rest pass through).</summary>
    public int RotaryDim { get; }

    /// <summary>The largest number of positions the tables may grow to (positions 0 .. MaxPositions−1).</summary>
    public int MaxPositions { get; }

    public float Theta { get; }

    /// <summary>How many positions the tables cover now (0 before first use).</summary>
    public int BuiltPositions => Volatile.Read(ref _tables).Rows;

    /// <summary>One consistent snapshot of the tables: cos, sin [Rows, rotaryDim/2].</summary>
    internal sealed record BuiltTables(int Rows, float[] Cos, float[] Sin);

    /// <summary>
    /// Makes the tables cover positions [0, <paramref name="positions"/>) (at most
    /// <see cref="MaxPositions"/>); they grow at least geometrically so a sequence growing one token
    /// at a time rebuilds them only a logarithmic number of times. Returns the tables now built.
    /// </summary>
    internal BuiltTables EnsureBuilt(int positions)
    {
        var current = Volatile.Read(ref _tables);
        if (positions <= current.Rows)
            return current;
        lock (_gate)
        {
            current = _tables;
            if (positions <= current.Rows)
                return current;
            int rows = (int)Math.Min(MaxPositions, Math.Max(Math.Max(positions, MinRows), 2L * current.Rows));
            int half = RotaryDim / 2;
            var (cos, sin) = Tables(Enumerable.Range(current.Rows, rows - current.Rows).ToArray(), RotaryDim, Theta);
            var allCos = new float[rows * half];
            var allSin = new float[rows * half];
            current.Cos.CopyTo(allCos, 0);
            current.Sin.CopyTo(allSin, 0);
            cos.CopyTo(allCos, current.Rows * half);
            sin.CopyTo(allSin, current.Rows * half);
            var grown = new BuiltTables(rows, allCos, allSin);
            Volatile.Write(ref _tables, grown);
            return grown;
        }
    }

    /// <summary>
    /// Makes the tables cover positions [0, <paramref name="positions"/>) before a forward pass
    /// whose positions are not read back (on a device). positions must not exceed <see cref="MaxPositions"/>.
    /// </summary>
    public void Reserve(int positions)
    {
        if (positions > MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(positions), positions, $"RopeCache: {positions} positions exceed the cache's {MaxPositions}");
        EnsureBuilt(positions);
    }

    /// <summary>The tables built so far on a device, uploaded on first use there and again after they grow.</summary>
    internal (Tensor Cos, Tensor Sin) OnDevice(DeviceBackend backend)
    {
        var host = EnsureBuilt(1);
        lock (_onDevice)
        {
            if (!_onDevice.TryGetValue(backend, out var tables) || tables.Rows < host.Rows)
            {
                int half = RotaryDim / 2;
                tables = (host.Rows, Tensor.Wrap(host.Cos, host.Rows, half).To(backend.Device), Tensor.Wrap(host.Sin, host.Rows, half).To(backend.Device));
                _onDevice[backend] = tables;
            }
            return (tables.Cos, tables.Sin);
        }
    }

    /// <summary>cos, sin [positions.Length, rotaryDim/2] for the given positions.</summary>
    internal static (float[] Cos, float[] Sin) Tables(int[] positions, int rotaryDim, float theta)
    {
        int half = rotaryDim / 2;
        var invFreq = new float[half];
        for (int i = 0; i < half; i++)
            invFreq[i] = 1f / MathF.Pow(theta, 2f * i / rotaryDim);
        var cos = new float[positions.Length * half];
        var sin = new float[positions.Length * half];
        for (int k = 0; k < positions.Length; k++)
        {
            float p = positions[k];
            for (int i = 0; i < half; i++)
            {
                float angle = p * invFreq[i];
                cos[(k * half) + i] = MathF.Cos(angle);
                sin[(k * half) + i] = MathF.Sin(angle);
            }
        }
        return (cos, sin);
    }
}
