using RlhfSharp.Tensors.Autograd;
namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// log softmax(logits)[b, t, ids[b, t]]: the log-probability of each chosen token, the quantity
    /// PPO's ratio and DPO's implicit reward are built from. Fused like <see cref="CrossEntropy"/>:
    /// only the per-row logsumexp is computed and saved (as max m and Σ exp(x − m)) (plus references to the logits and ids);
    /// backward writes dlogits = (onehot − softmax)·g directly.
    /// logits [B, T, V] (any [.., V]), ids int32 [B, T] -> [B, T]
    /// </summary>
    public static Tensor TokenLogProbs(Tensor logits, Tensor ids)
    {
        if (logits.IsOnDevice || ids.IsOnDevice)
            return DeviceTokenLogProbs(logits, ids, ignoreIndex: int.MinValue, "token_log_probs");
        var idx = CheckIds("TokenLogProbs", logits, ids, "ids");
        var rows = RowLayout.Of(logits);
        int n = rows.Count, v = rows.Width;
        var max = GradBuffers.RentZeroed(n);
        var sum = GradBuffers.RentZeroed(n);
        var logp = GradBuffers.RentZeroed(n);
        Partition.For(n, 3L * v, (_, start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var row = rows.Row(r);
                (max[r], sum[r]) = RowKernels.MaxSumExp(row);
                logp[r] = row[idx[r]] - max[r] - MathF.Log(sum[r]);
            }
        });
        var result = Tensor.Wrap(logp, ids.ShapeArr);
        return Tensor.Record(result, "token_log_probs", [logits], g =>
        {
            var gd = Dense(g);
            var dx = Uninit(n * v);
            Partition.For(n, 2L * v, (_, start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    var dr = dx.AsSpan(r * v, v);
                    RowKernels.ExpShiftScale(rows.Row(r), max[r], -gd[r] / sum[r], dr);
                    dr[idx[r]] += gd[r];
                }
            });
            return [Tensor.Wrap(dx, logits.ShapeArr)];
        });
    }
}
