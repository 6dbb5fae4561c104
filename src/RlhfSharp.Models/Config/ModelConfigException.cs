namespace RlhfSharp.Models.Config;

/// <summary>A config.json that cannot describe a supported model; the message names the file and key.</summary>
public sealed class ModelConfigException : Exception, IUserError
{
    public ModelConfigException(string path, string detail)
        : base($"{path}: {detail}")
    {
        Path = path;
    }

    public string Path { get; }
}
