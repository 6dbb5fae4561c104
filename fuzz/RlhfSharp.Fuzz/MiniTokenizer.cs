using System.Text.Json.Nodes;
using RlhfSharp.Text.Bpe;

namespace RlhfSharp.Fuzz;

/// <summary>
/// A small valid byte-level tokenizer.json: the 256 byte tokens, the merges "a b" and "ab c", and
/// the special token &lt;|end|&gt;. The tokenizer-config target puts it beside each input.
/// </summary>
public static class MiniTokenizer
{
    public static readonly string Json = Build().ToJsonString();

    private static JsonObject Build()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
            vocab[ByteLevelAlphabet.ByteToChar((byte)b).ToString()] = b;
        vocab["ab"] = 256;
        vocab["abc"] = 257;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 258, ["content"] = "<|end|>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("a b", "ab c"),
            },
        };
    }
}
