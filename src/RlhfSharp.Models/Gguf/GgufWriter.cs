using System.Buffers.Binary;
using System.Text;
using RlhfSharp.Models.IO;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Gguf;

/// <summary>
/// Builds a GGUF v3 file (ggml's docs/gguf.md): the magic "GGUF", version, tensor and metadata
/// counts, typed metadata key/values, tensor infos (name, dims innermost first, type, offset), then
/// the tensor data, each tensor starting on a multiple of <c>general.alignment</c> from the start
/// of the data section. Little-endian throughout. The file is written atomically.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;
    public const uint Version = 3;
    public const int DefaultAlignment = 32;

    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, int[] Shape, GgmlType Type, float[] Data);

    public int Alignment { get; private set; } = DefaultAlignment;

    public void AddString(string key, string value) => Add(key, GgufValueType.String, value);

    public void AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    public void AddFloat32(string key, float value) => Add(key, GgufValueType.Float32, value);

    public void AddBool(string key, bool value) => Add(key, GgufValueType.Bool, value);

    public void AddStrings(string key, IReadOnlyList<string> values) => Add(key, GgufValueType.Array, new GgufArray(GgufValueType.String, [.. values]));

    public void AddInt32s(string key, IReadOnlyList<int> values) => Add(key, GgufValueType.Array, new GgufArray(GgufValueType.Int32, [.. values.Cast<object>()]));

    /// <summary>Sets <c>general.alignment</c> (a power of two, a multiple of 8).</summary>
    public void SetAlignment(int alignment)
    {
        if (alignment < 8 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "GGUF alignment must be a power of two of at least 8");
        Alignment = alignment;
        AddUInt32("general.alignment", (uint)alignment);
    }

    private void Add(string key, GgufValueType type, object value)
    {
        if (!_keys.Add(key))
            throw new ArgumentException($"GGUF metadata key '{key}' is set twice");
        _metadata.Add((key, type, value));
    }

    /// <summary>
    /// Adds a tensor given in row-major order with its torch-order <paramref name="shape"/>
    /// (e.g. [out, in]); GGUF lists the dims innermost first, so the file says [in, out].
    /// </summary>
    public void AddTensor(string name, int[] shape, float[] data, GgmlType type)
    {
        long numel = shape.Aggregate(1L, (a, d) => a * d);
        if (numel != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] holds {numel} values, the data {data.Length}");
        if (!_names.Add(name))
            throw new ArgumentException($"tensor '{name}' is added twice");
        _tensors.Add(new PendingTensor(name, shape, type, data));
    }

    public static int ElementSize(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "only F32, F16 and BF16 tensors are written"),
    };

    public void Write(string path) => AtomicFile.Write(path, WriteTo);

    public void WriteTo(Stream output)
    {
        var w = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            for (int i = t.Shape.Length - 1; i >= 0; i--)
                w.Write((ulong)t.Shape[i]);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = Align(offset + ((long)t.Data.Length * ElementSize(t.Type)));
        }
        w.Flush();
        PadTo(output, output.Position, Align(output.Position));
        long written = 0;
        foreach (var t in _tensors)
        {
            written += WriteData(output, t);
            written = PadTo(output, written, Align(written));
        }
    }

    private long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static long PadTo(Stream s, long at, long target)
    {
        for (long i = at; i < target; i++)
            s.WriteByte(0);
        return target;
    }

    private static long WriteData(Stream s, PendingTensor t)
    {
        int size = ElementSize(t.Type);
        var buf = new byte[1 << 16];
        int per = buf.Length / size;
        for (int start = 0; start < t.Data.Length; start += per)
        {
            int n = Math.Min(per, t.Data.Length - start);
            var span = buf.AsSpan(0, n * size);
            for (int i = 0; i < n; i++)
            {
                float v = t.Data[start + i];
                switch (t.Type)
                {
                    case GgmlType.F32:
                        BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], v);
                        break;
                    case GgmlType.F16:
                        BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], BitConverter.HalfToUInt16Bits((Half)v));
                        break;
                    default:
                        BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], BFloat16.FromFloat(v));
                        break;
                }
            }
            s.Write(span);
        }
        return (long)t.Data.Length * size;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.String:
                WriteString(w, (string)value);
                break;
            case GgufValueType.UInt32:
                w.Write((uint)value);
                break;
            case GgufValueType.Int32:
                w.Write((int)value);
                break;
            case GgufValueType.Float32:
                w.Write((float)value);
                break;
            case GgufValueType.Bool:
                w.Write((byte)((bool)value ? 1 : 0));
                break;
            case GgufValueType.Array:
                var a = (GgufArray)value;
                w.Write((uint)a.ElementType);
                w.Write((ulong)a.Items.Length);
                foreach (var item in a.Items)
                    WriteValue(w, a.ElementType, item);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "this writer does not write that value type");
        }
    }
}
