using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;

namespace RlhfSharp.Training.Checkpointing;

/// <summary>
/// <c>manifest.json</c> of a checkpoint: the size and SHA-256 of every other file in it, written
/// last. A checkpoint whose files no longer match (a flipped bit, a truncated copy, a deleted
/// file) is found before its weights are loaded, so a resume can fall back to an older one.
/// </summary>
public sealed class CheckpointManifest
{
    public const string FileName = "manifest.json";
    private const int Version = 1;

    private CheckpointManifest(IReadOnlyList<Entry> files) => Files = files;

    /// <summary>One file: its path relative to the checkpoint folder ('/' separated), size and lower-case hex SHA-256.</summary>
    public sealed record Entry(string Path, long Size, string Sha256);

    public IReadOnlyList<Entry> Files { get; }

    /// <summary>Hashes every file under <paramref name="checkpoint"/> except the manifest itself.</summary>
    public static CheckpointManifest Compute(string checkpoint)
    {
        var files = Directory.EnumerateFiles(checkpoint, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(checkpoint, f).Replace('\\', '/'))
            .Where(f => f != FileName)
            .Order(StringComparer.Ordinal)
            .Select(f => new Entry(f, new FileInfo(Path.Combine(checkpoint, f)).Length, Hash(Path.Combine(checkpoint, f))))
            .ToList();
        return new CheckpointManifest(files);
    }

    /// <summary>Writes manifest.json into <paramref name="checkpoint"/> (atomically: it is there whole or not at all).</summary>
    public void Write(string checkpoint)
    {
        var files = new JsonArray();
        foreach (var f in Files)
            files.Add(new JsonObject { ["path"] = f.Path, ["size"] = f.Size, ["sha256"] = f.Sha256 });
        var json = new JsonObject { ["version"] = Version, ["files"] = files };
        AtomicFile.WriteAllText(Path.Combine(checkpoint, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Reads manifest.json of <paramref name="checkpoint"/>; a malformed one is an <see cref="InvalidDataException"/>.</summary>
    public static CheckpointManifest Read(string checkpoint)
    {
        var path = Path.Combine(checkpoint, FileName);
        try
        {
            var obj = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
            if (obj["version"] is not JsonValue v || v.GetValue<int>() != Version)
                throw new InvalidDataException($"{path}: 'version' must be {Version}");
            if (obj["files"] is not JsonArray array)
                throw new InvalidDataException($"{path}: 'files' must be an array of {{path, size, sha256}}");
            var files = new List<Entry>();
            foreach (var node in array)
            {
                if (node is not JsonObject f || f["path"] is not JsonValue p || f["size"] is not JsonValue s || f["sha256"] is not JsonValue h)
                    throw new InvalidDataException($"{path}: every entry of 'files' needs 'path', 'size' and 'sha256'");
                string rel = p.GetValue<string>();
                if (Path.IsPathRooted(rel) || rel.Split('/').Contains(".."))
                    throw new InvalidDataException($"{path}: '{rel}' is not a path inside the checkpoint");
                files.Add(new Entry(rel, s.GetValue<long>(), h.GetValue<string>()));
            }
            return new CheckpointManifest(files);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a valid checkpoint manifest: {e.Message}", e);
        }
    }

    /// <summary>
    /// Why the files of <paramref name="checkpoint"/> do not match this manifest (the first
    /// difference found), or null when every listed file is there with its size and hash.
    /// Sizes are compared first, so a truncated file is found without reading it.
    /// </summary>
    public string? Check(string checkpoint)
    {
        foreach (var f in Files)
        {
            var full = Path.Combine(checkpoint, f.Path);
            if (!File.Exists(full))
                return $"{f.Path} is missing";
            long size = new FileInfo(full).Length;
            if (size != f.Size)
                return $"{f.Path} has {size.ToString(CultureInfo.InvariantCulture)} bytes, the manifest says {f.Size.ToString(CultureInfo.InvariantCulture)}";
        }
        foreach (var f in Files)
        {
            if (!string.Equals(Hash(Path.Combine(checkpoint, f.Path)), f.Sha256, StringComparison.OrdinalIgnoreCase))
                return $"{f.Path} does not match its SHA-256 in {FileName} (the file changed after it was written)";
        }
        return null;
    }

    private static string Hash(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }
}
