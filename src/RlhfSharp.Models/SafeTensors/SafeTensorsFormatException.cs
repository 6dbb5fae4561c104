namespace RlhfSharp.Models.SafeTensors;

/// <summary>A safetensors file that does not follow the format; the message names the file, the tensor and what is wrong.</summary>
public sealed class SafeTensorsFormatException : Exception, IUserError
{
    public SafeTensorsFormatException(string path, string detail)
        : base($"{path}: {detail}")
    {
        Path = path;
    }

    public string Path { get; }
}
