using System.Numerics.Tensors;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// softmax(x) along <paramref name="dim"/> (default the last), one fused row kernel.
    /// Backward uses the saved output only: dx = y ⊙ (g − Σ g⊙y). x [.., C] -> [.., C]
    /// </summary>
    public static Tensor Softmax(Tensor x, int dim = -1)
    {
        int d = ShapeUtil.Dim(dim, x.Rank, "Softmax");
        if (d != x.Rank - 1)
            return Softmax(x.Transpose(d, -1), -1).Transpose(d, -1);
        if (x.IsOnDevice)
            return DeviceSoftmax(x, log: false);
        var rows = RowLayout.Of(x);
        int c = rows.Width;
        var y = Uninit(rows.Count * c);
        Partition.For(rows.Count, 4L * c, (_, start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var row = rows.Row(r);
                var dst = y.AsSpan(r * c, c);
                float max = TensorPrimitives.Max(row);
                RowKernels.ExpShiftScale(row, max, 1f, dst);
                TensorPrimitives.Multiply(dst, 1f / TensorPrimitives.Sum(dst), dst);
            }
        });
        var result = Tensor.Wrap(y, x.ShapeArr);
        return Tensor.Record(result, "softmax", [x], g =>
        {
            var gd = Dense(g);
            var dx = Uninit(y.Length);
            Partition.For(rows.Count, 3L * c, (_, start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    var gr = gd.AsSpan(r * c, c);
                    var yr = y.AsSpan(r * c, c);
                    var dr = dx.AsSpan(r * c, c);
                    TensorPrimitives.Subtract(gr, TensorPrimitives.Dot(gr, yr), dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            });
            return [Tensor.Wrap(dx, x.ShapeArr)];
        });
    }

    /// <summary>
    /// log softmax(x) = (x − max) − log Σ exp(x − max) along <paramref name="dim"/> (default the last), one fused
    /// row kernel. Backward uses the saved output only: dx = g − exp(y)·Σg. x [.., C] -> [.., C]
    /// </summary>
    public static Tensor LogSoftmax(Tensor x, int dim = -1)
    {
        int d = ShapeUtil.Dim(dim, x.Rank, "LogSoftmax");
        if (d != x.Rank - 1)
            return LogSoftmax(x.Transpose(d, -1), -1).Transpose(d, -1);
        if (x.IsOnDevice)
            return DeviceSoftmax(x, log: true);
        var rows = RowLayout.Of(x);
        int c = rows.Width;
        var y = Uninit(rows.Count * c);
        Partition.For(rows.Count, 3L * c, (_, start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var (max, sum) = RowKernels.MaxSumExp(rows.Row(r));
                var dst = y.AsSpan(r * c, c);
                TensorPrimitives.Subtract(rows.Row(r), max, dst);
                TensorPrimitives.Subtract(dst, MathF.Log(sum), dst);
            }
        });
        var result = Tensor.Wrap(y, x.ShapeArr);
        return Tensor.Record(result, "log_softmax", [x], g =>
        {
            var gd = Dense(g);
            var dx = Uninit(y.Length);
            Partition.For(rows.Count, 3L * c, (_, start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    var gr = gd.AsSpan(r * c, c);
                    var dr = dx.AsSpan(r * c, c);
                    RowKernels.ExpShiftScale(y.AsSpan(r * c, c), 0f, TensorPrimitives.Sum(gr), dr);
                    TensorPrimitives.Subtract(gr, dr, dr);
                }
            });
            return [Tensor.Wrap(dx, x.ShapeArr)];
        });
    }
}
