using Parquet.Schema;
using RlhfSharp.Training.Data;
using static RlhfSharp.Training.Tests.ParquetTestFiles;

namespace RlhfSharp.Training.Tests;

/// <summary>Malformed Parquet data stops with a typed error naming the file, row group, row and column.</summary>
public sealed class ParquetErrorTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Sft(string name, ParquetSchema schema, IEnumerable<Dictionary<string, object?>> rows, int? rowGroupSize = null)
        => Write(Path.Combine(_folder.Path, name), schema, rows, rowGroupSize);

    private static Dictionary<string, object?> Row(params (string Column, object? Value)[] values)
        => values.ToDictionary(v => v.Column, v => v.Value);

    private static DataFormatException Fails(Action load)
    {
        var e = Assert.Throws<DataFormatException>(load);
        Assert.IsAssignableFrom<IUserError>(e);
        return e;
    }

    [Fact]
    public void A_missing_column_names_the_row_and_lists_the_columns_there_are()
    {
        var path = Sft("missing.parquet", new ParquetSchema(StringColumn("prompt"), StringColumn("response")), [Row(("prompt", "p"), ("response", "r"))]);
        var e = Fails(() => SftDataset.Load(path));
        Assert.Equal((DataErrorKind.MissingField, "completion", 0, 0L), (e.Kind, e.Field, e.RowGroup, e.Row));
        Assert.StartsWith($"{path}: row group 0, row 0: column \"completion\": missing;", e.Message);
        Assert.Contains("The file's columns are: prompt (string), response (string).", e.Message);
    }

    [Fact]
    public void A_column_of_the_wrong_type_names_its_parquet_type()
    {
        var path = Sft("wrong.parquet", new ParquetSchema(StringColumn("prompt"), new DataField<int>("completion")), [Row(("prompt", "p"), ("completion", 4))]);
        var e = Fails(() => SftDataset.Load(path));
        Assert.Equal((DataErrorKind.WrongType, "completion", 0, 0L), (e.Kind, e.Field, e.RowGroup, e.Row));
        Assert.Contains("expected a string, found a number (4)", e.Message);
        Assert.Contains("The column's type is int32", e.Message);

        var chat = Sft("wrong_messages.parquet", new ParquetSchema(StringColumn("messages")), [Row(("messages", "user: hi"))]);
        var m = Fails(() => SftDataset.Load(chat));
        Assert.Equal((DataErrorKind.WrongType, "messages"), (m.Kind, m.Field));
        Assert.Contains("list<struct<content: string, role: string>>", m.Message);
    }

    [Fact]
    public void A_null_where_text_is_needed_names_its_row_group_and_row()
    {
        var rows = Enumerable.Range(0, 5).Select(i => Row(("prompt", $"p{i}"), ("completion", i == 3 ? null : $"c{i}")));
        var path = Sft("null.parquet", new ParquetSchema(StringColumn("prompt"), StringColumn("completion")), rows, rowGroupSize: 2);
        var e = Fails(() => SftDataset.Load(path));
        Assert.Equal((DataErrorKind.WrongType, "completion", 1, 3L), (e.Kind, e.Field, e.RowGroup, e.Row));
        Assert.Equal($"{path}: row group 1, row 3: column \"completion\": expected a string, found null; write it as \"completion\": \"...\". The value is null in this row; fill it in or drop the row.", e.Message);

        var chat = Sft("null_content.parquet", new ParquetSchema(Messages("messages")), [Row(("messages", Turns(("user", "hi"), ("assistant", null))))]);
        var n = Fails(() => SftDataset.Load(chat));
        Assert.Equal((DataErrorKind.WrongType, "messages[1].content", 0, 0L), (n.Kind, n.Field, n.RowGroup, n.Row));
        Assert.Contains("found null", n.Message);
    }

    [Fact]
    public void Skipping_bad_rows_counts_them_and_keeps_their_locations()
    {
        var rows = Enumerable.Range(0, 6).Select(i => Row(("prompt", $"p{i}"), ("chosen", $"good {i}"), ("rejected", i % 3 == 1 ? $"good {i}" : $"bad {i}")));
        var path = Sft("prefs.parquet", new ParquetSchema(StringColumn("prompt"), StringColumn("chosen"), StringColumn("rejected")), rows, rowGroupSize: 4);
        var data = PreferenceDataset.Load(path, new DataLoadOptions { SkipBadLines = true });
        Assert.Equal((6, 4, 2), (data.Report.Lines, data.Report.Loaded, data.Report.Skipped));
        Assert.Equal([(0, 1L), (1, 4L)], data.Report.FirstErrors.Select(e => (e.RowGroup!.Value, e.Row!.Value)));
        Assert.All(data.Report.FirstErrors, e => Assert.Equal(DataErrorKind.IdenticalResponses, e.Kind));
    }

    [Fact]
    public void A_truncated_file_or_one_that_is_not_parquet_is_a_corrupt_file()
    {
        var good = Sft("good.parquet", new ParquetSchema(StringColumn("prompt"), StringColumn("completion")), [Row(("prompt", "p"), ("completion", "c"))]);
        var bytes = File.ReadAllBytes(good);
        var truncated = _folder.WriteBytes("truncated.parquet", bytes[..(bytes.Length / 2)]);
        var e = Fails(() => SftDataset.Load(truncated));
        Assert.Equal((DataErrorKind.CorruptFile, truncated), (e.Kind, e.File));
        Assert.Contains("not a readable Parquet file", e.Message);

        var text = _folder.Write("text.parquet", """{"prompt": "p", "completion": "c"}""");
        Assert.Equal(DataErrorKind.CorruptFile, Fails(() => SftDataset.Load(text)).Kind);

        // A damaged page behind an intact footer fails in its row group.
        var damaged = (byte[])bytes.Clone();
        for (int i = 8; i < 40; i++) damaged[i] = 0xFF;
        var page = _folder.WriteBytes("damaged.parquet", damaged);
        var d = Fails(() => SftDataset.Load(page));
        Assert.Equal((DataErrorKind.CorruptFile, 0, (long?)null), (d.Kind, d.RowGroup, d.Row));
        Assert.StartsWith($"{page}: row group 0: cannot be decoded", d.Message);
    }

    [Fact]
    public void An_empty_shard_list_or_a_file_without_rows_says_what_was_expected()
    {
        var pattern = Path.Combine(_folder.Path, "train-*.parquet");
        var none = Fails(() => SftDataset.Load(pattern));
        Assert.Equal((DataErrorKind.FileNotFound, pattern), (none.Kind, none.File));
        Assert.Contains("no file matches the pattern", none.Message);

        var empty = Directory.CreateDirectory(Path.Combine(_folder.Path, "empty")).FullName;
        Assert.Contains("holds no .parquet files", Fails(() => PromptDataset.Load(empty)).Message);
        Assert.Contains("not found", Fails(() => PromptDataset.Load(Path.Combine(_folder.Path, "nowhere", "*.parquet"))).Message);
        Assert.Contains("wildcards are allowed in the file name only", Fails(() => PromptDataset.Load(Path.Combine(_folder.Path, "*", "a.parquet"))).Message);

        var noRows = Sft("train-00000-of-00001.parquet", new ParquetSchema(StringColumn("prompt"), StringColumn("completion")), []);
        var e = Fails(() => SftDataset.Load(pattern));
        Assert.Equal(DataErrorKind.EmptyFile, e.Kind);
        Assert.Contains("has no rows", e.Message);
        Assert.Equal(DataErrorKind.EmptyFile, Fails(() => SftDataset.Load(noRows)).Kind);
    }

    [Fact]
    public void Binary_text_that_is_not_utf8_is_an_encoding_error()
    {
        var schema = new ParquetSchema(new DataField<byte[]>("prompt"));
        var path = Sft("latin1.parquet", schema, [Row(("prompt", (ReadOnlyMemory<byte>)new byte[] { 0x47, 0x72, 0xFC, 0xDF }))]);
        var e = Fails(() => PromptDataset.Load(path));
        Assert.Equal((DataErrorKind.InvalidEncoding, "prompt", 0, 0L), (e.Kind, e.Field, e.RowGroup, e.Row));
    }
}
