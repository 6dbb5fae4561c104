namespace RlhfSharp.Fuzz;

/// <summary>
/// A folder of this process's own for the targets whose parsers read files: each input is written
/// to a fixed name in it, so a long run reuses the same few files.
/// </summary>
public sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Folder = Path.Combine(Path.GetTempPath(), $"rlhf-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="name"/> in the folder and returns its path.</summary>
    public string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Removes <paramref name="name"/> from the folder if it is there.</summary>
    public void Remove(string name) => File.Delete(Path.Combine(Folder, name));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // another process's cleanup or an open handle: the folder lives under the temp path
        }
    }
}
