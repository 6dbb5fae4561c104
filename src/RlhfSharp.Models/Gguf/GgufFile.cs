using System.Buffers.Binary;
using System.Text;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Gguf;

/// <summary>One tensor's entry in a GGUF file: shape in torch order (outermost first), type, and data offset from the start of the data section.</summary>
public sealed record GgufTensorInfo(string Name, int[] Shape, GgmlType Type, long Offset)
{
    public long Numel => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// Reads a GGUF file's header (metadata and tensor infos) and its F32/F16/BF16 tensors. Every
/// length, count, type and offset is checked against the file before it is used, so a truncated
/// or corrupt file is a <see cref="GgufFormatException"/> naming the byte where it went wrong.
/// </summary>
public sealed class GgufFile
{
    private const int MaxDims = 4;

    private GgufFile(string path, uint version, Dictionary<string, object> metadata, List<GgufTensorInfo> tensors, long dataStart, int alignment)
    {
        Path = path;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        DataStart = dataStart;
        Alignment = alignment;
    }

    public string Path { get; }

    public uint Version { get; }

    /// <summary>Key → value: string, uint, int, float, bool, ulong, long, double, byte... or <see cref="GgufArray"/>; in file order.</summary>
    public IReadOnlyDictionary<string, object> Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Absolute byte offset of the data section.</summary>
    public long DataStart { get; }

    public int Alignment { get; }

    public GgufTensorInfo Tensor(string name) =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new GgufFormatException(Path, DataStart, $"no tensor named '{name}' (the file has {Tensors.Count} tensors)");

    /// <summary>The value of <paramref name="key"/> as <typeparamref name="T"/>, or an error naming the key and the type found.</summary>
    public T Get<T>(string key)
    {
        if (!Metadata.TryGetValue(key, out var v))
            throw new GgufFormatException(Path, 0, $"metadata key '{key}' is missing");
        return v is T t ? t : throw new GgufFormatException(Path, 0, $"metadata key '{key}' holds a {v.GetType().Name}, expected {typeof(T).Name}");
    }

