using System.Text.Json;
using Parquet.Schema;
using RlhfSharp.Training.Data;
using static RlhfSharp.Training.Tests.ParquetTestFiles;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// Each data layout written as JSONL and as Parquet (as Hugging Face lays it out) loads to the same
/// examples, and sharded sets read in name order.
/// </summary>
public sealed class ParquetLoadingTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static Dictionary<string, object?> Row(params (string Column, object? Value)[] values)
        => values.ToDictionary(v => v.Column, v => v.Value);

    /// <summary>Writes the rows as JSONL and as Parquet; returns both paths.</summary>
    private (string Jsonl, string Parquet) Both(string name, ParquetSchema schema, IReadOnlyList<Dictionary<string, object?>> rows, int? rowGroupSize = null)
    {
        var jsonl = _folder.Write(name + ".jsonl", [.. rows.Select(r => JsonSerializer.Serialize(r))]);
        var parquet = Write(Path.Combine(_folder.Path, name + ".parquet"), schema, rows, rowGroupSize);
        return (jsonl, parquet);
    }

    private static string Show(IEnumerable<RlhfSharp.Text.Chat.ChatMessage> messages) => string.Join(" | ", messages.Select(m => $"{m.Role}: {m.Content}"));

    private static void SameSft(string jsonl, string parquet)
    {
        var (a, b) = (SftDataset.Load(jsonl), SftDataset.Load(parquet));
        Assert.Equal(a.Select(e => Show(e.Messages)), b.Select(e => Show(e.Messages)));
        Assert.Equal(a.Select(e => e.Line), b.Select(e => e.Line));
        Assert.All(b, e => Assert.Equal(parquet, e.Source));
    }

    private static void SamePreferences(string jsonl, string parquet)
    {
        var (a, b) = (PreferenceDataset.Load(jsonl), PreferenceDataset.Load(parquet));
        static string Pair(PreferenceExample e) => $"{Show(e.Prompt)} || {e.Chosen} || {e.Rejected}";
        Assert.Equal(a.Select(Pair), b.Select(Pair));
        Assert.NotEmpty(b);
    }

    [Fact]
    public void Prompt_completion_rows_load_like_their_jsonl_lines_across_row_groups()
    {
        var schema = new ParquetSchema(StringColumn("prompt"), StringColumn("completion"), new DataField<long>("id"));
        var rows = Enumerable.Range(0, 7).Select(i => Row(("prompt", i == 3 ? "" : $"What is {i}+{i}?"), ("completion", $"{2 * i}"), ("id", (long)i))).ToList();
        var (jsonl, parquet) = Both("sft", schema, rows, rowGroupSize: 3);
        SameSft(jsonl, parquet);
        var data = SftDataset.Load(parquet);
        Assert.Equal((7, 7, 0), (data.Report.Lines, data.Report.Loaded, data.Report.Skipped));
        Assert.Single(data[3].Messages);
        Assert.Equal(7, data[6].Line);
    }

    [Fact]
    public void Messages_as_a_list_of_structs_load_like_jsonl_message_lists()
    {
        var schema = new ParquetSchema(Messages("messages"), StringColumn("source"));
        var rows = new List<Dictionary<string, object?>>
        {
            Row(("messages", Turns(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello."), ("User", "Bye"), ("assistant", "Bye!"))), ("source", "a")),
            Row(("messages", Turns(("user", "2+2?"), ("assistant", "4"))), ("source", null)),
        };
        var (jsonl, parquet) = Both("chat", schema, rows);
        SameSft(jsonl, parquet);
        Assert.Equal("Bye!", SftDataset.Load(parquet)[0].Completion);
    }

    [Fact]
    public void Plain_encoded_string_columns_read_like_jsonl()
    {
        var schema = new ParquetSchema(StringColumn("prompt"), StringColumn("completion"));
        var rows = Enumerable.Range(0, 6).Select(i => Row(("prompt", "Same prompt"), ("completion", $"answer {i % 2} ü"))).ToList();
        var (jsonl, parquet) = Both("enc", schema, rows);
        Assert.Contains(Parquet.Meta.Encoding.PLAIN, Encodings(parquet, "prompt"));
        SameSft(jsonl, parquet);
    }

    [Fact]
    public void Dictionary_encoded_string_columns_read_like_jsonl()
    {
        string[] prompts = ["Same prompt", "Same prompt", "Other prompt", "Same prompt", "Grüß dich"];
        string[] completions = ["yes", "no", "yes", "yes", "Hallo ü"];
        var parquet = DictionaryParquetFile.Write(Path.Combine(_folder.Path, "dict.parquet"), ("prompt", prompts), ("completion", completions));
        Assert.Contains(Parquet.Meta.Encoding.RLE_DICTIONARY, Encodings(parquet, "completion"));
        var jsonl = _folder.Write("dict.jsonl", [.. prompts.Zip(completions, (p, c) => JsonSerializer.Serialize(new { prompt = p, completion = c }))]);
        SameSft(jsonl, parquet);
    }

    [Fact]
    public void Binary_columns_holding_utf8_read_as_text()
    {
        var schema = new ParquetSchema(new DataField<byte[]>("prompt"), new DataField<byte[]>("completion"));
        var rows = new List<Dictionary<string, object?>> { Row(("prompt", (ReadOnlyMemory<byte>)"Grüß dich"u8.ToArray()), ("completion", (ReadOnlyMemory<byte>)"Hallo"u8.ToArray())) };
        var path = Write(Path.Combine(_folder.Path, "bin.parquet"), schema, rows);
        var example = Assert.Single(SftDataset.Load(path));
        Assert.Equal("user: Grüß dich | assistant: Hallo", Show(example.Messages));
    }

    [Fact]
    public void Preference_strings_with_a_prompt_load_like_jsonl()
    {
        var schema = new ParquetSchema(StringColumn("prompt"), StringColumn("chosen"), StringColumn("rejected"), new DataField<double>("score_chosen"));
        var rows = new List<Dictionary<string, object?>>
        {
            Row(("prompt", "Say hi"), ("chosen", "Hi!"), ("rejected", "No."), ("score_chosen", 8.5)),
            Row(("prompt", "Count"), ("chosen", "1 2 3"), ("rejected", "3 2 1"), ("score_chosen", 7.0)),
        };
        var (jsonl, parquet) = Both("pref", schema, rows);
        SamePreferences(jsonl, parquet);
    }

    [Fact]
    public void Preference_message_lists_with_and_without_a_prompt_load_like_jsonl()
    {
        var withPrompt = new ParquetSchema(Messages("prompt"), Messages("chosen"), Messages("rejected"));
        var (j1, p1) = Both("pref_prompt", withPrompt, [Row(("prompt", Turns(("user", "Q"))), ("chosen", Turns(("assistant", "good"))), ("rejected", Turns(("assistant", "bad"))))]);
        SamePreferences(j1, p1);

        var implicitPrompt = new ParquetSchema(Messages("chosen"), Messages("rejected"));
        var (j2, p2) = Both("pref_implicit", implicitPrompt,
            [Row(("chosen", Turns(("user", "Q2"), ("assistant", "good2"))), ("rejected", Turns(("user", "Q2"), ("assistant", "bad2"))))]);
        SamePreferences(j2, p2);
        Assert.Equal("user: Q2", Show(PreferenceDataset.Load(p2)[0].Prompt));
    }

    [Fact]
    public void Anthropic_hh_rows_split_like_jsonl()
    {
        var schema = new ParquetSchema(StringColumn("chosen"), StringColumn("rejected"));
        var rows = new List<Dictionary<string, object?>>
        {
            Row(("chosen", "\n\nHuman: Capital of France?\n\nAssistant: Paris.\n\nHuman: Sure?\n\nAssistant: Yes."),
                ("rejected", "\n\nHuman: Capital of France?\n\nAssistant: Paris.\n\nHuman: Sure?\n\nAssistant: No idea.")),
        };
        var (jsonl, parquet) = Both("hh", schema, rows);
        SamePreferences(jsonl, parquet);
        Assert.Equal("user: Capital of France? | assistant: Paris. | user: Sure?", Show(PreferenceDataset.Load(parquet)[0].Prompt));
    }

    [Fact]
    public void Prompt_only_rows_keep_their_other_columns_as_extra_fields()
    {
        var schema = new ParquetSchema(StringColumn("prompt"), new DataField<int>("answer"), StringColumn("note"));
        var rows = new List<Dictionary<string, object?>> { Row(("prompt", "2+3=?"), ("answer", 5), ("note", "easy")), Row(("prompt", "7*6=?"), ("answer", 42), ("note", null)) };
        var (jsonl, parquet) = Both("prompts", schema, rows);
        var (a, b) = (PromptDataset.Load(jsonl), PromptDataset.Load(parquet));
        Assert.Equal(a.Select(e => Show(e.Messages)), b.Select(e => Show(e.Messages)));
        Assert.Equal(a.Select(e => string.Join(",", e.Extra.Select(kv => $"{kv.Key}={kv.Value.GetRawText()}"))),
            b.Select(e => string.Join(",", e.Extra.Select(kv => $"{kv.Key}={kv.Value.GetRawText()}"))));
        Assert.Equal(42, b[1].Extra["answer"].GetInt32());
        Assert.Equal(JsonValueKind.Null, b[1].Extra["note"].ValueKind);

        var chat = new ParquetSchema(Messages("messages"));
        var (j2, p2) = Both("prompt_messages", chat, [Row(("messages", Turns(("system", "Be exact."), ("user", "7*6=?"))))]);
        Assert.Equal(Show(PromptDataset.Load(j2)[0].Messages), Show(PromptDataset.Load(p2)[0].Messages));
    }

    [Fact]
    public void Shards_in_a_folder_or_matching_a_pattern_read_in_name_order()
    {
        var schema = new ParquetSchema(StringColumn("prompt"), StringColumn("completion"));
        var folder = Directory.CreateDirectory(Path.Combine(_folder.Path, "data")).FullName;
        // Written out of order, with two row groups in the middle shard.
        foreach (var shard in new[] { 2, 0, 1 })
            Write(Path.Combine(folder, $"train-{shard:D5}-of-00003.parquet"), schema,
                [.. Enumerable.Range(0, 3).Select(i => Row(("prompt", $"p{shard}.{i}"), ("completion", $"c{shard}.{i}")))], rowGroupSize: shard == 1 ? 2 : null);
        Write(Path.Combine(folder, "test-00000-of-00001.parquet"), schema, [Row(("prompt", "held out"), ("completion", "x"))]);

        var train = SftDataset.Load(Path.Combine(folder, "train-*.parquet"));
        var expected = Enumerable.Range(0, 3).SelectMany(s => Enumerable.Range(0, 3).Select(i => $"c{s}.{i}")).ToList();
        Assert.Equal(expected, train.Select(e => e.Completion));
        Assert.Equal(Path.Combine(folder, "train-00001-of-00003.parquet"), train[4].Source);
        Assert.Equal(2, train[4].Line);
        Assert.Equal(9, train.Report.Lines);

        var all = SftDataset.Load(folder);
        Assert.Equal(["x", .. expected], all.Select(e => e.Completion));
    }
}
