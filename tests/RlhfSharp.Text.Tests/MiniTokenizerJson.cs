using System.Text.Json.Nodes;
using RlhfSharp.Text.Bpe;

namespace RlhfSharp.Text.Tests;

/// <summary>A small valid byte-level tokenizer.json (256 byte tokens plus "ab" and "abc") for tests to break.</summary>
internal static class MiniTokenizerJson
{
    public static JsonObject Build()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar((byte)b).ToString()] = b;
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
                ["merges"] = new JsonArray("a b", new JsonArray("ab", "c")),
            },
        };
    }

    public static string Text(Action<JsonObject>? change = null)
    {
        var root = Build();
        change?.Invoke(root);
        return root.ToJsonString();
    }
}
