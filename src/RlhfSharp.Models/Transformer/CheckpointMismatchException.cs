namespace RlhfSharp.Models.Transformer;

/// <summary>
/// A model folder whose weights do not fit its config.json (a tensor missing, extra, of another
/// shape or dtype), or a model too large for this machine; the message names the folder, the
/// tensor or key, and what was expected.
/// </summary>
public sealed class CheckpointMismatchException : Exception, IUserError
{
    public CheckpointMismatchException(string directory, string detail)
        : base($"{directory}: {detail}")
    {
        Directory = directory;
    }

    public string Directory { get; }
}
