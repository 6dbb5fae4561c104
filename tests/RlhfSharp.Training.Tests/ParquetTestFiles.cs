using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace RlhfSharp.Training.Tests;

/// <summary>Writes Parquet files the way Hugging Face datasets lay them out, for the Parquet loading tests.</summary>
internal static class ParquetTestFiles
{
    /// <summary>A nullable string column.</summary>
    public static DataField StringColumn(string name) => new DataField<string>(name);

    /// <summary>A chat column as Hugging Face writes it: <c>list&lt;struct&lt;content: string, role: string&gt;&gt;</c>.</summary>
    public static ListField Messages(string name)
        => new(name, new StructField("element", new DataField<string>("content"), new DataField<string>("role")));

    /// <summary>A message list value for a <see cref="Messages"/> column.</summary>
    public static List<Dictionary<string, object?>> Turns(params (string Role, string? Content)[] turns)
        => [.. turns.Select(t => new Dictionary<string, object?> { ["content"] = t.Content, ["role"] = t.Role })];

    /// <summary>
    /// Writes <paramref name="rows"/> (column name to value; a missing key is a null) with
    /// <paramref name="rowGroupSize"/> rows a row group (Parquet.Net writes strings as plain byte arrays).
    /// </summary>
    public static string Write(string path, ParquetSchema schema, IEnumerable<IDictionary<string, object?>> rows, int? rowGroupSize = null)
    {
        var options = new ParquetOptions { RowGroupSize = rowGroupSize };
        using var stream = File.Create(path);
        ParquetSerializer.SerializeUntypedAsync([.. rows], schema, stream, options).GetAwaiter().GetResult();
        return path;
    }

    /// <summary>The encodings of <paramref name="column"/>'s chunk in row group 0.</summary>
    public static List<Parquet.Meta.Encoding> Encodings(string path, string column)
    {
        using var stream = File.OpenRead(path);
        var reader = ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true).GetAwaiter().GetResult();
        try
        {
            using var group = reader.OpenRowGroupReader(0);
            var field = reader.Schema.GetDataFields().Single(f => f.Name == column);
            return [.. group.GetMetadata(field)!.MetaData!.Encodings];
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
