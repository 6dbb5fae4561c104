using System.Text.Json.Nodes;
using RlhfSharp.Text.AddedTokens;

namespace RlhfSharp.Text.Tests;

public class SpecialTokenTests
{
    [Fact]
    public void Qwen3_config_gives_eos_and_pad_and_no_bos()
    {
        var t = Fixtures.Qwen3;
        Assert.Null(t.BosToken);
        Assert.Equal("<|im_end|>", t.EosToken);
        Assert.Equal(151645, t.EosTokenId);
        Assert.Equal("<|endoftext|>", t.PadToken);
        Assert.Equal(151643, t.PadTokenId);
        Assert.False(t.AddBosToken);
        Assert.Equal(t.Encode("hi"), t.Encode("hi", addSpecialTokens: true));
        Assert.Equal(151669, t.VocabSize);
    }

    [Fact]
    public void Gpt2_uses_endoftext_for_bos_eos_unk()
    {
        var t = Fixtures.Gpt2;
        Assert.Equal(50256, t.BosTokenId);
        Assert.Equal(50256, t.EosTokenId);
        Assert.Equal(50256, t.UnkTokenId);
        Assert.Null(t.PadTokenId);
        Assert.Equal(50257, t.VocabSize);
        Assert.Equal(new[] { 15496, 50256 }, t.Encode("Hello<|endoftext|>"));
        Assert.Equal("Hello", t.Decode([15496, 50256], skipSpecialTokens: true));
        Assert.Equal("Hello<|endoftext|>", t.Decode([15496, 50256]));
    }

    [Fact]
    public void Split_special_tokens_encodes_them_as_text()
    {
        var t = Fixtures.Qwen3;
        var asText = t.Encode("<|im_start|>", splitSpecialTokens: true);
        Assert.True(asText.Length > 1);
        Assert.Equal("<|im_start|>", t.Decode(asText));
        // Non-special added tokens are still recognised.
        Assert.Equal(new[] { 151657 }, t.Encode("<tool_call>", splitSpecialTokens: true));
    }

    [Fact]
    public void Skip_special_tokens_keeps_non_special_added_tokens()
    {
        var t = Fixtures.Qwen3;
        var ids = t.Encode("<|im_start|>user\n<tool_call>x<|im_end|>");
        Assert.Equal("user\n<tool_call>x", t.Decode(ids, skipSpecialTokens: true));
    }

    [Theory]
    [InlineData("{\"bos_token\": \"<|end|>\", \"add_bos_token\": true}")]
    [InlineData("{\"bos_token\": {\"content\": \"<|end|>\", \"lstrip\": false}, \"add_bos_token\": true}")]
    public void Config_tokens_may_be_strings_or_objects(string config)
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text(), config);
        Assert.Equal("<|end|>", t.BosToken);
        Assert.Equal(258, t.BosTokenId);
        Assert.Equal(new[] { 258, 256 }, t.Encode("ab", addSpecialTokens: true));
        Assert.Equal(new[] { 256 }, t.Encode("ab"));
    }

    [Theory]
    [InlineData("{\"eos_token\": \"\"}")]
    [InlineData("{\"eos_token\": {\"content\": \"\", \"special\": true}}")]
    public void Empty_config_token_means_no_token_in_either_form(string config)
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text(), config);
        Assert.Null(t.EosToken);
        Assert.Equal(new[] { 256 }, t.Encode("ab", addSpecialTokens: true));
    }

    [Fact]
    public void Setting_special_tokens_adds_new_ids_and_flags()
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text());
        Assert.Equal(259, t.SetSpecialToken(SpecialTokenRole.Bos, "<s>"));
        Assert.Equal(258, t.SetSpecialToken(SpecialTokenRole.Eos, "<|end|>"));
        Assert.Equal(256, t.SetSpecialToken(SpecialTokenRole.Pad, "ab")); // a vocabulary entry becomes special
        Assert.Equal(260, t.VocabSize);
        t.AddBosToken = true;
        t.AddEosToken = true;
        Assert.Equal(new[] { 259, 'x', 258 }, t.Encode("x", addSpecialTokens: true));
        Assert.Equal(new[] { 259, 256, 258 }, t.Encode("<s>ab<|end|>"));
        Assert.Equal("", t.Decode([259, 256, 258], skipSpecialTokens: true));
        Assert.Null(t.SetSpecialToken(SpecialTokenRole.Bos, null));
        Assert.Equal(new[] { 'x', 258 }, t.Encode("x", addSpecialTokens: true));
    }

    [Fact]
    public void Template_post_processor_adds_bos_unless_config_says_otherwise()
    {
        string json = MiniTokenizerJson.Text(r => r["post_processor"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                new JsonObject { ["type"] = "ByteLevel" },
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(
                        new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|end|>", ["type_id"] = 0 } },
                        new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                }),
        });
        var t = BpeTokenizer.FromJson(json);
        Assert.True(t.AddBosToken);
        Assert.Equal(new[] { 258, 'x' }, t.Encode("x", addSpecialTokens: true));
        var off = BpeTokenizer.FromJson(json, "{\"add_bos_token\": false}");
        Assert.Equal(new[] { (int)'x' }, off.Encode("x", addSpecialTokens: true));
    }

    [Fact]
    public void Added_token_lstrip_rstrip_and_single_word()
    {
        var t = BpeTokenizer.FromJson(MiniTokenizerJson.Text(r => r["added_tokens"] = new JsonArray(
            new JsonObject { ["id"] = 258, ["content"] = "<m>", ["special"] = true, ["lstrip"] = true, ["rstrip"] = true },
            new JsonObject { ["id"] = 259, ["content"] = "cat", ["special"] = false, ["single_word"] = true },
            new JsonObject { ["id"] = 260, ["content"] = "<m><m>", ["special"] = true })));
        Assert.Equal(new[] { 'x', 258, 'y' }, t.Encode("x  <m>  y"));
        Assert.Equal(259, t.Encode("cat dog")[0]);
        Assert.DoesNotContain(259, t.Encode("concat"));
        Assert.Equal(new[] { 260 }, t.Encode("<m><m>")); // longest match first
    }

    [Fact]
    public void Added_tokens_snapshot_lists_all()
    {
        var tokens = Fixtures.Qwen3.AddedTokens;
        Assert.Equal(26, tokens.Count);
        Assert.Contains(new AddedToken(151644, "<|im_start|>", Special: true), tokens);
    }
}
