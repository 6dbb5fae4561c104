using System.Text.Json;
using RlhfSharp.Text.AddedTokens;
using RlhfSharp.Text.Bpe;
using RlhfSharp.Text.Json;

namespace RlhfSharp.Text.Loading;

/// <summary>Builds a <see cref="BpeTokenizer"/> from the text of a Hugging Face tokenizer.json.</summary>
internal static class TokenizerJsonReader
{
    public static BpeTokenizer Read(string json, string file, TimeSpan regexTimeout)
    {
        var f = new JsonFields(file);
        using var doc = f.Parse(json);
        var root = doc.RootElement;
        f.RequireObject(root, "");

        var modelElement = f.Required(root, "", "model");
        f.RequireObject(modelElement, "model");
        var vocab = ReadVocab(f, modelElement);
        var merges = ReadMerges(f, modelElement, vocab);
        var model = BuildModel(f, modelElement, vocab, merges);

        var added = ReadAddedTokens(f, root, vocab);
        var normalizer = f.Optional(root, "", "normalizer") is { } n ? PipelineJsonReader.ReadNormalizer(f, n, "normalizer") : null;
        var preTokenizer = PipelineJsonReader.ReadPreTokenizer(f, root, regexTimeout);
        PipelineJsonReader.ReadDecoder(f, root);

        var addedByContent = new Dictionary<string, int>();
        foreach (var t in added) addedByContent.TryAdd(t.Content, t.Id);
        int Resolve(string token, string path)
            => addedByContent.TryGetValue(token, out int id) ? id
            : vocab.TryGetValue(token, out id) ? id
            : throw f.Error(path, $"token {JsonFields.Quote(token)} is neither in added_tokens nor in model.vocab");
        var post = PipelineJsonReader.ReadPostProcessor(f, root, Resolve);

        return new BpeTokenizer(model, normalizer, preTokenizer, added, post);
    }

