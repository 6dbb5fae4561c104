namespace RlhfSharp.Tensors;

/// <summary>Element type of a tensor's storage. Ops compute in fp32, except the float64 paths listed on <see cref="Float64"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the type ops compute in (and the only one with gradients).</summary>
    Float32,

    /// <summary>bfloat16 storage for weights that are only read; converted to fp32 on the fly.</summary>
    BFloat16,

    /// <summary>32-bit integers: token ids, gather indices, argmax results.</summary>
    Int32,

    /// <summary>
    /// 64-bit IEEE float for exact statistics computed without gradients (rewards, advantages,
    /// returns, KL estimates). Views, copies, <see cref="Tensor.Cat"/>, <see cref="Tensor.IndexSelect"/>
    /// and <see cref="Tensor.Gather"/> keep the doubles exactly. Element-wise arithmetic (Add, Sub,
    /// Mul, Div, Maximum, Minimum and the operators, with broadcasting, float or double scalars),
    /// Neg/Exp/Log/Sqrt/Abs/Pow/Clamp, <see cref="Tensor.Where"/>/MaskedFill and Sum/Mean compute in
    /// float64 when an input is Float64 (the other operand widened exactly; sums accumulate
    /// sequentially in row-major order) and return Float64, with no gradient: mixing with a float32
    /// tensor that requires grad throws while grad mode is on. Every other op (Max, matmul,
    /// softmax, norms, attention, embedding, losses…) reads it as float32, like bf16, and returns
    /// float32. A Float64 tensor cannot require grad.
    /// </summary>
    Float64,
}
