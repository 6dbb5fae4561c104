using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace RlhfSharp.Training.Data;

/// <summary>
/// The Parquet counterpart of <see cref="JsonlReader"/>: reads a file one row group at a time,
/// turns each row into the JSON object a JSONL line with the same columns would hold
/// (<see cref="ParquetJson"/>) and hands it to the same line parser, so a dataset read from
/// Parquet holds the same examples as one read from JSONL. Errors name the file, row group, row
/// and column; a file that cannot be decoded is a <see cref="DataErrorKind.CorruptFile"/> error.
/// </summary>
internal static class ParquetRows
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64 };

    /// <summary>Reads every row of <paramref name="path"/> into <paramref name="examples"/>, counting rows in <paramref name="report"/>.</summary>
    public static void ReadFile<T>(string path, DataLoadOptions options, LoadReport report, List<T> examples, Func<JsonElement, LineContext, T> parseLine)
    {
        using var stream = File.OpenRead(path);
        var (columns, rowGroups) = Open(stream, path);
        long row = 0;
        for (int group = 0; group < rowGroups; group++)
        {
            // One row group's rows at a time: a large file never sits in memory whole.
            foreach (var values in ReadRowGroup(stream, path, group))
            {
                report.Lines++;
                var context = new LineContext(path, checked((int)(row + 1))) { RowGroup = group };
                row++;
                try
                {
                    examples.Add(ParseRow(columns, values, context, parseLine));
                }
                catch (DataFormatException e) when (options.SkipBadLines)
                {
                    report.AddSkipped(e);
                }
            }
        }
    }

    private static (IReadOnlyList<Field> Columns, int RowGroups) Open(Stream stream, string path)
    {
        try
        {
            var reader = ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true).GetAwaiter().GetResult();
            try
            {
                return (reader.Schema.Fields, reader.RowGroupCount);
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e) when (IsDecodeError(e))
        {
            throw new DataFormatException(DataErrorKind.CorruptFile, path, 0, null,
                $"is not a readable Parquet file ({e.Message}); it may be truncated or not Parquet at all. Download or write it again.", e);
        }
    }

    private static IList<Dictionary<string, object>> ReadRowGroup(Stream stream, string path, int group)
    {
        try
        {
            stream.Position = 0;
            return ParquetSerializer.DeserializeUntypedAsync(stream, null, group).GetAwaiter().GetResult().Data;
        }
        catch (Exception e) when (IsDecodeError(e))
        {
            var reason = e.InnerException is { } inner ? $"{e.Message}: {inner.Message}" : e.Message;
            throw DataFormatException.AtRow(DataErrorKind.CorruptFile, path, group, null, null,
                $"cannot be decoded ({reason}); the file is damaged or truncated. Download or write it again.", e);
        }
    }

    private static T ParseRow<T>(IReadOnlyList<Field> columns, Dictionary<string, object> values, LineContext context, Func<JsonElement, LineContext, T> parseLine)
    {
        using var document = JsonDocument.Parse(ParquetJson.Row(columns, values, context), JsonOptions);
        try
        {
            return parseLine(document.RootElement, context);
        }
        catch (DataFormatException e) when (e.Field is { } field && Explain(columns, document.RootElement, field, e.Kind) is { } more)
        {
            throw context.Error(e.Kind, field, $"{e.Problem} {more}");
        }
    }

    /// <summary>What the file holds where a parser found a column missing or of the wrong type, in Parquet's terms.</summary>
    private static string? Explain(IReadOnlyList<Field> columns, JsonElement row, string field, DataErrorKind kind)
    {
        if (kind == DataErrorKind.WrongType && row.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Null)
            return "The value is null in this row; fill it in or drop the row.";
        if (kind == DataErrorKind.MissingField && columns.All(c => c.Name != field))
            return $"The file's columns are: {string.Join(", ", columns.Select(c => $"{c.Name} ({ParquetJson.TypeName(c)})"))}.";
        if (kind == DataErrorKind.WrongType && columns.FirstOrDefault(c => c.Name == field) is { } column)
            return $"The column's type is {ParquetJson.TypeName(column)}; text columns are string, and message lists list<struct<content: string, role: string>>.";
        return null;
    }

    /// <summary>What the Parquet library throws for bytes it cannot decode; not the process's own failures.</summary>
    private static bool IsDecodeError(Exception e)
        => e is not (OutOfMemoryException or OperationCanceledException or DataFormatException or UnauthorizedAccessException or FileNotFoundException or DirectoryNotFoundException);
}
