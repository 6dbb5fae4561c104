using System.Text.Json.Nodes;

namespace RlhfSharp.Text.Tests;

/// <summary>
/// Replaces every value of a tokenizer.json that uses every supported section, one at a time,
/// with values of the wrong kind: loading must succeed or throw <see cref="TokenizerFormatException"/>,
/// never anything else.
/// </summary>
public class MalformedInputFuzzTests
{
    private static readonly Func<JsonNode?>[] Replacements =
    [
        () => null, () => JsonValue.Create(1), () => JsonValue.Create(-1), () => JsonValue.Create(1.5),
        () => JsonValue.Create(int.MaxValue), () => JsonValue.Create("x"), () => JsonValue.Create(""), () => JsonValue.Create(true),
        () => new JsonArray(), () => new JsonArray("a", "b", "c"), () => new JsonObject(), () => new JsonObject { ["type"] = "BPE" },
    ];

    private static JsonObject Rich()
    {
        var root = MiniTokenizerJson.Build();
        root["normalizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }, new JsonObject { ["type"] = "Lowercase" }),
        };
        root["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = "\\s+" }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
        };
        root["post_processor"] = new JsonObject
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
                },
                new JsonObject { ["type"] = "RobertaProcessing", ["sep"] = new JsonArray("<|end|>", 258), ["cls"] = new JsonArray("<|end|>", 258) }),
        };
        root["model"]!["ignore_merges"] = false;
        root["model"]!["unk_token"] = "a";
        return root;
    }

    /// <summary>Paths (as navigation steps) to every node except the bulk of the 256 byte entries.</summary>
    private static IEnumerable<List<object>> Paths(JsonNode? node, List<object> prefix)
    {
        yield return prefix;
        if (node is JsonObject obj)
        {
            int i = 0;
            foreach (var (key, child) in obj)
            {
                if (prefix.Count == 2 && "vocab".Equals(prefix[1]) && i++ > 3 && key != "ab") continue;
                foreach (var p in Paths(child, [.. prefix, key])) yield return p;
            }
        }
        else if (node is JsonArray arr)
        {
            for (int i = 0; i < arr.Count; i++)
                foreach (var p in Paths(arr[i], [.. prefix, i])) yield return p;
        }
    }

    private static void Set(JsonNode root, List<object> path, JsonNode? value)
    {
        JsonNode parent = root;
        for (int i = 0; i < path.Count - 1; i++)
            parent = path[i] is string k ? parent[k]! : parent[(int)path[i]]!;
        if (path[^1] is string key) parent[key] = value;
        else parent[(int)path[^1]] = value;
    }

    [Fact]
    public void Every_wrong_value_gives_a_typed_error_or_loads()
    {
        var rich = Rich();
        Assert.Equal(new[] { 258, 258, 256, 258 }, BpeTokenizer.FromJson(rich.ToJsonString()).Encode("AB", addSpecialTokens: true));
        var paths = Paths(rich, []).Where(p => p.Count > 0).ToList();
        int typed = 0;
        foreach (var path in paths)
        {
            foreach (var make in Replacements)
            {
                var root = Rich();
                Set(root, path, make());
                try
                {
                    var t = BpeTokenizer.FromJson(root.ToJsonString(), sourceName: "fuzz.json");
                    t.Decode(t.Encode("ab c<|end|>", addSpecialTokens: true));
                }
                catch (TokenizerFormatException e)
                {
                    Assert.Equal("fuzz.json", e.File);
                    Assert.False(string.IsNullOrEmpty(e.Location));
                    typed++;
                }
            }
        }
        Assert.True(typed > paths.Count, $"expected most replacements to be rejected; {typed} of {paths.Count * Replacements.Length}");
    }

    [Fact]
    public void Every_wrong_config_value_gives_a_typed_error_or_loads()
    {
        string[] keys = ["bos_token", "eos_token", "pad_token", "unk_token", "add_bos_token", "add_eos_token", "model_max_length"];
        foreach (var key in keys)
        {
            foreach (var make in Replacements)
            {
                var config = new JsonObject { [key] = make() };
                try
                {
                    BpeTokenizer.FromJson(MiniTokenizerJson.Text(), config.ToJsonString(), configSourceName: "cfg.json").Encode("x", true);
                }
                catch (TokenizerFormatException e)
                {
                    Assert.Equal("cfg.json", e.File);
                }
            }
        }
    }
}
