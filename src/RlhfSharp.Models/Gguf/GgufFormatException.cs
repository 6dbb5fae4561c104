namespace RlhfSharp.Models.Gguf;

/// <summary>A file that is not a well-formed GGUF file (or uses a part of GGUF this project does not read); the message names the file, the byte offset and what was expected.</summary>
public sealed class GgufFormatException : Exception, IUserError
{
    public GgufFormatException(string path, long offset, string detail)
        : base($"{path}: at byte {offset}: {detail}")
    {
        Path = path;
        Offset = offset;
    }

    public string Path { get; }

    public long Offset { get; }
}
