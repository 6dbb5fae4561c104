using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using RlhfSharp.Models.IO;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.SafeTensors;

/// <summary>
/// Writes .safetensors files (header JSON padded with spaces to an 8-byte boundary, tensors stored
/// contiguously in the given order, little-endian) and sharded checkpoints with
/// <c>model.safetensors.index.json</c>. Files are written to a temporary name and renamed, so a
/// crash never leaves a half-written checkpoint under the final name.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>
    /// Saves named tensors. fp32 tensors are stored as <paramref name="floatType"/> (F32, BF16 or F16);
    /// bf16-storage tensors as BF16; int32 tensors as I32.
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null, SafeTensorsDType floatType = SafeTensorsDType.F32)
    {
        if (floatType is not (SafeTensorsDType.F32 or SafeTensorsDType.BF16 or SafeTensorsDType.F16))
            throw new ArgumentException($"floatType must be F32, BF16 or F16, got {floatType}", nameof(floatType));
        var list = tensors.ToList();
        NonFiniteWeights.CheckBeforeSave(path, list);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in list)
        {
            if (name == "__metadata__" || !seen.Add(name))
                throw new ArgumentException($"tensor name '{name}' is reserved or repeated");
        }

        var header = BuildHeader(list, metadata, floatType, out var dtypes);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            for (int i = 0; i < list.Count; i++)
                WriteData(stream, list[i].Value, dtypes[i]);
        });
    }

    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> list, IReadOnlyDictionary<string, string>? metadata, SafeTensorsDType floatType, out SafeTensorsDType[] dtypes)
    {
        dtypes = new SafeTensorsDType[list.Count];
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                    w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            for (int i = 0; i < list.Count; i++)
            {
                var t = list[i].Value;
                var dt = t.Dtype switch
                {
                    DType.BFloat16 => SafeTensorsDType.BF16,
                    DType.Int32 => SafeTensorsDType.I32,
                    _ => floatType,
                };
                dtypes[i] = dt;
                long bytes = (long)t.Numel * SafeTensorsDTypes.ByteSize(dt);
                w.WriteStartObject(list[i].Key);
                w.WriteString("dtype", dt.ToString());
                w.WriteStartArray("shape");
                foreach (var d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        var json = ms.ToArray();
        int padded = (json.Length + 7) / 8 * 8;
        var header = new byte[padded];
        json.CopyTo(header, 0);
        header.AsSpan(json.Length).Fill((byte)' ');
        return header;
    }

    private static void WriteData(Stream stream, Tensor t, SafeTensorsDType dt)
    {
        switch (dt)
        {
            case SafeTensorsDType.F32:
                stream.Write(MemoryMarshal.AsBytes(LittleEndian(t.ToArray()).AsSpan()));
                break;
            case SafeTensorsDType.BF16:
                stream.Write(MemoryMarshal.AsBytes(LittleEndian(t.ToBFloat16Bits()).AsSpan()));
                break;
            case SafeTensorsDType.F16:
                var f = t.ToArray();
                var h = new ushort[f.Length];
                for (int i = 0; i < f.Length; i++)
                    h[i] = BitConverter.HalfToUInt16Bits((Half)f[i]);
                stream.Write(MemoryMarshal.AsBytes(LittleEndian(h).AsSpan()));
                break;
            default:
                stream.Write(MemoryMarshal.AsBytes(LittleEndian(t.ToIntArray()).AsSpan()));
                break;
        }
    }

    private static float[] LittleEndian(float[] a)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var u = MemoryMarshal.Cast<float, uint>(a.AsSpan());
            BinaryPrimitives.ReverseEndianness(u, u);
        }
        return a;
    }

    private static ushort[] LittleEndian(ushort[] a)
    {
        if (!BitConverter.IsLittleEndian)
            BinaryPrimitives.ReverseEndianness(a, a);
        return a;
    }

    private static int[] LittleEndian(int[] a)
    {
        if (!BitConverter.IsLittleEndian)
            BinaryPrimitives.ReverseEndianness(a, a);
        return a;
    }

    /// <summary>
    /// Saves a checkpoint split into shards of at most <paramref name="maxShardBytes"/> (a tensor
    /// larger than that gets a shard of its own) named <c>model-00001-of-0000N.safetensors</c>, plus
    /// <c>model.safetensors.index.json</c> mapping each tensor to its shard. With one shard it writes
    /// plain <c>model.safetensors</c> and no index, as Hugging Face does.
    /// </summary>
    public static void SaveSharded(string directory, IEnumerable<KeyValuePair<string, Tensor>> tensors, long maxShardBytes, SafeTensorsDType floatType = SafeTensorsDType.F32, IReadOnlyDictionary<string, string>? metadata = null)
    {
        tensors = tensors.ToList();
        NonFiniteWeights.CheckBeforeSave(directory, tensors); // every shard before the first is written
        Directory.CreateDirectory(directory);
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long current = 0, total = 0;
        foreach (var kv in tensors)
        {
            long bytes = (long)kv.Value.Numel * (kv.Value.Dtype == DType.Int32 || floatType == SafeTensorsDType.F32 ? 4 : 2);
            if (current > 0 && current + bytes > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(kv);
            current += bytes;
            total += bytes;
        }
        var meta = metadata ?? new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            Save(Path.Combine(directory, "model.safetensors"), shards[0], meta, floatType);
            RemoveStale(directory, keep: ["model.safetensors"]);
            return;
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Save(Path.Combine(directory, file), shards[i], meta, floatType);
            foreach (var kv in shards[i])
                weightMap[kv.Key] = file;
        }
        var index = new { metadata = new { total_size = total }, weight_map = weightMap };
        var json = JsonSerializer.SerializeToUtf8Bytes(index, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(Path.Combine(directory, SafeTensorsCheckpoint.IndexFileName), s => s.Write(json));
        RemoveStale(directory, keep: [.. weightMap.Values.Distinct(), SafeTensorsCheckpoint.IndexFileName]);
    }

    // Weights of an earlier save in another layout (one file vs shards) would shadow or confuse
    // the new ones; they are removed only after the new files are in place.
    private static void RemoveStale(string directory, string[] keep)
    {
        var stale = Directory.GetFiles(directory, "model*.safetensors")
            .Append(Path.Combine(directory, SafeTensorsCheckpoint.IndexFileName))
            .Where(f => File.Exists(f) && !keep.Contains(Path.GetFileName(f)));
        foreach (var f in stale)
            File.Delete(f);
    }
}
