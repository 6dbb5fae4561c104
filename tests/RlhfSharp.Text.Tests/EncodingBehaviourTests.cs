using RlhfSharp.Text.Bpe;

namespace RlhfSharp.Text.Tests;

public class EncodingBehaviourTests
{
    [Fact]
    public void Repeated_encoding_gives_the_same_ids_and_fills_the_cache()
    {
        var t = Fixtures.Qwen3;
        string text = "The merge cache makes repeated words cheap: cheap cheap cheap.";
        var first = t.Encode(text);
        Assert.True(t.Model.Cache.Count > 0);
        for (int i = 0; i < 5; i++) Assert.Equal(first, t.Encode(text));
        t.ClearCache();
        Assert.Equal(0, t.Model.Cache.Count);
        Assert.Equal(first, t.Encode(text));
    }

    [Fact]
    public void Returned_arrays_are_independent_of_the_cache()
    {
        var t = Fixtures.Gpt2;
        var a = t.Encode("hello");
        a[0] = -1;
        Assert.Equal(new[] { 31373 }, t.Encode("hello"));
    }

    [Fact]
    public void Merge_cache_stays_bounded()
    {
        var cache = new MergeCache(capacity: 4);
        for (int i = 0; i < 50; i++)
        {
            cache.Add("w" + i, [i]);
            Assert.True(cache.Count <= 4);
        }
        Assert.True(cache.TryGet("w49", out var ids));
        Assert.Equal(new[] { 49 }, ids);
    }

    [Fact]
    public void Parallel_encoding_matches_sequential_encoding()
    {
        var texts = RandomText.Many(seed: 777, count: 400).Concat(Fixtures.Expected.Select(c => c.Text)).ToArray();
        foreach (var tokenizer in new[] { Fixtures.Gpt2, Fixtures.Qwen3 })
        {
            tokenizer.ClearCache();
            var sequential = texts.Select(x => tokenizer.Encode(x)).ToArray();
            tokenizer.ClearCache();
            var parallel = new int[texts.Length * 4][];
            Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
                i => parallel[i] = tokenizer.Encode(texts[i % texts.Length]));
            for (int i = 0; i < parallel.Length; i++) Assert.Equal(sequential[i % texts.Length], parallel[i]);
        }
    }

    [Fact]
    public void Parallel_encoding_with_a_tiny_cache_that_keeps_emptying()
    {
        var tokenizer = BpeTrainer.Train(Corpus.Generate(300), new BpeTrainerOptions { VocabSize = 400, CacheCapacity = 3 });
        var texts = Corpus.Generate(200, seed: 3);
        var expected = texts.Select(x => tokenizer.Encode(x)).ToArray();
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => Assert.Equal(expected[i % texts.Count], tokenizer.Encode(texts[i % texts.Count])));
    }

    [Fact]
    public void Batch_encoding_truncates_on_either_side()
    {
        var t = Fixtures.Gpt2;
        string[] texts = ["The quick brown fox jumps over the lazy dog.", "Hi", ""];
        var full = t.EncodeBatch(texts);
        Assert.Equal(t.Encode(texts[0]), full[0]);
        Assert.Empty(full[2]);

        var right = t.EncodeBatch(texts, maxLength: 4);
        Assert.Equal(full[0][..4], right[0]);
        Assert.Equal(full[1], right[1]);
        var left = t.EncodeBatch(texts, maxLength: 4, side: TruncationSide.Left);
        Assert.Equal(full[0][^4..], left[0]);
    }

    [Fact]
    public void Batch_truncation_keeps_added_bos_and_eos()
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text(), "{\"bos_token\": \"<|end|>\", \"eos_token\": \"<|end|>\", \"add_bos_token\": true, \"add_eos_token\": true}");
        var ids = t.EncodeBatch(["xyzw"], maxLength: 4, addSpecialTokens: true)[0];
        Assert.Equal(new[] { 258, 'x', 'y', 258 }, ids);
        ids = t.EncodeBatch(["xyzw"], maxLength: 4, side: TruncationSide.Left, addSpecialTokens: true)[0];
        Assert.Equal(new[] { 258, 'z', 'w', 258 }, ids);
    }

    [Fact]
    public void Large_batches_match_single_encodes()
    {
        var texts = RandomText.Many(seed: 5, count: 100).ToArray();
        var batch = Fixtures.Qwen3.EncodeBatch(texts);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(Fixtures.Qwen3.Encode(texts[i]), batch[i]);
        Assert.Equal(texts, Fixtures.Qwen3.DecodeBatch(batch));
    }

    [Fact]
    public void Decode_rejects_unknown_ids_and_replaces_cut_characters()
    {
        var t = Fixtures.Gpt2;
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([99999]));
        var ids = t.Encode(" 😀");
        Assert.Equal(new[] { 30325, 222 }, ids); // the emoji's four bytes are split across two tokens
        Assert.Equal(" \uFFFD", t.Decode(ids[..1]));
        Assert.Equal(" 😀", t.Decode(ids));
    }

    [Fact]
    public void Ignore_merges_takes_whole_words_from_the_vocabulary()
    {
        // "abc" is in the vocabulary; with ignore_merges it is used even though no merge path leads to it.
        string json = MiniTokenizerJson.Text(r =>
        {
            r["model"]!["merges"] = new System.Text.Json.Nodes.JsonArray("a b");
            r["model"]!["ignore_merges"] = true;
        });
        Assert.Equal(new[] { 257 }, BpeTokenizer.FromJson(json).Encode("abc"));
        string without = MiniTokenizerJson.Text(r => r["model"]!["merges"] = new System.Text.Json.Nodes.JsonArray("a b"));
        Assert.Equal(new[] { 256, 'c' }, BpeTokenizer.FromJson(without).Encode("abc"));
    }
}
