using RlhfSharp.Tensors.Autograd;
namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Entropy of softmax(logits) per row, H = −Σ p log p = log Σe − Σ e·(z − m) / Σe with
    /// e = exp(z − m), m the row max (one fused pass; tokens with p = 0 contribute 0, so −∞ logits
    /// are allowed). Backward: dH/dz = −p ⊙ (log p + H). Saved: a reference to the logits and two
    /// floats per row (max, log Σ exp(z − max), H). logits [.., V] -> [..]
    /// </summary>
    public static Tensor Entropy(Tensor logits)
    {
        if (logits.Rank < 1)
            throw new ShapeMismatchException("Entropy", "logits must have a class dim [.., V], got a scalar");
        if (logits.IsOnDevice)
            return DeviceEntropy(logits);
        var rows = RowLayout.Of(logits);
        int n = rows.Count, v = rows.Width;
        var max = GradBuffers.RentZeroed(n);
        var logSum = GradBuffers.RentZeroed(n);
        var h = GradBuffers.RentZeroed(n);
        Partition.For(n, 4L * v, (_, start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var row = rows.Row(r);
                max[r] = System.Numerics.Tensors.TensorPrimitives.Max(row);
                var (sum, weighted) = RowKernels.SumExpWeighted(row, max[r]);
                logSum[r] = MathF.Log(sum);
                h[r] = logSum[r] - (weighted / sum);
            }
        });
        var result = Tensor.Wrap(h, logits.ShapeArr[..^1]);
        return Tensor.Record(result, "entropy", [logits], g =>
        {
            var gd = Dense(g);
            var dx = Uninit(n * v);
            Partition.For(n, 3L * v, (_, start, end) =>
            {
                for (int r = start; r < end; r++)
                    RowKernels.EntropyGrad(rows.Row(r), max[r], logSum[r], h[r], gd[r], dx.AsSpan(r * v, v));
            });
            return [Tensor.Wrap(dx, logits.ShapeArr)];
        });
    }
}
