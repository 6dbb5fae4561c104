using System.Text.Json;

namespace RlhfSharp.Training.Data;

/// <summary>
/// What a dataset path names: a <c>.jsonl</c> file; a <c>.parquet</c> file; a folder, meaning
/// every <c>.parquet</c> file directly in it; or a pattern with <c>*</c> or <c>?</c> in its file
/// name, such as <c>data/train-*.parquet</c> (Hugging Face names its shards
/// <c>train-00000-of-00003.parquet</c>). Shards are read in name order, so the examples come in
/// the same order on every machine.
/// </summary>
public static class DataFiles
{
    /// <summary>The file extension of Parquet data.</summary>
    public const string ParquetExtension = ".parquet";

    /// <summary>True when <paramref name="path"/> is read as Parquet: a .parquet file, a folder, or a pattern.</summary>
    public static bool IsParquet(string path)
        => path.EndsWith(ParquetExtension, StringComparison.OrdinalIgnoreCase) || IsPattern(path) || Directory.Exists(path);

    /// <summary>True when <paramref name="path"/> holds a wildcard (allowed in its file name only).</summary>
    public static bool IsPattern(string path) => path.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>True when <paramref name="path"/> names an existing file or folder, or is a pattern (whose matches are checked when read).</summary>
    public static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || IsPattern(path);

    /// <summary>
    /// The Parquet files a folder or pattern names, in ordinal name order (a plain file is itself).
    /// Throws <see cref="DataFormatException"/> when the folder is missing or nothing matches.
    /// </summary>
    public static IReadOnlyList<string> Shards(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!IsPattern(path) && !Directory.Exists(path))
            return File.Exists(path) ? [path] : throw NotFound(path, "file not found; check the path (relative paths are resolved from the working directory).");
        var (folder, pattern) = Directory.Exists(path) ? (path, "*" + ParquetExtension) : (Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".", Path.GetFileName(path));
        if (folder.AsSpan().IndexOfAny('*', '?') >= 0)
            throw NotFound(path, "wildcards are allowed in the file name only (data/train-*.parquet), not in folder names.");
        if (!Directory.Exists(folder))
            throw NotFound(path, $"folder \"{folder}\" not found; check the path (relative paths are resolved from the working directory).");
        var options = new EnumerationOptions { MatchType = MatchType.Simple, MatchCasing = MatchCasing.PlatformDefault, RecurseSubdirectories = false };
        var files = Directory.EnumerateFiles(folder, pattern, options).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw NotFound(path, Directory.Exists(path)
                ? "the folder holds no .parquet files; expected shards such as train-00000-of-00001.parquet (or name a .jsonl or .parquet file)."
                : "no file matches the pattern; expected Parquet shards such as data/train-00000-of-00003.parquet for data/train-*.parquet.");
        if (files.FirstOrDefault(f => !f.EndsWith(ParquetExtension, StringComparison.OrdinalIgnoreCase)) is { } other)
            throw NotFound(path, $"the pattern matches \"{other}\", which is not a .parquet file; a pattern must name Parquet shards only (end it with .parquet).");
        return files;
    }

    /// <summary>
    /// Reads a dataset path with a line parser: JSONL through <see cref="JsonlReader"/>, Parquet
    /// files, folders and patterns through <see cref="ParquetRows"/>, each row handed to the
    /// parser as the JSON object its JSONL line would be.
    /// </summary>
    internal static (List<T> Examples, LoadReport Report) Read<T>(string path, DataLoadOptions? options, Func<JsonElement, LineContext, T> parseLine)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!IsParquet(path))
            return JsonlReader.ReadFile(path, options, parseLine);
        options ??= DataLoadOptions.Default;
        var shards = Shards(path);
        var report = new LoadReport(path, Math.Max(0, options.MaxReportedErrors));
        var examples = new List<T>();
        foreach (var shard in shards)
            ParquetRows.ReadFile(shard, options, report, examples, parseLine);
        report.Loaded = examples.Count;
        if (report.Lines == 0)
            throw new DataFormatException(DataErrorKind.EmptyFile, path, 0, null,
                shards.Count == 1 ? "the Parquet file has no rows; expected one row per example." : $"the {shards.Count} Parquet files have no rows; expected one row per example.");
        if (examples.Count == 0)
            throw new DataFormatException(DataErrorKind.NoUsableLines, path, 0, null,
                $"all {report.Skipped} rows were skipped as bad, so there is nothing to load. {report}");
        return (examples, report);
    }

    private static DataFormatException NotFound(string path, string problem) => new(DataErrorKind.FileNotFound, path, 0, null, problem);
}
