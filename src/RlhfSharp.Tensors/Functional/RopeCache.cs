namespace RlhfSharp.Tensors;

/// <summary>
/// Precomputed cos/sin tables for rotary position embedding (Su et al. 2021, "RoFormer"), GPT-NeoX /
/// Llama half-split convention: angle(p, i) = p · θ^(−2i/rotaryDim) for i &lt; rotaryDim/2, computed in
/// fp32 as Hugging Face does. Build once per model and pass to <see cref="F.Rope(Tensor, Tensor, RopeCache)"/>
/// every generation step. Tables: cos, sin [maxPositions, rotaryDim/2].
/// </summary>
public sealed class RopeCache
{
    public RopeCache(int headDim, int maxPositions, float theta = 10000f, int? rotaryDim = null)
    {
        RotaryDim = F.CheckRotaryDim(headDim, rotaryDim);
        if (maxPositions < 1)
            throw new ArgumentOutOfRangeException(nameof(maxPositions), maxPositions, "RopeCache: maxPositions must be at least 1");
        HeadDim = headDim;
        MaxPositions = maxPositions;
        Theta = theta;
        var positions = Enumerable.Range(0, maxPositions).ToArray();
        (Cos, Sin) = Tables(positions, RotaryDim, theta);
    }

    public int HeadDim { get; }

    /// <summary>How many leading dims of each head are rotated (the rest pass through).</summary>
    public int RotaryDim { get; }

    public int MaxPositions { get; }

    public float Theta { get; }

    internal float[] Cos { get; }

    internal float[] Sin { get; }

    private readonly Dictionary<DeviceBackend, (Tensor Cos, Tensor Sin)> _onDevice = [];

    /// <summary>The tables on a device, uploaded on first use there and kept.</summary>
    internal (Tensor Cos, Tensor Sin) OnDevice(DeviceBackend backend)
    {
        lock (_onDevice)
        {
            if (!_onDevice.TryGetValue(backend, out var tables))
            {
                int half = RotaryDim / 2;
                tables = (Tensor.Wrap(Cos, MaxPositions, half).To(backend.Device), Tensor.Wrap(Sin, MaxPositions, half).To(backend.Device));
                _onDevice[backend] = tables;
            }
            return tables;
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
