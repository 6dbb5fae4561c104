using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// y = x·Wᵀ + b for a weight stored [out, in] (PyTorch's <c>nn.functional.linear</c>):
    /// x [.., in] -> [.., out]. A float32 x whose rows are contiguous and a contiguous float32
    /// weight take one fused op: one GEMM forward, and in backward dx = g·W and dW = gᵀ·x as one
    /// GEMM each, with no reshape or transpose views recorded; a contiguous bias is added in the same
    /// op and its gradient summed there. Every other case (a bf16 weight,
    /// device tensors, strided inputs, a weight with a single row or column) multiplies by the
    /// transposed view. Both give the same bits.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2)
            throw new ShapeMismatchException("Linear", $"weight must be [out, in], got {ShapeUtil.Format(weight.ShapeArr)}");
        if (x.Rank < 1 || x.ShapeArr[^1] != weight.ShapeArr[1])
            throw new ShapeMismatchException("Linear", $"input {ShapeUtil.Format(x.ShapeArr)} must end in in_features = {weight.ShapeArr[1]} to match weight {ShapeUtil.Format(weight.ShapeArr)}");
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArr[0] != weight.ShapeArr[0]))
            throw new ShapeMismatchException("Linear", $"bias shape {ShapeUtil.Format(bias.ShapeArr)} must be [{weight.ShapeArr[0]}] for weight {ShapeUtil.Format(weight.ShapeArr)}");
        if (CanFuseLinear(x, weight, bias))
            return FusedLinear(x, weight, bias);
        var y = x.Rank == 1 ? x.Unsqueeze(0).Matmul(weight.T).Squeeze(0) : x.Matmul(weight.T);
        return bias is null ? y : y.Add(bias.Float());
    }

    // A weight with one row or one column (a score head) keeps the chain: its weight gradient is
    // formed there as xᵀ·g, a different summation order from gᵀ·x, and the fused op must give the
    // chain's bits.
    private static bool CanFuseLinear(Tensor x, Tensor weight, Tensor? bias) =>
        weight.ShapeArr[0] > 1 && weight.ShapeArr[1] > 1
        && x.Rank >= 2 && x.Dtype == DType.Float32 && weight.Dtype == DType.Float32 && !x.IsOnDevice && !weight.IsOnDevice
        && x.IsContiguous && weight.IsContiguous && x.Numel > 0 && weight.Numel > 0
        && (bias is null || (bias.Dtype == DType.Float32 && !bias.IsOnDevice));

    private static Tensor FusedLinear(Tensor x, Tensor weight, Tensor? bias)
    {
        int outF = weight.ShapeArr[0], inF = weight.ShapeArr[1];
        int rows = x.Numel / inF;
        var xs = x.F.AsSpan(x.Offset, x.Numel);
        var ws = weight.F.AsSpan(weight.Offset, weight.Numel);
        var y = GradBuffers.Rent(rows * outF);
        Gemm.Sgemm(false, true, rows, outF, inF, 1f, xs, inF, ws, inF, 0f, y, outF);
        // A contiguous bias is added here, row by row, as the separate add op adds it (each element
        // y[r, j] + b[j] once), and its gradient is the rows of g summed in order from zero, as the
        // add's backward sums them: the same bits without a second node, result and reduction.
        var b = bias is not null && bias.IsContiguous ? bias : null;
        if (b is not null)
        {
            var bs = b.F.AsSpan(b.Offset, outF);
            for (int r = 0; r < rows; r++)
                TensorPrimitives.Add(y.AsSpan(r * outF, outF), bs, y.AsSpan(r * outF, outF));
        }
        var outShape = (int[])x.ShapeArr.Clone();
        outShape[^1] = outF;
        Tensor[] inputs = b is null ? [x, weight] : [x, weight, b];
        var linear = Tensor.Record(new Tensor(y, outShape), "linear", inputs, g =>
        {
            var gd = g.Contiguous();
            var gs = gd.F.AsSpan(gd.Offset, gd.Numel);
            Tensor? dx = null, dw = null, db = null;
            if (x.RequiresGrad)
            {
                var d = GradBuffers.Rent(rows * inF);
                Gemm.Sgemm(false, false, rows, inF, outF, 1f, gs, outF, weight.F.AsSpan(weight.Offset, weight.Numel), inF, 0f, d, inF);
                dx = new Tensor(d, x.ShapeArr); // shapes are never written: tensors share them
            }
            if (weight.RequiresGrad)
            {
                var d = GradBuffers.Rent(outF * inF);
                Gemm.Sgemm(true, false, outF, inF, rows, 1f, gs, outF, x.F.AsSpan(x.Offset, x.Numel), inF, 0f, d, inF);
                dw = new Tensor(d, weight.ShapeArr);
            }
            if (b is { RequiresGrad: true })
            {
                var d = GradBuffers.RentZeroed(outF);
                for (int r = 0; r < rows; r++)
                    TensorPrimitives.Add(d, gs.Slice(r * outF, outF), d);
                db = new Tensor(d, b.ShapeArr);
            }
            return b is null ? [dx, dw] : [dx, dw, db];
        });
        // A strided bias is added as its own op, as on the unfused path.
        return bias is null || b is not null ? linear : linear.Add(bias);
    }
}
