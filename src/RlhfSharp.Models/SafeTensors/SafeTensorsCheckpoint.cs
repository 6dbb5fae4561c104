using System.Text.Json;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.SafeTensors;

/// <summary>
/// The weights of a model folder: either one <c>model.safetensors</c> or shards listed in
/// <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map": {name: file}}</c>).
/// Shards are opened lazily and tensors read one at a time.
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly string _directory;
    private readonly Dictionary<string, string> _fileOf;
    private readonly Dictionary<string, SafeTensorsFile> _open = new(StringComparer.Ordinal);

    private SafeTensorsCheckpoint(string directory, Dictionary<string, string> fileOf)
    {
        _directory = directory;
        _fileOf = fileOf;
    }

    public IReadOnlyCollection<string> Names => _fileOf.Keys;

    public bool Contains(string name) => _fileOf.ContainsKey(name);

    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, SingleFileName)) || File.Exists(Path.Combine(directory, IndexFileName));

    public static SafeTensorsCheckpoint Open(string directory)
    {
        var single = Path.Combine(directory, SingleFileName);
        var index = Path.Combine(directory, IndexFileName);
        if (File.Exists(index))
            return new SafeTensorsCheckpoint(directory, ReadIndex(index, directory));
        if (!File.Exists(single))
            throw new FileNotFoundException($"{directory}: no {SingleFileName} or {IndexFileName} found; a model folder needs its weights in safetensors format", single);
        var ckpt = new SafeTensorsCheckpoint(directory, new Dictionary<string, string>(StringComparer.Ordinal));
        var file = SafeTensorsFile.Open(single);
        ckpt._open[SingleFileName] = file;
        foreach (var e in file.Entries)
            ckpt._fileOf[e.Name] = SingleFileName;
        return ckpt;
    }

    private static Dictionary<string, string> ReadIndex(string path, string directory)
    {
        var bytes = File.ReadAllBytes(path);
        if (JsonUnicode.Find(bytes) is { } bad)
            throw new SafeTensorsFormatException(path, $"{bad}; the index must be UTF-8 JSON");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"index is not valid JSON: {e.Message}");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, "index must be an object with a 'weight_map' object mapping tensor names to shard files");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in map.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException(path, $"weight_map.{p.Name} must be a file name string");
            var file = p.Value.GetString()!;
            if (file.Contains('/') || file.Contains('\\') || file.Contains(".."))
                throw new SafeTensorsFormatException(path, $"weight_map.{p.Name} names '{file}'; shard files must sit in the model folder");
            if (!File.Exists(Path.Combine(directory, file)))
                throw new SafeTensorsFormatException(path, $"weight_map.{p.Name} names shard '{file}', which does not exist");
            result[p.Name] = file;
        }
        return result;
    }

    public SafeTensorsEntry Entry(string name) => Shard(name).Entry(name);

    /// <summary>Reads a tensor (see <see cref="SafeTensorsFile.Read"/>).</summary>
    public Tensor Read(string name, bool keepBFloat16 = false)
    {
        var shard = Shard(name);
        if (!shard.Contains(name))
            throw new SafeTensorsFormatException(shard.Path, $"the index maps '{name}' to this shard, but the shard has no such tensor");
        return shard.Read(name, keepBFloat16);
    }

    private SafeTensorsFile Shard(string name)
    {
        if (!_fileOf.TryGetValue(name, out var file))
            throw new KeyNotFoundException($"{_directory}: the checkpoint has no tensor '{name}'");
        if (!_open.TryGetValue(file, out var f))
        {
            f = SafeTensorsFile.Open(Path.Combine(_directory, file));
            _open[file] = f;
        }
        return f;
    }

    public void Dispose()
    {
        foreach (var f in _open.Values)
            f.Dispose();
        _open.Clear();
    }
}
