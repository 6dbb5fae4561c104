using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RlhfSharp.Models.IO;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// A run's output folder, <c>runs/&lt;name&gt;/</c>: the resolved config, the final summary, metric files and
/// <c>checkpoint-&lt;step&gt;</c> subfolders. Files written through it are written atomically (temporary file in
/// the same folder, flushed to disk, renamed into place), so a reader never sees half a file.
/// </summary>
public sealed class RunFolder
{
    public const string ConfigFileName = "config.resolved.yaml";
    public const string SummaryFileName = "summary.json";
    public const string CheckpointPrefix = "checkpoint-";

    private static readonly JsonSerializerOptions SummaryJson = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private RunFolder(string path) => Path = path;

    /// <summary>Full path of the run folder.</summary>
    public string Path { get; }

    public string ConfigPath => System.IO.Path.Combine(Path, ConfigFileName);

    public string SummaryPath => System.IO.Path.Combine(Path, SummaryFileName);

    /// <summary>
    /// Creates <c>&lt;runsRoot&gt;/&lt;name&gt;</c>. A folder that already exists and is not empty is an
    /// <see cref="IOException"/> unless <paramref name="allowExisting"/> is set (resuming or overwriting a run).
    /// </summary>
    public static RunFolder Create(string runsRoot, string name, bool allowExisting = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(runsRoot);
        ValidateName(name, nameof(name));
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(runsRoot, name));
        if (!allowExisting && Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
            throw new IOException($"Run folder {path} already exists and is not empty. Pick another run name, or resume from it.");
        Directory.CreateDirectory(path);
        return new RunFolder(path);
    }

    /// <summary>The run folder at <paramref name="path"/>, neither created nor checked (a rank that only reads it).</summary>
    public static RunFolder At(string path) => new(System.IO.Path.GetFullPath(path));

    /// <summary>Opens an existing run folder (to resume it or read its results).</summary>
    public static RunFolder Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"Run folder {full} does not exist. Check the path, or start a new run to create it.");
        return new RunFolder(full);
    }

    /// <summary>A default run name such as <c>ppo-20261121-200515</c> (UTC).</summary>
    public static string TimestampedName(string prefix, DateTimeOffset time)
    {
        var name = prefix + "-" + time.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        ValidateName(name, nameof(prefix));
        return name;
    }

    /// <summary>Writes <c>config.resolved.yaml</c>: the configuration after defaults and overrides were applied.</summary>
    public void WriteConfig(string yaml) => WriteFileAtomic(ConfigFileName, yaml);

    /// <summary>Writes <c>summary.json</c>, indented; NaN and infinities as "NaN", "Infinity", "-Infinity".</summary>
    public void WriteSummary(JsonObject summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        WriteFileAtomic(SummaryFileName, summary.ToJsonString(SummaryJson) + "\n");
    }

    /// <summary>Atomically writes (or replaces) a UTF-8 text file directly inside the run folder.</summary>
    public void WriteFileAtomic(string fileName, string text)
    {
        ValidateName(fileName, nameof(fileName));
        ArgumentNullException.ThrowIfNull(text);
        AtomicFile.WriteAllText(System.IO.Path.Combine(Path, fileName), text);
    }

    /// <summary>The folder a checkpoint at <paramref name="step"/> belongs in (not created).</summary>
    public string CheckpointPath(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return System.IO.Path.Combine(Path, CheckpointPrefix + step.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The <c>checkpoint-&lt;step&gt;</c> subfolders, by step ascending (numerically: 9 before 10). Folders
    /// whose suffix is not a plain decimal number, such as a half-written <c>checkpoint-10.tmp</c>, are skipped.
    /// </summary>
    public IReadOnlyList<CheckpointEntry> ListCheckpoints()
    {
        var entries = new List<CheckpointEntry>();
        foreach (var dir in Directory.EnumerateDirectories(Path, CheckpointPrefix + "*"))
        {
            if (TryParseCheckpointStep(System.IO.Path.GetFileName(dir), out var step))
                entries.Add(new CheckpointEntry(step, dir));
        }
        entries.Sort((a, b) => a.Step != b.Step ? a.Step.CompareTo(b.Step) : string.CompareOrdinal(a.Path, b.Path));
        return entries;
    }

    /// <summary>The checkpoint with the highest step, or null when there is none.</summary>
    public CheckpointEntry? LatestCheckpoint()
    {
        var all = ListCheckpoints();
        return all.Count == 0 ? null : all[^1];
    }

    /// <summary>Reads the step from a folder name <c>checkpoint-&lt;digits&gt;</c>.</summary>
    public static bool TryParseCheckpointStep(string folderName, out long step)
    {
        step = 0;
        if (!folderName.StartsWith(CheckpointPrefix, StringComparison.Ordinal))
            return false;
        var digits = folderName.AsSpan(CheckpointPrefix.Length);
        return !digits.IsEmpty && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out step);
    }

    private static void ValidateName(string name, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, paramName);
        if (name is "." or ".." || name.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/') || name.Contains('\\'))
            throw new ArgumentException($"\"{name}\" is not a plain file or folder name; use letters, digits, '-', '_' and '.' without path separators.", paramName);
    }
}
