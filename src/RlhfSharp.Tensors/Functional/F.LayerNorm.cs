using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Layer normalisation (Ba et al. 2016) over the last dim: y = (x − mean)·rstd ⊙ w + b with the
    /// biased variance, rstd = 1/√(var + eps), as in PyTorch. One fused row kernel; saved for
    /// backward: a reference to x (and w) and mean, rstd per row.
    /// x [.., C], weight [C]?, bias [C]? -> [.., C]
    /// </summary>
    public static Tensor LayerNorm(Tensor x, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        int c = CheckNormParams("LayerNorm", x, weight, bias);
        if (x.IsOnDevice || (weight?.IsOnDevice ?? false) || (bias?.IsOnDevice ?? false))
            return DeviceNorm(x, weight, bias, eps, rms: false);
        var rows = RowLayout.Of(x);
        int n = rows.Count;
        var w = NormParam(weight);
        var b = NormParam(bias);
        var mean = GradBuffers.RentZeroed(n);
        var rstd = GradBuffers.RentZeroed(n);
        var y = Uninit(n * c);
        Partition.For(n, 5L * c, (_, start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var row = rows.Row(r);
                var dst = y.AsSpan(r * c, c);
                float mu = TensorPrimitives.Sum(row) / c;
                TensorPrimitives.Subtract(row, mu, dst);
                float var = TensorPrimitives.SumOfSquares(dst) / c;
                float rs = 1f / MathF.Sqrt(var + eps);
                mean[r] = mu;
                rstd[r] = rs;
                TensorPrimitives.Multiply(dst, rs, dst);
                if (w is not null)
                    TensorPrimitives.Multiply(dst, w, dst);
                if (b is not null)
                    TensorPrimitives.Add(dst, b, dst);
            }
        });
        var result = Tensor.Wrap(y, x.ShapeArr);
        Tensor[] inputs = (weight, bias) switch
        {
            (null, null) => [x],
            (not null, null) => [x, weight],
            (null, not null) => [x, bias],
            _ => [x, weight, bias],
        };
        return Tensor.Record(result, "layer_norm", inputs, g =>
        {
            var gd = Dense(g);
            bool needW = weight is { RequiresGrad: true }, needB = bias is { RequiresGrad: true };
            var grads = NormBackward(rows, gd, w, mean, rstd, x.RequiresGrad, needW, needB, centered: true);
            var result = new Tensor?[inputs.Length];
            int i = 0;
            result[i++] = grads.Dx is null ? null : Tensor.Wrap(grads.Dx, x.ShapeArr);
            if (weight is not null)
                result[i++] = grads.Dw is null ? null : Tensor.Wrap(grads.Dw, weight.ShapeArr);
            if (bias is not null)
                result[i] = grads.Db is null ? null : Tensor.Wrap(grads.Db, bias.ShapeArr);
            return result;
        });
    }

    private static int CheckNormParams(string op, Tensor x, Tensor? weight, Tensor? bias)
    {
        if (x.Rank < 1)
            throw new ShapeMismatchException(op, "input must have a feature dim [.., C], got a scalar");
        int c = x.ShapeArr[^1];
        CheckNormParam(op, x, weight, "weight", c);
        CheckNormParam(op, x, bias, "bias", c);
        return c;
    }

    private static void CheckNormParam(string op, Tensor x, Tensor? p, string name, int c)
    {
        if (p is not null && (p.Rank != 1 || p.ShapeArr[0] != c))
            throw new ShapeMismatchException(op, $"{name} shape {ShapeUtil.Format(p.ShapeArr)} must be [{c}] for input of shape {ShapeUtil.Format(x.ShapeArr)}");
    }

    /// <summary>
    /// Shared LayerNorm / RMSNorm backward with x̂ = (x − mean)·rstd (mean = 0 for RMSNorm):
    /// dx̂ = g ⊙ w; dx = rstd·(dx̂ − [mean(dx̂) if centered] − x̂·mean(dx̂ ⊙ x̂)); dw = Σ g ⊙ x̂; db = Σ g.
    /// dw and db are summed per fixed chunk of rows and the chunks combined in order (deterministic
    /// for a given thread count).
    /// </summary>
    private static (float[]? Dx, float[]? Dw, float[]? Db) NormBackward(RowLayout rows, float[] gd, float[]? w, float[] mean, float[] rstd,
        bool needX, bool needW, bool needB, bool centered)
    {
        int n = rows.Count, c = rows.Width;
        var dx = needX ? Uninit(n * c) : null;
        int chunks = Partition.Chunks(n, 8L * c);
        // Each chunk's partial dw and db: row `chunk` of [chunks, C], summed in chunk order after.
        var dwParts = needW ? GradBuffers.RentZeroed(chunks * c) : null;
        var dbParts = needB ? GradBuffers.RentZeroed(chunks * c) : null;
        Partition.For(n, 8L * c, new NormBackwardRows(rows, gd, w, mean, rstd, dx, dwParts, dbParts, centered));
        return (dx, Combine(dwParts, chunks, c), Combine(dbParts, chunks, c));
    }

    // NormBackward over rows [start, end) as chunk `chunk` (its partial dw and db go to row `chunk` of the parts).
    private readonly struct NormBackwardRows(RowLayout rows, float[] gd, float[]? w, float[] mean, float[] rstd,
        float[]? dx, float[]? dwParts, float[]? dbParts, bool centered) : IPartitionBody
    {
        public void Run(int chunk, int start, int end)
        {
            int c = rows.Width;
            bool needW = dwParts is not null, needB = dbParts is not null;
            var xhat = NormScratch(2 * c).AsSpan(0, c);
            var dxhat = NormScratch(2 * c).AsSpan(c, c);
            var dw = needW ? dwParts.AsSpan(chunk * c, c) : default;
            var db = needB ? dbParts.AsSpan(chunk * c, c) : default;
            for (int r = start; r < end; r++)
            {
                var gr = gd.AsSpan(r * c, c);
                TensorPrimitives.Subtract(rows.Row(r), mean[r], xhat);
                TensorPrimitives.Multiply(xhat, rstd[r], xhat);
                if (needW)
                    TensorPrimitives.MultiplyAdd(gr, xhat, dw, dw);
                if (needB)
                    TensorPrimitives.Add(gr, db, db);
                if (dx is null)
                    continue;
                if (w is not null)
                    TensorPrimitives.Multiply(gr, w, dxhat);
                else
                    gr.CopyTo(dxhat);
                float meanDxhat = centered ? TensorPrimitives.Sum(dxhat) / c : 0f;
                float meanDot = TensorPrimitives.Dot(dxhat, xhat) / c;
                var dr = dx.AsSpan(r * c, c);
                TensorPrimitives.MultiplyAdd(xhat, -meanDot, dxhat, dr);
                TensorPrimitives.Add(dr, -meanDxhat, dr);
                TensorPrimitives.Multiply(dr, rstd[r], dr);
            }
        }
    }

    // Row 0 of [chunks, C] plus the other rows in order, as a C-long array of its own.
    private static float[]? Combine(float[]? parts, int chunks, int c)
    {
        if (parts is null)
            return null;
        var total = GradBuffers.Rent(c);
        parts.AsSpan(0, c).CopyTo(total);
        for (int i = 1; i < chunks; i++)
            TensorPrimitives.Add(total, parts.AsSpan(i * c, c), total);
        return total;
    }

    [ThreadStatic]
    private static float[]? _normScratch;

    // Per-thread row scratch of the norm backward (x̂ and dx̂ of the row being processed).
    private static float[] NormScratch(int length) => ThreadScratch(ref _normScratch, length);
}
