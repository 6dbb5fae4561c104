namespace RlhfSharp.Models.SafeTensors;

/// <summary>The element types of the safetensors format that this project reads and writes.</summary>
public enum SafeTensorsDType
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL,
}

internal static class SafeTensorsDTypes
{
    public static bool TryParse(string s, out SafeTensorsDType dtype) =>
        Enum.TryParse(s, ignoreCase: false, out dtype) && Enum.IsDefined(dtype);

    public static int ByteSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.I16 => 2,
        _ => 1,
    };

    public static string Names => string.Join(", ", Enum.GetNames<SafeTensorsDType>());
}
