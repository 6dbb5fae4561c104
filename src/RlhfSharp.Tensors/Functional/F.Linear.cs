namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Affine map y = x·Wᵀ + b with W in PyTorch's [out, in] layout (fp32 or bf16 storage). Wᵀ is a
    /// transposed view handed to the GEMM as a transpose flag, never copied.
    /// x [.., in], weight [out, in], bias [out]? -> [.., out]
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2)
            throw new ShapeMismatchException("Linear", $"weight must be [out, in], got {ShapeUtil.Format(weight.ShapeArr)}");
        if (x.Rank < 1 || x.ShapeArr[^1] != weight.ShapeArr[1])
            throw new ShapeMismatchException("Linear", $"input {ShapeUtil.Format(x.ShapeArr)} must end in in_features = {weight.ShapeArr[1]} to match weight {ShapeUtil.Format(weight.ShapeArr)}");
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArr[0] != weight.ShapeArr[0]))
            throw new ShapeMismatchException("Linear", $"bias shape {ShapeUtil.Format(bias.ShapeArr)} must be [{weight.ShapeArr[0]}] for weight {ShapeUtil.Format(weight.ShapeArr)}");
        var y = x.Rank == 1 ? x.Unsqueeze(0).Matmul(weight.T).Squeeze(0) : x.Matmul(weight.T);
        return bias is null ? y : y.Add(bias.Float());
    }
}
