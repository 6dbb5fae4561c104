using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.SafeTensors;

/// <summary>One tensor's header entry: dtype, shape and byte range within the data buffer.</summary>
public sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
}

/// <summary>
/// Reads a .safetensors file: an 8-byte little-endian header length N, N bytes of JSON header
/// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}), then the data buffer.
/// The header is validated in full before any tensor is read (offsets in range, contiguous, no
/// overlap, byte counts matching shape × dtype), and each tensor is read straight from the file
/// into its own array, so loading never holds the file and the model in memory at once.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly Dictionary<string, SafeTensorsEntry> _entries;
    private readonly FileStream _stream;
    private readonly long _dataStart;

    private SafeTensorsFile(string path, FileStream stream, long dataStart, Dictionary<string, SafeTensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        _stream = stream;
        _dataStart = dataStart;
        _entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Entries in file order.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries => _entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.Name, StringComparer.Ordinal).ToList();

    public bool Contains(string name) => _entries.ContainsKey(name);

    public SafeTensorsEntry Entry(string name) => _entries.TryGetValue(name, out var e)
        ? e
        : throw new SafeTensorsFormatException(Path, $"no tensor named '{name}' (the file has {_entries.Count}: {string.Join(", ", _entries.Keys.Order(StringComparer.Ordinal).Take(8))}{(_entries.Count > 8 ? ", …" : "")})");

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: safetensors file not found", path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            long length = stream.Length;
            if (length < 8)
                throw new SafeTensorsFormatException(path, $"file is {length} bytes; a safetensors file starts with an 8-byte header length");
            Span<byte> lenBytes = stackalloc byte[8];
            RandomAccess.Read(stream.SafeFileHandle, lenBytes, 0);
            ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
            if (headerLen > MaxHeaderBytes)
                throw new SafeTensorsFormatException(path, $"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit (is this a safetensors file?)");
            if ((long)headerLen > length - 8)
                throw new SafeTensorsFormatException(path, $"header length {headerLen} runs past the end of the {length}-byte file (truncated file?)");
            var header = new byte[headerLen];
            RandomAccess.Read(stream.SafeFileHandle, header, 8);
            long dataStart = 8 + (long)headerLen;
            var (entries, metadata) = ParseHeader(path, header, length - dataStart);
            return new SafeTensorsFile(path, stream, dataStart, entries, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafeTensorsEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long bufferLength)
    {
        if (JsonUnicode.Find(header) is { } bad)
            throw new SafeTensorsFormatException(path, $"the header's text is not valid Unicode ({bad}); tensor names and metadata must be UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.AsMemory().TrimEnd((byte)' '));
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"header is not valid JSON: {e.Message}");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"header must be a JSON object, got {doc.RootElement.ValueKind}");

        var entries = new Dictionary<string, SafeTensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind != JsonValueKind.Object)
                    throw new SafeTensorsFormatException(path, "__metadata__ must be an object of string values");
                foreach (var m in prop.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String)
                        throw new SafeTensorsFormatException(path, $"__metadata__.{m.Name} must be a string, got {m.Value.ValueKind}");
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            if (entries.ContainsKey(prop.Name))
                throw new SafeTensorsFormatException(path, $"tensor '{prop.Name}' appears twice in the header");
            entries[prop.Name] = ParseEntry(path, prop.Name, prop.Value);
        }

        // The buffer must be covered exactly: sorted by offset, each tensor starts where the last ended.
        long expected = 0;
        SafeTensorsEntry? previous = null;
        foreach (var e in entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < expected)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' bytes [{e.Begin}, {e.End}) overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End})");
            if (e.Begin > expected)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' starts at byte {e.Begin} but the previous tensor ends at {expected}; offsets must be contiguous");
            expected = e.End;
            previous = e;
        }
        if (expected > bufferLength)
            throw new SafeTensorsFormatException(path, $"tensor '{previous!.Name}' ends at byte {expected} of the data buffer, but the file holds only {bufferLength} data bytes (truncated file?)");
        if (expected < bufferLength)
            throw new SafeTensorsFormatException(path, $"the data buffer has {bufferLength} bytes but the tensors cover only {expected}; offsets must cover the whole buffer");
        return (entries, metadata);
    }

    private static SafeTensorsEntry ParseEntry(string path, string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': header entry must be an object with dtype, shape, data_offsets");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': missing string field 'dtype'");
        if (!SafeTensorsDTypes.TryParse(dt.GetString()!, out var dtype))
            throw new SafeTensorsFormatException(path, $"tensor '{name}': unknown dtype '{dt.GetString()}' (supported: {SafeTensorsDTypes.Names})");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': missing array field 'shape'");
        var shape = new int[sh.GetArrayLength()];
        long numel = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var v) || v < 0)
                throw new SafeTensorsFormatException(path, $"tensor '{name}': shape entries must be non-negative integers, got {d.GetRawText()}");
            shape[i++] = v;
            numel = checked(numel * v);
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': 'data_offsets' must be [begin, end]");
        var begin = off[0];
        var end = off[1];
        if (!begin.TryGetInt64(out var b) || !end.TryGetInt64(out var en) || b < 0 || en < b)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': data_offsets {off.GetRawText()} must be integers with 0 <= begin <= end");
        long bytes = checked(numel * SafeTensorsDTypes.ByteSize(dtype));
        if (bytes != en - b)
            throw new SafeTensorsFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes but data_offsets span {en - b}");
        if (numel > int.MaxValue)
            throw new SafeTensorsFormatException(path, $"tensor '{name}' has {numel} elements; at most {int.MaxValue} per tensor are supported");
        return new SafeTensorsEntry(name, dtype, shape, b, en);
    }

    /// <summary>
    /// Reads one tensor. Floating types become fp32, except BF16 when <paramref name="keepBFloat16"/>
    /// (kept as bf16 storage for frozen weights). Integer and bool types become int32. A NaN or an
    /// infinity in a floating tensor is a <see cref="NonFiniteWeightsException"/> naming the file and tensor.
    /// </summary>
    public Tensor Read(string name, bool keepBFloat16 = false)
    {
        var t = ReadStored(name, keepBFloat16);
        NonFiniteWeights.CheckLoaded(Path, name, t);
        return t;
    }

    private Tensor ReadStored(string name, bool keepBFloat16)
    {
        var e = Entry(name);
        int n = checked((int)(e.ByteCount / SafeTensorsDTypes.ByteSize(e.DType)));
        long at = _dataStart + e.Begin;
        switch (e.DType)
        {
            case SafeTensorsDType.F32:
                {
                    var data = new float[n];
                    ReadExact(MemoryMarshal.AsBytes(data.AsSpan()), at, e);
                    FixEndian(data.AsSpan());
                    return Tensor.WrapArray(data, e.Shape);
                }
            case SafeTensorsDType.BF16:
            case SafeTensorsDType.F16:
                {
                    var bits = new ushort[n];
                    ReadExact(MemoryMarshal.AsBytes(bits.AsSpan()), at, e);
                    if (!BitConverter.IsLittleEndian)
                        BinaryPrimitives.ReverseEndianness(bits, bits);
                    if (e.DType == SafeTensorsDType.BF16)
                    {
                        if (keepBFloat16)
                            return Tensor.FromBFloat16Bits(bits, e.Shape);
                        var f = new float[n];
                        BFloat16.ToFloat(bits, f);
                        return Tensor.WrapArray(f, e.Shape);
                    }
                    var h = new float[n];
                    for (int i = 0; i < n; i++)
                        h[i] = (float)BitConverter.UInt16BitsToHalf(bits[i]);
                    return keepBFloat16 ? Tensor.WrapArray(h, e.Shape).ToBFloat16() : Tensor.WrapArray(h, e.Shape);
                }
            default:
                return ReadOther(e, n, at);
        }
    }

    private Tensor ReadOther(SafeTensorsEntry e, int n, long at)
    {
        var bytes = new byte[e.ByteCount];
        ReadExact(bytes, at, e);
        if (e.DType == SafeTensorsDType.F64)
        {
            var f = new float[n];
            for (int i = 0; i < n; i++)
                f[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
            return Tensor.WrapArray(f, e.Shape);
        }
        var ints = new int[n];
        for (int i = 0; i < n; i++)
        {
            long v = e.DType switch
            {
                SafeTensorsDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * 8)),
                SafeTensorsDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i * 4)),
                SafeTensorsDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(i * 2)),
                SafeTensorsDType.I8 => (sbyte)bytes[i],
                _ => bytes[i],
            };
            if (v is > int.MaxValue or < int.MinValue)
                throw new SafeTensorsFormatException(Path, $"tensor '{e.Name}': value {v} at element {i} does not fit in int32");
            ints[i] = (int)v;
        }
        return Tensor.FromArray(ints, e.Shape);
    }

    private void ReadExact(Span<byte> dst, long at, SafeTensorsEntry e)
    {
        int total = 0;
        while (total < dst.Length)
        {
            int got = RandomAccess.Read(_stream.SafeFileHandle, dst[total..], at + total);
            if (got <= 0)
                throw new SafeTensorsFormatException(Path, $"tensor '{e.Name}': file ended after {total} of {dst.Length} bytes (truncated file?)");
            total += got;
        }
    }

    private static void FixEndian(Span<float> data)
    {
        if (BitConverter.IsLittleEndian)
            return;
        var u = MemoryMarshal.Cast<float, uint>(data);
        BinaryPrimitives.ReverseEndianness(u, u);
    }

    public void Dispose() => _stream.Dispose();
}
