namespace RlhfSharp.Models.Gguf;

/// <summary>A GGUF array value: its element type and the elements (string, int, uint, float, bool...).</summary>
public sealed record GgufArray(GgufValueType ElementType, object[] Items);
