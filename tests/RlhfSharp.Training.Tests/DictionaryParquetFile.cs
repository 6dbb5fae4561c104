using System.Buffers.Binary;
using System.Text;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// Writes a Parquet file whose string columns are dictionary-encoded, as pyarrow (and so Hugging
/// Face) writes repetitive text: per column a PLAIN dictionary page and an RLE_DICTIONARY data page
/// of indices. Parquet.Net only writes plain strings, so the file is laid out here by hand from the
/// format's spec (parquet.thrift, Thrift's compact protocol): required UTF-8 columns, one row group,
/// no compression.
/// </summary>
internal static class DictionaryParquetFile
{
    // Thrift compact protocol type ids.
    private const byte I32 = 5, I64 = 6, Binary = 8, List = 9, Struct = 12;

    // parquet.thrift enums.
    private const int ByteArray = 6, Required = 0, Utf8 = 0, DataPage = 0, DictionaryPage = 2, Plain = 0, Rle = 3, RleDictionary = 8, Uncompressed = 0;

    /// <summary>Writes <paramref name="columns"/> (name and one value a row, all of the same length).</summary>
    public static string Write(string path, params (string Name, string[] Values)[] columns)
    {
        int rows = columns[0].Values.Length;
        using var file = new MemoryStream();
        file.Write("PAR1"u8);
        var chunks = new List<(string Name, long DictOffset, long DataOffset, long Size, int Values)>();
        foreach (var (name, values) in columns)
        {
            var dictionary = values.Distinct().ToList();
            long dictOffset = file.Position;
            var dictData = new MemoryStream();
            foreach (var entry in dictionary)
            {
                var bytes = Encoding.UTF8.GetBytes(entry);
                var length = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
                dictData.Write(length);
                dictData.Write(bytes);
            }
            WritePage(file, DictionaryPage, dictData.ToArray(), dictionary.Count, Plain);

            long dataOffset = file.Position;
            int bitWidth = Math.Max(1, (int)Math.Ceiling(Math.Log2(dictionary.Count)));
            var indices = new MemoryStream();
            indices.WriteByte((byte)bitWidth);
            foreach (var value in values)
            {
                // One RLE run per value: header (count << 1), then the index in ceil(bitWidth / 8) bytes.
                Varint(indices, 1 << 1);
                indices.WriteByte((byte)dictionary.IndexOf(value));
            }
            WritePage(file, DataPage, indices.ToArray(), values.Length, RleDictionary);
            chunks.Add((name, dictOffset, dataOffset, file.Position - dictOffset, values.Length));
        }

        var footer = new MemoryStream();
        var w = new CompactWriter(footer);
        w.Field(1, I32); w.I32(1);
        w.Field(2, List); w.ListHeader(Struct, columns.Length + 1);
        w.Field(4, Binary); w.String("schema"); w.Field(5, I32); w.I32(columns.Length); w.Stop();
        foreach (var (name, _) in columns)
        {
            w.Field(1, I32); w.I32(ByteArray); w.Field(3, I32); w.I32(Required); w.Field(4, Binary); w.String(name); w.Field(6, I32); w.I32(Utf8); w.Stop();
        }
        w.Field(3, I64); w.I64(rows);
        w.Field(4, List); w.ListHeader(Struct, 1);
        w.Field(1, List); w.ListHeader(Struct, chunks.Count);
        foreach (var c in chunks)
        {
            w.Field(2, I64); w.I64(c.DictOffset);
            w.Field(3, Struct);
            w.Field(1, I32); w.I32(ByteArray);
            w.Field(2, List); w.ListHeader(I32, 3); w.I32(Plain); w.I32(Rle); w.I32(RleDictionary);
            w.Field(3, List); w.ListHeader(Binary, 1); w.String(c.Name);
            w.Field(4, I32); w.I32(Uncompressed);
            w.Field(5, I64); w.I64(c.Values);
            w.Field(6, I64); w.I64(c.Size);
            w.Field(7, I64); w.I64(c.Size);
            w.Field(9, I64); w.I64(c.DataOffset);
            w.Field(11, I64); w.I64(c.DictOffset);
            w.Stop(); // ColumnMetaData
            w.Stop(); // ColumnChunk
        }
        w.Field(2, I64); w.I64(chunks.Sum(c => c.Size));
        w.Field(3, I64); w.I64(rows);
        w.Stop(); // RowGroup
        w.Stop(); // FileMetaData

        file.Write(footer.ToArray());
        Span<byte> footerLength = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(footerLength, (int)footer.Length);
        file.Write(footerLength);
        file.Write("PAR1"u8);
        File.WriteAllBytes(path, file.ToArray());
        return path;
    }

    private static void WritePage(Stream file, int type, byte[] data, int values, int encoding)
    {
        var header = new MemoryStream();
        var w = new CompactWriter(header);
        w.Field(1, I32); w.I32(type);
        w.Field(2, I32); w.I32(data.Length);
        w.Field(3, I32); w.I32(data.Length);
        if (type == DictionaryPage)
        {
            w.Field(7, Struct);
            w.Field(1, I32); w.I32(values); w.Field(2, I32); w.I32(encoding);
        }
        else
        {
            w.Field(5, Struct);
            w.Field(1, I32); w.I32(values); w.Field(2, I32); w.I32(encoding); w.Field(3, I32); w.I32(Rle); w.Field(4, I32); w.I32(Rle);
        }
        w.Stop();
        w.Stop();
        file.Write(header.ToArray());
        file.Write(data);
    }

    private static void Varint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    /// <summary>Thrift's compact protocol, the parts a footer and page headers need.</summary>
    private sealed class CompactWriter(Stream s)
    {
        private readonly Stack<short> _lastField = new([0]);

        public void Field(short id, byte type)
        {
            int delta = id - _lastField.Pop();
            _lastField.Push(id);
            if (delta is > 0 and <= 15)
            {
                s.WriteByte((byte)((delta << 4) | type));
            }
            else
            {
                s.WriteByte(type);
                Varint(s, ZigZag(id));
            }
            if (type == Struct) _lastField.Push(0);
        }

        public void Stop()
        {
            s.WriteByte(0);
            if (_lastField.Count > 1) _lastField.Pop();
        }

        /// <summary>A list header; each struct element that follows ends with its own <see cref="Stop"/>.</summary>
        public void ListHeader(byte elementType, int size)
        {
            if (size < 15) s.WriteByte((byte)((size << 4) | elementType));
            else
            {
                s.WriteByte((byte)(0xF0 | elementType));
                Varint(s, (ulong)size);
            }
            // Each struct element opens its own field-id scope, closed by its Stop.
            for (int i = 0; i < (elementType == Struct ? size : 0); i++) _lastField.Push(0);
        }

        public void I32(int value) => Varint(s, ZigZag(value));

        public void I64(long value) => Varint(s, ZigZag(value));

        public void String(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Varint(s, (ulong)bytes.Length);
            s.Write(bytes);
        }

        private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
    }
}
