using System.Buffers.Binary;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// TFRecord framing, the container of TensorBoard event files. Each record is
/// <c>uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)</c>,
/// all little-endian.
/// </summary>
internal static class TfRecordWriter
{
    public const int HeaderSize = 12;
    public const int FooterSize = 4;

    /// <summary>Writes one framed record with a single call, so a record is never interleaved with another.</summary>
    public static void Write(Stream stream, ReadOnlySpan<byte> data)
    {
        var record = new byte[HeaderSize + data.Length + FooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), Crc32C.ComputeMasked(record.AsSpan(0, 8)));
        data.CopyTo(record.AsSpan(HeaderSize));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(HeaderSize + data.Length), Crc32C.ComputeMasked(data));
        stream.Write(record);
    }
}
