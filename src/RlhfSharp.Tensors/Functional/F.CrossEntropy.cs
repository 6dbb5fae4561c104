using RlhfSharp.Tensors.Autograd;
namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Cross-entropy −log softmax(logits)[target] per row, fused: the forward computes each row's
    /// logsumexp without materialising a softmax or log-softmax; the backward writes
    /// dlogits = (softmax − onehot)·g straight from the logits and the saved logsumexp.
    /// Rows whose target is <paramref name="ignoreIndex"/> give loss 0 and gradient 0; Mean divides by
    /// the number of non-ignored rows (NaN when every row is ignored, as in PyTorch).
    /// Saved for backward: the logits (a reference, not a copy), the targets and two floats per row
    /// (max m and Σ exp(x − m), i.e. the logsumexp kept in two parts so softmax = exp(x − m)/Σ has
    /// no cancellation at large logits); the [.., V] gradient is the only [.., V] allocation.
    /// logits [N, V] or [B, T, V], targets int32 [N] or [B, T] -> [] (Mean, Sum) or [N] / [B, T] (None)
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        if (logits.IsOnDevice || targets.IsOnDevice)
            return DeviceCrossEntropy(logits, targets, ignoreIndex, reduction);
        var ids = CheckIds("CrossEntropy", logits, targets, "targets", ignoreIndex);
        var rows = RowLayout.Of(logits);
        int n = rows.Count, v = rows.Width;
        var max = GradBuffers.RentZeroed(n);
        var sum = GradBuffers.RentZeroed(n);
        var loss = GradBuffers.RentZeroed(n);
        int count = 0;
        foreach (var t in ids)
            count += t == ignoreIndex ? 0 : 1;
        Partition.For(n, 3L * v, (_, start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int t = ids[r];
                if (t == ignoreIndex)
                    continue;
                var row = rows.Row(r);
                (max[r], sum[r]) = RowKernels.MaxSumExp(row);
                loss[r] = MathF.Log(sum[r]) - (row[t] - max[r]);
            }
        });

        Tensor result;
        if (reduction == Reduction.None)
        {
            result = Tensor.Wrap(loss, targets.ShapeArr);
        }
        else
        {
            double total = 0;
            foreach (var l in loss)
                total += l;
            result = Tensor.Scalar((float)(reduction == Reduction.Mean ? total / count : total));
        }

        return Tensor.Record(result, "cross_entropy", [logits], g =>
        {
            var gd = Dense(g);
            float meanScale = reduction == Reduction.Mean ? 1f / count : 1f;
            var dx = GradBuffers.Rent(n * v); // every row is written: the gradient row or zeros
            Partition.For(n, 2L * v, (_, start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    int t = ids[r];
                    var dr = dx.AsSpan(r * v, v);
                    if (t == ignoreIndex)
                    {
                        dr.Clear();
                        continue;
                    }
                    float gr = reduction == Reduction.None ? gd[r] : gd[0] * meanScale;
                    RowKernels.ExpShiftScale(rows.Row(r), max[r], gr / sum[r], dr);
                    dr[t] -= gr;
                }
            });
            return [Tensor.Wrap(dx, logits.ShapeArr)];
        });
    }
}
