namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Inverted dropout (Srivastava et al. 2014): each element is kept with probability 1 − p and
    /// scaled by 1/(1 − p), else zeroed; the identity when not training or p = 0. One draw of
    /// <paramref name="rng"/> per element in row-major order, so the mask depends only on the
    /// generator state. Saved for backward: the mask (one byte per element). x [..] -> [..]
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Generator rng)
    {
        if (!(p >= 0f && p <= 1f))
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: p must be in [0, 1]");
        if (!training || p == 0f)
            return x;
        if (x.IsOnDevice)
            return DeviceDropout(x, p, rng);
        var src = x.Float().Contiguous().Detach().Span;
        float scale = p == 1f ? 0f : 1f / (1f - p);
        var keep = new bool[src.Length];
        var y = Uninit(src.Length);
        for (int i = 0; i < y.Length; i++)
        {
            keep[i] = rng.NextFloat() >= p;
            y[i] = keep[i] ? src[i] * scale : 0f;
        }
        var result = Tensor.Wrap(y, x.ShapeArr);
        return Tensor.Record(result, "dropout", [x], g =>
        {
            var gd = Dense(g);
            var dx = Uninit(keep.Length);
            for (int i = 0; i < dx.Length; i++)
                dx[i] = keep[i] ? gd[i] * scale : 0f;
            return [Tensor.Wrap(dx, x.ShapeArr)];
        });
    }
}