    public static GgufFile Open(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var r = new Cursor(fs, path);
        uint magic = r.UInt32();
        if (magic != GgufWriter.Magic)
            throw r.Error(0, $"not a GGUF file: the first 4 bytes are 0x{magic:X8}, expected \"GGUF\"");
        uint version = r.UInt32();
        if (version is not (2 or 3))
            throw r.Error(4, $"GGUF version {version} is not supported; expected 2 or 3");
        ulong tensorCount = r.UInt64();
        ulong kvCount = r.UInt64();
        // Every entry takes at least 8 bytes, so a count beyond the file's size is corrupt.
        if (tensorCount > (ulong)fs.Length / 8 || kvCount > (ulong)fs.Length / 8)
            throw r.Error(8, $"tensor count {tensorCount} or metadata count {kvCount} is larger than a {fs.Length}-byte file can hold");
        var metadata = new Dictionary<string, object>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            long at = r.Position;
            var key = r.String();
            var type = r.Type();
            var value = r.Value(type, depth: 0);
            if (!metadata.TryAdd(key, value))
                throw r.Error(at, $"metadata key '{key}' appears twice");
        }
        int alignment = GgufWriter.DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var a))
        {
            if (a is not uint al || al == 0 || (al & (al - 1)) != 0 || al > 1 << 20)
                throw r.Error(0, $"general.alignment must be a uint32 power of two, got {a}");
            alignment = (int)al;
        }
        var tensors = new List<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            long at = r.Position;
            var name = r.String();
            uint nDims = r.UInt32();
            if (nDims is 0 or > MaxDims)
                throw r.Error(at, $"tensor '{name}' has {nDims} dims; expected 1 to {MaxDims}");
            var shape = new int[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong n = r.UInt64();
                if (n is 0 or > int.MaxValue)
                    throw r.Error(at, $"tensor '{name}' has dim {d} of size {n}; expected 1 to {int.MaxValue}");
                shape[nDims - 1 - d] = (int)n;
            }
            uint type = r.UInt32();
            if (!Enum.IsDefined((GgmlType)type))
                throw r.Error(at, $"tensor '{name}' has ggml type {type}; this reader handles F32 (0), F16 (1) and BF16 (30), not quantised types");
            ulong offset = r.UInt64();
            if (offset % (ulong)alignment != 0)
                throw r.Error(at, $"tensor '{name}' starts at data offset {offset}, not a multiple of the alignment {alignment}");
            if (!names.Add(name))
                throw r.Error(at, $"tensor '{name}' appears twice");
            tensors.Add(new GgufTensorInfo(name, shape, (GgmlType)type, (long)offset));
        }
        long dataStart = (r.Position + alignment - 1) / alignment * alignment;
        foreach (var t in tensors)
        {
            long end = dataStart + t.Offset + (t.Numel * GgufWriter.ElementSize(t.Type));
            if (t.Offset > fs.Length || end > fs.Length)
                throw r.Error(dataStart, $"tensor '{t.Name}' [{string.Join(", ", t.Shape)}] {t.Type} ends at byte {end}, past the end of the {fs.Length}-byte file (truncated?)");
        }
        return new GgufFile(path, version, metadata, tensors, dataStart, alignment);
    }

    /// <summary>Reads a tensor as float32 values in row-major order.</summary>
    public float[] ReadFloats(string name)
    {
        var info = Tensor(name);
        int size = GgufWriter.ElementSize(info.Type);
        var bytes = new byte[info.Numel * size];
        using (var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            fs.Position = DataStart + info.Offset;
            fs.ReadExactly(bytes);
        }
        var result = new float[info.Numel];
        for (int i = 0; i < result.Length; i++)
        {
            var s = bytes.AsSpan(i * size);
            result[i] = info.Type switch
            {
                GgmlType.F32 => BinaryPrimitives.ReadSingleLittleEndian(s),
                GgmlType.F16 => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s)),
                _ => BFloat16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(s)),
            };
        }
        return result;
    }

    /// <summary>Bounds-checked little-endian reads over the header.</summary>
    private sealed class Cursor(FileStream fs, string path)
    {
        private const int MaxArrayDepth = 4;
        private readonly byte[] _buf = new byte[8];

        public long Position => fs.Position;

        public GgufFormatException Error(long at, string detail) => new(path, at, detail);

        private ReadOnlySpan<byte> Take(int n)
        {
            long at = fs.Position;
            if (fs.Length - at < n)
                throw Error(at, $"the file ends after {fs.Length} bytes, inside the header (truncated?)");
            fs.ReadExactly(_buf, 0, n);
            return _buf.AsSpan(0, n);
        }

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public GgufValueType Type()
        {
            long at = fs.Position;
            uint t = UInt32();
            return Enum.IsDefined((GgufValueType)t) ? (GgufValueType)t : throw Error(at, $"unknown metadata value type {t}; expected 0 to 12");
        }

        public string String()
        {
            long at = fs.Position;
            ulong n = UInt64();
            if (n > (ulong)(fs.Length - fs.Position) || n > int.MaxValue)
                throw Error(at, $"a string of {n} bytes runs past the end of the {fs.Length}-byte file");
            var bytes = new byte[n];
            fs.ReadExactly(bytes);
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Error(at, "a string is not valid UTF-8");
            }
        }

        public object Value(GgufValueType type, int depth)
        {
            switch (type)
            {
                case GgufValueType.UInt8: return Take(1)[0];
                case GgufValueType.Int8: return (sbyte)Take(1)[0];
                case GgufValueType.UInt16: return BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
                case GgufValueType.Int16: return BinaryPrimitives.ReadInt16LittleEndian(Take(2));
                case GgufValueType.UInt32: return UInt32();
                case GgufValueType.Int32: return BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                case GgufValueType.Float32: return BinaryPrimitives.ReadSingleLittleEndian(Take(4));
                case GgufValueType.UInt64: return UInt64();
                case GgufValueType.Int64: return BinaryPrimitives.ReadInt64LittleEndian(Take(8));
                case GgufValueType.Float64: return BinaryPrimitives.ReadDoubleLittleEndian(Take(8));
                case GgufValueType.String: return String();
                case GgufValueType.Bool:
                    long at = fs.Position;
                    byte b = Take(1)[0];
                    return b <= 1 ? b == 1 : throw Error(at, $"a bool holds {b}; expected 0 or 1");
                default:
                    long start = fs.Position;
                    if (depth >= MaxArrayDepth)
                        throw Error(start, $"arrays nested deeper than {MaxArrayDepth}");
                    var elem = Type();
                    ulong n = UInt64();
                    if (n > (ulong)(fs.Length - fs.Position))
                        throw Error(start, $"an array of {n} elements runs past the end of the {fs.Length}-byte file");
                    var items = new object[n];
                    for (ulong i = 0; i < n; i++)
                        items[i] = Value(elem, depth + 1);
                    return new GgufArray(elem, items);
            }
        }
    }
}
