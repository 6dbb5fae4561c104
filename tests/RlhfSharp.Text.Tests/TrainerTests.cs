using System.Text.Json;

namespace RlhfSharp.Text.Tests;

public class TrainerTests
{
    private static readonly string[] Specials = ["<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"];

    private static readonly Lazy<List<string>> CorpusLines = new(() => Corpus.Generate(3000));

    private static readonly Lazy<BpeTokenizer> Trained = new(() => BpeTrainer.Train(CorpusLines.Value,
        new BpeTrainerOptions { VocabSize = 1500, MinFrequency = 2, SpecialTokens = Specials, EosToken = "<|endoftext|>", PadToken = "<|pad|>" }));

    [Fact]
    public void Reaches_the_requested_vocab_size()
    {
        var t = Trained.Value;
        Assert.Equal(1500, t.VocabSize);
        Assert.Equal(1500, t.Vocabulary.Count);
        Assert.True(t.Merges.Count >= 1500 - Specials.Length - 256);
    }

    [Fact]
    public void Special_tokens_get_the_requested_ids_and_are_never_split()
    {
        var t = Trained.Value;
        for (int i = 0; i < Specials.Length; i++)
        {
            Assert.Equal(i, t.TokenToId(Specials[i]));
            Assert.Equal(new[] { i }, t.Encode(Specials[i]));
        }
        Assert.Equal(0, t.EosTokenId);
        Assert.Equal(1, t.PadTokenId);
        var ids = t.Encode("<|im_start|>user\nKalo mine<|im_end|><|endoftext|>");
        Assert.Equal(2, ids[0]);
        Assert.Equal(new[] { 3, 0 }, ids[^2..]);
        Assert.DoesNotContain(ids[1..^2], id => id < Specials.Length);
        Assert.Equal("user\nKalo mine", t.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Byte_tokens_follow_the_special_tokens_in_byte_order()
    {
        var t = Trained.Value;
        Assert.Equal(Specials.Length + 'a', t.TokenToId("a"));
        Assert.Equal(Specials.Length + ' ', t.TokenToId("Ġ"));
        Assert.Equal(Specials.Length + 0xFF, t.TokenToId("ÿ"));
    }

    [Fact]
    public void Trained_tokenizer_round_trips_and_compresses_the_corpus()
    {
        var t = Trained.Value;
        long chars = 0, tokens = 0;
        foreach (var line in CorpusLines.Value.Take(500))
        {
            var ids = t.Encode(line);
            Assert.Equal(line, t.Decode(ids));
            chars += line.Length;
            tokens += ids.Length;
        }
        Assert.True(tokens * 2 < chars, $"expected merges to shorten the text: {tokens} tokens for {chars} characters");
    }

    [Fact]
    public void Training_is_deterministic()
    {
        var options = new BpeTrainerOptions { VocabSize = 600, SpecialTokens = ["<s>"] };
        var a = BpeTrainer.Train(CorpusLines.Value.Take(800), options);
        var b = BpeTrainer.Train(CorpusLines.Value.Take(800), options);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(a.ToJson(), b.ToJson());
    }

    [Fact]
    public void Min_frequency_stops_training_early()
    {
        // Pairs: (a, a) 4 times, then (aa, a) twice; every pair of " bcd" occurs once.
        var t = BpeTrainer.Train(["aaa bcd", "aaa"], new BpeTrainerOptions { VocabSize = 1000, MinFrequency = 2 });
        Assert.Equal(new[] { ("a", "a"), ("aa", "a") }, t.Merges);
        Assert.Equal(258, t.VocabSize);
    }

    [Fact]
    public void Tie_breaking_prefers_the_smaller_pair()
    {
        // "ab" and "cd" both occur twice; (a, b) has the smaller ids, so it merges first.
        var t = BpeTrainer.Train(["cd ab", "ab cd"], new BpeTrainerOptions { VocabSize = 257, MinFrequency = 1 });
        Assert.Equal(("a", "b"), Assert.Single(t.Merges));
    }

    [Fact]
    public void Save_then_load_gives_identical_encodings()
    {
        var t = Trained.Value;
        string dir = Path.Combine(Path.GetTempPath(), "rlhfsharp-text-" + Guid.NewGuid().ToString("N"));
        try
        {
            t.Save(dir);
            var loaded = BpeTokenizer.FromDirectory(dir);
            Assert.Equal(t.VocabSize, loaded.VocabSize);
            Assert.Equal(t.EosToken, loaded.EosToken);
            Assert.Equal(t.PadTokenId, loaded.PadTokenId);
            foreach (var text in CorpusLines.Value.Take(200).Concat(RandomText.Many(99, 200)).Append("<|im_start|>x<|im_end|>"))
                Assert.Equal(t.Encode(text), loaded.Encode(text));
            Assert.Equal(t.ToJson(), loaded.ToJson());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Saved_json_follows_the_tokenizers_schema()
    {
        using var doc = JsonDocument.Parse(Trained.Value.ToJson());
        var root = doc.RootElement;
        Assert.Equal("1.0", root.GetProperty("version").GetString());
        foreach (var key in new[] { "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model" })
            Assert.True(root.TryGetProperty(key, out _), key);
        var first = root.GetProperty("added_tokens")[0];
        foreach (var key in new[] { "id", "content", "single_word", "lstrip", "rstrip", "normalized", "special" })
            Assert.True(first.TryGetProperty(key, out _), key);
        Assert.Equal("<|endoftext|>", first.GetProperty("content").GetString());
        Assert.True(first.GetProperty("special").GetBoolean());

        var pre = root.GetProperty("pre_tokenizer");
        Assert.Equal("ByteLevel", pre.GetProperty("type").GetString());
        Assert.True(pre.GetProperty("use_regex").GetBoolean());
        Assert.False(pre.GetProperty("add_prefix_space").GetBoolean());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());

        var model = root.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        foreach (var key in new[] { "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix" })
            Assert.Equal(JsonValueKind.Null, model.GetProperty(key).ValueKind);
        foreach (var key in new[] { "fuse_unk", "byte_fallback", "ignore_merges" })
            Assert.False(model.GetProperty(key).GetBoolean(), key);
        Assert.Equal(1500, model.GetProperty("vocab").EnumerateObject().Count());
        Assert.Equal(JsonValueKind.String, model.GetProperty("merges")[0].ValueKind);

        using var config = JsonDocument.Parse(Trained.Value.ToConfigJson());
        Assert.Equal("<|endoftext|>", config.RootElement.GetProperty("eos_token").GetString());
        Assert.Equal("<|pad|>", config.RootElement.GetProperty("pad_token").GetString());
        Assert.Equal("PreTrainedTokenizerFast", config.RootElement.GetProperty("tokenizer_class").GetString());
    }

    [Fact]
    public void Rejects_impossible_options()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["x"], new BpeTrainerOptions { VocabSize = 100 }));
        Assert.Throws<ArgumentException>(() => BpeTrainer.Train(["x"], new BpeTrainerOptions { SpecialTokens = ["<a>", "<a>"] }));
    }
}