    private static Dictionary<string, int> ReadVocab(JsonFields f, JsonElement model)
    {
        var type = f.OptionalString(model, "model", "type");
        if (type is not null && type != "BPE")
            throw f.Error("model.type", $"unsupported model type {JsonFields.Quote(type)}; this library reads BPE models only "
                + "(WordPiece, WordLevel and Unigram are not supported)");
        if (type is null && f.Optional(model, "model", "merges") is null)
            throw f.Error("model.type", "is missing and the model has no merges; expected a BPE model (\"type\": \"BPE\")");

        var vocabElement = f.Required(model, "model", "vocab");
        if (vocabElement.ValueKind == JsonValueKind.Array)
            throw f.Error("model.vocab", "is an array (a Unigram vocabulary?); expected a BPE vocabulary object {\"token\": id, ...}");
        f.RequireObject(vocabElement, "model.vocab");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokenOf = new Dictionary<int, string>();
        foreach (var p in vocabElement.EnumerateObject())
        {
            string path = $"model.vocab[{JsonFields.Quote(p.Name)}]";
            int id = f.AsInt(p.Value, path);
            if (id < 0)
                throw f.Error(path, $"id {id} is negative; token ids start at 0");
            if (!tokenOf.TryAdd(id, p.Name))
                throw f.Error(path, $"id {id} is also the id of token {JsonFields.Quote(tokenOf[id])}; each id must name exactly one token");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    private static List<(string, string)> ReadMerges(JsonFields f, JsonElement model, Dictionary<string, int> vocab)
    {
        var merges = new List<(string, string)>();
        if (f.Optional(model, "model", "merges") is not { } mergesElement) return merges;
        f.RequireArray(mergesElement, "model.merges");
        int i = 0;
        foreach (var m in mergesElement.EnumerateArray())
        {
            string path = JsonFields.Index("model.merges", i++);
            string left, right;
            if (m.ValueKind == JsonValueKind.String)
            {
                var parts = m.GetString()!.Split(' ');
                if (parts.Length != 2)
                    throw f.Error(path, $"merge {JsonFields.Quote(m.GetString()!)} does not have exactly two space-separated tokens; expected \"left right\" or [\"left\", \"right\"]");
                (left, right) = (parts[0], parts[1]);
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2
                && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                (left, right) = (m[0].GetString()!, m[1].GetString()!);
            else
                throw f.Error(path, $"found {JsonFields.Describe(m)}; expected \"left right\" or [\"left\", \"right\"]");
            CheckMerge(f, path, "model.vocab", vocab, left, right);
            merges.Add((left, right));
        }
        return merges;
    }

    internal static void CheckMerge(JsonFields f, string location, string vocabName, Dictionary<string, int> vocab, string left, string right)
    {
        foreach (var part in new[] { left, right, left + right })
            if (!vocab.ContainsKey(part))
                throw f.Error(location, $"merge ({JsonFields.Quote(left)}, {JsonFields.Quote(right)}) needs token {JsonFields.Quote(part)}, "
                    + $"which is not in {vocabName}; every merge's halves and their concatenation must be in the vocabulary");
    }

    private static BpeModel BuildModel(JsonFields f, JsonElement model, Dictionary<string, int> vocab, List<(string, string)> merges)
    {
        if (f.OptionalBool(model, "model", "byte_fallback", false))
            throw f.Error("model.byte_fallback", "is true; byte-fallback (SentencePiece-style) BPE is not supported, expected false");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (f.OptionalString(model, "model", key) is { Length: > 0 } affix)
                throw f.Error(JsonFields.Child("model", key), $"is {JsonFields.Quote(affix)}; only byte-level BPE without affixes is supported, expected null or \"\"");
        if (f.Optional(model, "model", "dropout") is { } dropout
            && (dropout.ValueKind != JsonValueKind.Number || dropout.GetDouble() != 0))
            throw f.Error("model.dropout", $"is {JsonFields.Describe(dropout)}; BPE dropout is not supported, expected null");
        string? unk = f.OptionalString(model, "model", "unk_token");
        if (unk is not null && !vocab.ContainsKey(unk))
            throw f.Error("model.unk_token", $"token {JsonFields.Quote(unk)} is not in model.vocab; expected a vocabulary token or null");
        return new BpeModel(vocab, merges, f.OptionalBool(model, "model", "ignore_merges", false), unk);
    }

    private static List<AddedToken> ReadAddedTokens(JsonFields f, JsonElement root, Dictionary<string, int> vocab)
    {
        var list = new List<AddedToken>();
        var contentOf = new Dictionary<int, string>();
        var vocabTokenOf = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        if (f.Optional(root, "", "added_tokens") is not { } array) return list;
        f.RequireArray(array, "added_tokens");
        int i = 0;
        foreach (var t in array.EnumerateArray())
        {
            string path = JsonFields.Index("added_tokens", i++);
            int id = f.RequiredInt(t, path, "id");
            string content = f.RequiredString(t, path, "content");
            if (content.Length == 0) throw f.Error(JsonFields.Child(path, "content"), "is empty; expected the token's text");
            if (id < 0)
                throw f.Error(JsonFields.Child(path, "id"), $"is {id}; token ids start at 0");
            if (!contentOf.TryAdd(id, content))
                throw f.Error(JsonFields.Child(path, "id"), $"id {id} of {JsonFields.Quote(content)} is also the id of added token {JsonFields.Quote(contentOf[id])}; each id must name exactly one token");
            if (vocabTokenOf.TryGetValue(id, out var inVocab) && inVocab != content)
                throw f.Error(JsonFields.Child(path, "id"), $"id {id} of {JsonFields.Quote(content)} is the id of {JsonFields.Quote(inVocab)} in model.vocab; an added token must use its own id or the id its text has in the vocabulary");
            bool special = f.OptionalBool(t, path, "special", false);
            list.Add(new AddedToken(id, content, special,
                f.OptionalBool(t, path, "single_word", false),
                f.OptionalBool(t, path, "lstrip", false),
                f.OptionalBool(t, path, "rstrip", false),
                f.OptionalBool(t, path, "normalized", !special)));
        }
        return list;
    }
}
