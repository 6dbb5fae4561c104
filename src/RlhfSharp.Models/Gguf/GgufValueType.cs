namespace RlhfSharp.Models.Gguf;

/// <summary>The type codes of GGUF metadata values (ggml's docs/gguf.md, <c>gguf_metadata_value_type</c>).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>The ggml tensor types this project writes and reads (<c>ggml_type</c>; quantised types are not handled).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    BF16 = 30,
}

/// <summary>
/// <c>general.file_type</c>, llama.cpp's <c>llama_ftype</c>: what most tensors are stored as
/// (1-D tensors such as norms and biases stay F32 in every file type).
/// </summary>
public enum GgufFileType : uint
{
    AllF32 = 0,
    MostlyF16 = 1,
    MostlyBF16 = 32,
}
