namespace RlhfSharp.Training.Export;

/// <summary>An export the user asked for that cannot be done (a non-empty --out, a missing base model, a tokenizer GGUF cannot describe); the message says what would work.</summary>
public sealed class ExportException(string message) : Exception(message), IUserError
{
}
