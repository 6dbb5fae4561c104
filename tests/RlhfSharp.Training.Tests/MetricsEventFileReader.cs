using System.Buffers.Binary;
using System.Text;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// A TensorBoard event-file reader written from the format description alone, sharing no code with the
/// writer: TFRecord framing with both masked CRC-32C checks, and protobuf wire decoding by hand.
/// </summary>
internal static class EventFileReader
{
    internal sealed record Value(string Tag, float? SimpleValue, string? PluginName, long? DataClass, long? Dtype, long[] ShapeDims, string[] Strings);

    internal sealed record Event(double WallTime, long Step, string? FileVersion, long? SessionStatus, IReadOnlyList<Value> Values);

    internal sealed record Field(int Number, int WireType, ulong Scalar, byte[] Bytes);

    /// <summary>CRC-32C bit by bit (no table): reflected Castagnoli polynomial 0x82F63B78.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
                crc = (crc >> 1) ^ (0x82F63B78u & (uint)-(int)(crc & 1));
        }
        return crc ^ 0xFFFFFFFF;
    }

    public static uint Masked(uint crc) => unchecked((uint)((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    /// <summary>Splits a file into record payloads; any framing or CRC mismatch is an InvalidDataException.</summary>
    public static List<byte[]> ReadRecords(byte[] file)
    {
        var records = new List<byte[]>();
        var pos = 0;
        while (pos < file.Length)
        {
            if (file.Length - pos < 12)
                throw new InvalidDataException($"truncated header at {pos}");
            var lengthBytes = file.AsSpan(pos, 8);
            var lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + 8, 4));
            if (lengthCrc != Masked(Crc32C(lengthBytes)))
                throw new InvalidDataException($"length CRC mismatch at {pos}");
            var length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (length > (ulong)Math.Max(0, file.Length - pos - 16))
                throw new InvalidDataException($"record at {pos} runs past the end");
            var data = file.AsSpan(pos + 12, (int)length).ToArray();
            var dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + 12 + (int)length, 4));
            if (dataCrc != Masked(Crc32C(data)))
                throw new InvalidDataException($"data CRC mismatch at {pos}");
            records.Add(data);
            pos += 16 + (int)length;
        }
        return records;
    }

    public static List<Event> ReadEvents(string path) => ReadRecords(File.ReadAllBytes(path)).Select(ParseEvent).ToList();

    /// <summary>Decodes one message into its fields: varints (0), fixed64 (1), length-delimited (2), fixed32 (5).</summary>
    public static List<Field> Fields(byte[] message)
    {
        var fields = new List<Field>();
        var pos = 0;
        while (pos < message.Length)
        {
            var key = Varint(message, ref pos);
            var number = (int)(key >> 3);
            var wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    fields.Add(new Field(number, wire, Varint(message, ref pos), []));
                    break;
                case 1:
                    fields.Add(new Field(number, wire, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(pos, 8)), []));
                    pos += 8;
                    break;
                case 2:
                    var len = (int)Varint(message, ref pos);
                    fields.Add(new Field(number, wire, 0, message.AsSpan(pos, len).ToArray()));
                    pos += len;
                    break;
                case 5:
                    fields.Add(new Field(number, wire, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(pos, 4)), []));
                    pos += 4;
                    break;
                default:
                    throw new InvalidDataException($"unexpected wire type {wire} for field {number}");
            }
        }
        return fields;
    }

    private static ulong Varint(byte[] buffer, ref int pos)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return result;
        }
    }

    private static Event ParseEvent(byte[] data)
    {
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        long? sessionStatus = null;
        var values = new List<Value>();
        foreach (var f in Fields(data))
        {
            switch (f.Number, f.WireType)
            {
                case (1, 1): wallTime = BitConverter.UInt64BitsToDouble(f.Scalar); break;
                case (2, 0): step = (long)f.Scalar; break;
                case (3, 2): fileVersion = Encoding.UTF8.GetString(f.Bytes); break;
                case (5, 2): values.AddRange(Fields(f.Bytes).Where(v => v.Number == 1).Select(v => ParseValue(v.Bytes))); break;
                case (7, 2): sessionStatus = (long)Fields(f.Bytes).Single(s => s.Number == 1).Scalar; break;
                default: throw new InvalidDataException($"unexpected Event field {f.Number}/{f.WireType}");
            }
        }
        return new Event(wallTime, step, fileVersion, sessionStatus, values);
    }

    private static Value ParseValue(byte[] data)
    {
        string tag = "";
        float? simple = null;
        string? plugin = null;
        long? dataClass = null, dtype = null;
        var dims = new List<long>();
        var strings = new List<string>();
        foreach (var f in Fields(data))
        {
            switch (f.Number, f.WireType)
            {
                case (1, 2): tag = Encoding.UTF8.GetString(f.Bytes); break;
                case (2, 5): simple = BitConverter.UInt32BitsToSingle((uint)f.Scalar); break;
                case (9, 2):
                    foreach (var m in Fields(f.Bytes))
                    {
                        if (m.Number == 1)
                            plugin = Encoding.UTF8.GetString(Fields(m.Bytes).Single(p => p.Number == 1).Bytes);
                        else if (m.Number == 4)
                            dataClass = (long)m.Scalar;
                    }
                    break;
                case (8, 2):
                    foreach (var t in Fields(f.Bytes))
                    {
                        if (t.Number == 1)
                            dtype = (long)t.Scalar;
                        else if (t.Number == 2)
                            dims.AddRange(Fields(t.Bytes).Where(d => d.Number == 2).Select(d => (long)Fields(d.Bytes).Single(s => s.Number == 1).Scalar));
                        else if (t.Number == 8)
                            strings.Add(Encoding.UTF8.GetString(t.Bytes));
                    }
                    break;
                default: throw new InvalidDataException($"unexpected Summary.Value field {f.Number}/{f.WireType}");
            }
        }
        return new Value(tag, simple, plugin, dataClass, dtype, dims.ToArray(), strings.ToArray());
    }
}
