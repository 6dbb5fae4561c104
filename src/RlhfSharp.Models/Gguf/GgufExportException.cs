namespace RlhfSharp.Models.Gguf;

/// <summary>A model or tokenizer that GGUF export cannot represent faithfully; the message says what is unsupported and what is.</summary>
public sealed class GgufExportException(string message) : Exception(message), IUserError
{
}
