using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Training.Tests;

/// <summary>A default-size built-in task folder, written once for the generator tests and deleted afterwards.</summary>
public sealed class BuiltinTaskFixture : IDisposable
{
    public BuiltinTaskFixture()
    {
        Dir = TempFolders.Create("builtin");
        Data = BuiltinTaskGenerator.Write(Dir, new BuiltinTaskOptions());
    }

    public string Dir { get; }

    public BuiltinTaskData Data { get; }

    public void Dispose() => TempFolders.Delete(Dir);
}

internal static class TempFolders
{
    public static string Create(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"rlhfsharp-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void Delete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temporary folder is harmless
        }
    }
}
