namespace RlhfSharp.Fuzz.Tests;

/// <summary>The checked-in fuzz inputs: seeds (fuzz/corpus/&lt;target&gt;/) and regressions (fuzz/regressions/&lt;target&gt;/).</summary>
internal static class FuzzInputs
{
    public static string Folder(string kind) => Path.Combine(SetupScript.RepoRoot(), "fuzz", kind);

    /// <summary>(target, file relative to the repository root) for every file under fuzz/<paramref name="kind"/>.</summary>
    public static TheoryData<string, string> Files(string kind)
    {
        var data = new TheoryData<string, string>();
        string root = SetupScript.RepoRoot();
        string folder = Folder(kind);
        if (!Directory.Exists(folder))
            return data;
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            foreach (var file in Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal))
                data.Add(Path.GetFileName(dir), Path.GetRelativePath(root, file));
        }
        return data;
    }
}
