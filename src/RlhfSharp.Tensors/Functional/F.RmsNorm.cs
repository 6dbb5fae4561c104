using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// RMS normalisation (Zhang and Sennrich 2019), Llama's form: y = x · rsqrt(mean(x²) + eps) ⊙ w,
    /// computed in fp32. One fused row kernel; saved for backward: a reference to x (and w) and rstd
    /// per row. x [.., C], weight [C]? -> [.., C]
    /// </summary>
    public static Tensor RmsNorm(Tensor x, Tensor? weight = null, float eps = 1e-6f)
    {
        int c = CheckNormParams("RmsNorm", x, weight, null);
        if (x.IsOnDevice || (weight?.IsOnDevice ?? false))
            return DeviceNorm(x, weight, null, eps, rms: true);
        var rows = RowLayout.Of(x);
        int n = rows.Count;
        var w = NormParam(weight);
        var mean = GradBuffers.RentZeroed(n); // all zero: RMSNorm does not centre
        var rstd = GradBuffers.RentZeroed(n);
        var y = Uninit(n * c);
        Partition.For(n, 3L * c, new RmsNormRows(rows, w, rstd, y, eps));
        var result = Tensor.Wrap(y, x.ShapeArr);
        Tensor[] inputs = weight is null ? [x] : [x, weight];
        return Tensor.Record(result, "rms_norm", inputs, g =>
        {
            var grads = NormBackward(rows, Dense(g), w, mean, rstd, x.RequiresGrad, weight is { RequiresGrad: true }, false, centered: false);
            var dx = grads.Dx is null ? null : Tensor.Wrap(grads.Dx, x.ShapeArr);
            return weight is null ? [dx] : [dx, grads.Dw is null ? null : Tensor.Wrap(grads.Dw, weight.ShapeArr)];
        });
    }

    // y = x · rsqrt(mean(x²) + eps) ⊙ w over rows [start, end), rstd saved per row.
    private readonly struct RmsNormRows(RowLayout rows, float[]? w, float[] rstd, float[] y, float eps) : IPartitionBody
    {
        public void Run(int chunk, int start, int end)
        {
            int c = rows.Width;
            for (int r = start; r < end; r++)
            {
                var row = rows.Row(r);
                var dst = y.AsSpan(r * c, c);
                float rs = 1f / MathF.Sqrt((TensorPrimitives.SumOfSquares(row) / c) + eps);
                rstd[r] = rs;
                TensorPrimitives.Multiply(row, rs, dst);
                if (w is not null)
                    TensorPrimitives.Multiply(dst, w, dst);
            }
        }
    }
}
