using System.Text.Json.Nodes;

namespace RlhfSharp.Text.Tests;

public class MalformedInputTests
{
    private const string File = "my/tokenizer.json";

    private static TokenizerFormatException Fails(Action<JsonObject> change)
        => Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson(MiniTokenizerJson.Text(change), sourceName: File));

    private static void NamesFileAndKey(TokenizerFormatException e, string key)
    {
        Assert.Equal(File, e.File);
        Assert.Equal(key, e.Location);
        Assert.StartsWith($"{File}: {key}: ", e.Message);
    }

    [Fact]
    public void The_mini_tokenizer_is_valid()
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text());
        Assert.Equal(new[] { 257, 258, 256, 'x' }, t.Encode("abc<|end|>abx"));
    }

    [Fact]
    public void Invalid_json_names_the_file_and_line()
    {
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson("{\n  \"model\": {,\n}", sourceName: File));
        Assert.Equal(File, e.File);
        Assert.Equal("line 2, byte 13", e.Location);
        Assert.Contains("invalid JSON", e.Message);
    }

    [Fact]
    public void Root_must_be_an_object()
    {
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromJson("[1, 2]", sourceName: File));
        Assert.Contains("expected a JSON object", e.Message);
    }

    [Fact]
    public void Missing_model_is_named()
    {
        var e = Fails(r => r.Remove("model"));
        NamesFileAndKey(e, "model");
        Assert.Contains("missing", e.Message);
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    [InlineData("WordLevel")]
    public void Unsupported_model_types_are_named(string type)
    {
        var e = Fails(r => r["model"]!["type"] = type);
        NamesFileAndKey(e, "model.type");
        Assert.Contains(type, e.Message);
        Assert.Contains("BPE", e.Message);
    }

    [Fact]
    public void Unigram_vocab_array_is_rejected_clearly()
    {
        var e = Fails(r =>
        {
            r["model"]!.AsObject().Remove("type");
            r["model"]!["vocab"] = new JsonArray(new JsonArray("a", -1.0));
        });
        NamesFileAndKey(e, "model.vocab");
        Assert.Contains("Unigram", e.Message);
    }

    [Fact]
    public void Merge_with_unknown_token_is_named()
    {
        var e = Fails(r => r["model"]!["merges"]!.AsArray().Add("x zz"));
        NamesFileAndKey(e, "model.merges[2]");
        Assert.Contains("\"zz\"", e.Message);
        Assert.Contains("not in model.vocab", e.Message);
    }

    [Fact]
    public void Merge_whose_result_is_missing_is_named()
    {
        var e = Fails(r => r["model"]!["merges"]!.AsArray().Add(new JsonArray("b", "c")));
        NamesFileAndKey(e, "model.merges[2]");
        Assert.Contains("\"bc\"", e.Message);
    }

    [Theory]
    [InlineData("\"a b c\"")]
    [InlineData("[\"a\"]")]
    [InlineData("42")]
    public void Malformed_merge_entries_are_named(string merge)
    {
        var e = Fails(r => r["model"]!["merges"]!.AsArray().Insert(0, JsonNode.Parse(merge)));
        NamesFileAndKey(e, "model.merges[0]");
        Assert.Contains("expected \"left right\" or [\"left\", \"right\"]", e.Message);
    }

    [Theory]
    [InlineData("\"7\"")]
    [InlineData("1.5")]
    [InlineData("-3")]
    [InlineData("null")]
    public void Non_integer_ids_are_named(string id)
    {
        var e = Fails(r => r["model"]!["vocab"]!["ab"] = JsonNode.Parse(id));
        NamesFileAndKey(e, "model.vocab[\"ab\"]");
        Assert.Contains("integer", e.Message);
    }

    [Fact]
    public void Non_integer_added_token_id_is_named()
    {
        var e = Fails(r => r["added_tokens"]![0]!["id"] = "x");
        NamesFileAndKey(e, "added_tokens[0].id");
    }

    [Fact]
    public void Unknown_normalizer_type_is_named()
    {
        var e = Fails(r => r["normalizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }, new JsonObject { ["type"] = "BertNormalizer" }),
        });
        NamesFileAndKey(e, "normalizer.normalizers[1].type");
        Assert.Contains("BertNormalizer", e.Message);
        Assert.Contains("NFC, NFD, NFKC, NFKD, Lowercase or Sequence", e.Message);
    }

    [Fact]
    public void Missing_or_non_byte_level_pre_tokenizer_is_named()
    {
        NamesFileAndKey(Fails(r => r["pre_tokenizer"] = null), "pre_tokenizer");
        NamesFileAndKey(Fails(r => r["pre_tokenizer"] = new JsonObject { ["type"] = "Whitespace" }), "pre_tokenizer.type");
        NamesFileAndKey(Fails(r => r["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Split",
            ["pattern"] = new JsonObject { ["Regex"] = "\\s+" },
            ["behavior"] = "Isolated",
        }), "pre_tokenizer");
    }

    [Fact]
    public void Bad_split_pieces_are_named()
    {
        JsonObject Split(JsonNode pattern, string behavior) => new()
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = pattern, ["behavior"] = behavior },
                new JsonObject { ["type"] = "ByteLevel", ["use_regex"] = false }),
        };
        NamesFileAndKey(Fails(r => r["pre_tokenizer"] = Split(new JsonObject { ["Regex"] = "(" }, "Isolated")),
            "pre_tokenizer.pretokenizers[0].pattern.Regex");
        NamesFileAndKey(Fails(r => r["pre_tokenizer"] = Split(new JsonObject { ["Regex"] = "a" }, "Sideways")),
            "pre_tokenizer.pretokenizers[0].behavior");
        NamesFileAndKey(Fails(r => r["pre_tokenizer"] = Split(new JsonObject { ["Glob"] = "a" }, "Isolated")),
            "pre_tokenizer.pretokenizers[0].pattern");
    }

    [Fact]
    public void Unsupported_model_options_are_named()
    {
        NamesFileAndKey(Fails(r => r["model"]!["byte_fallback"] = true), "model.byte_fallback");
        NamesFileAndKey(Fails(r => r["model"]!["continuing_subword_prefix"] = "##"), "model.continuing_subword_prefix");
        NamesFileAndKey(Fails(r => r["model"]!["dropout"] = 0.1), "model.dropout");
        NamesFileAndKey(Fails(r => r["model"]!["unk_token"] = "<unk>"), "model.unk_token");
    }

    [Fact]
    public void Unsupported_decoder_and_post_processor_are_named()
    {
        NamesFileAndKey(Fails(r => r["decoder"] = new JsonObject { ["type"] = "WordPiece" }), "decoder.type");
        NamesFileAndKey(Fails(r => r["post_processor"] = new JsonObject { ["type"] = "Mystery" }), "post_processor.type");
        var e = Fails(r => r["post_processor"] = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } }),
        });
        NamesFileAndKey(e, "post_processor.single[0].SpecialToken.id");
        Assert.Contains("\"<s>\"", e.Message);
    }

    [Fact]
    public void Missing_files_name_the_path()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "tokenizer.json");
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromFile(missing));
        Assert.Equal(missing, e.File);
        Assert.Contains("file not found", e.Message);

        var g = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromGpt2Files(missing, missing));
        Assert.Contains("encoder.json", g.Message);

        var d = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromDirectory(Path.GetDirectoryName(missing)!));
        Assert.Contains("tokenizer.json", d.Message);
    }

    [Fact]
    public void Bad_gpt2_merge_line_is_named()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rlhfsharp-gpt2-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string encoder = Path.Combine(dir, "encoder.json"), merges = Path.Combine(dir, "vocab.bpe");
            System.IO.File.WriteAllText(encoder, "{\"a\": 0, \"b\": 1, \"ab\": 2}");
            System.IO.File.WriteAllText(merges, "#version: 0.2\na b\na b c\n");
            var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromGpt2Files(encoder, merges));
            Assert.Equal(merges, e.File);
            Assert.Equal("line 3", e.Location);

            System.IO.File.WriteAllText(merges, "#version: 0.2\nb a\n");
            e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromGpt2Files(encoder, merges));
            Assert.Equal("line 2", e.Location);
            Assert.Contains("\"ba\"", e.Message);

            System.IO.File.WriteAllText(encoder, "{\"a\": \"zero\"}");
            e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromGpt2Files(encoder, merges));
            Assert.Equal(encoder, e.File);
            Assert.Equal("[\"a\"]", e.Location);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("{\"bos_token\": 5}", "bos_token")]
    [InlineData("{\"eos_token\": {\"text\": \"x\"}}", "eos_token.content")]
    [InlineData("{\"add_bos_token\": \"yes\"}", "add_bos_token")]
    [InlineData("not json", "line 1, byte 2")]
    public void Bad_tokenizer_config_is_named(string config, string key)
    {
        var e = Assert.Throws<TokenizerFormatException>(() =>
            BpeTokenizer.FromJson(MiniTokenizerJson.Text(), config, configSourceName: "my/tokenizer_config.json"));
        Assert.Equal("my/tokenizer_config.json", e.File);
        Assert.Equal(key, e.Location);
    }
}
