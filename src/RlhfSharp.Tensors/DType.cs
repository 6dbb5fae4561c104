namespace RlhfSharp.Tensors;

/// <summary>Element type of a tensor's storage. Arithmetic is always done in fp32.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the type every op computes in.</summary>
    Float32,

    /// <summary>bfloat16 storage for weights that are only read; converted to fp32 on the fly.</summary>
    BFloat16,

    /// <summary>32-bit integers: token ids, gather indices, argmax results.</summary>
    Int32,
}
