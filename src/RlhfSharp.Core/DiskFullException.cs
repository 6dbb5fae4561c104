namespace RlhfSharp;

/// <summary>
/// A file could not be written because its disk is full. The writer left no half-written file
/// under the file's name, so an earlier version of it, if any, is unchanged; freeing space (or
/// writing elsewhere) and running again is the fix.
/// </summary>
public sealed class DiskFullException(string path, Exception inner)
    : IOException($"{path}: no space left on device, so it was not written (nothing half-written is left under that name; an earlier version, if any, is unchanged). Free space on that disk, or write to another folder.", inner), IUserError
{
    private const int Enospc = 28; // Linux and macOS errno
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027); // Windows
    private const int ErrorDiskFull = unchecked((int)0x80070070); // Windows

    /// <summary>The file that could not be written.</summary>
    public string Path { get; } = path;

    /// <summary>True when <paramref name="e"/> reports a full disk (ENOSPC, or Windows' disk-full codes).</summary>
    public static bool IsDiskFull(Exception e) =>
        e is DiskFullException || (e is IOException && e.HResult is Enospc or ErrorHandleDiskFull or ErrorDiskFull);
}
