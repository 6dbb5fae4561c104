using System.Text.Json;
using RlhfSharp.Models.Config;
using RlhfSharp.Text;

namespace RlhfSharp.Training.Data;

/// <summary>
/// The check every place that pairs a tokenizer with a model folder makes before the model's
/// weights are loaded: each token id the tokenizer can produce (vocabulary, added and special
/// tokens) and the special ids in the model's generation_config.json lie below the model's
/// vocab_size. An id past the embedding would otherwise load fine and crash in the first forward.
/// </summary>
public static class TokenizerModelCheck
{
    public const string GenerationConfigFileName = "generation_config.json";

    /// <summary>
    /// Checks <paramref name="tokenizer"/> (read from <paramref name="tokenizerDir"/>, or built in
    /// memory when null) against the config.json and generation_config.json in <paramref name="modelDir"/>.
    /// </summary>
    public static void Check(BpeTokenizer tokenizer, string? tokenizerDir, string modelDir)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(modelDir);
        var configPath = Path.Combine(modelDir, "config.json");
        var cfg = ModelConfig.Load(configPath);
        string tokenizerFile = TokenizerFile(tokenizerDir);

        var (token, id) = LargestId(tokenizer);
        if (token is not null && id >= cfg.VocabSize)
            throw new TokenizerModelMismatchException(
                $"{tokenizerFile}: token \"{token}\" has id {id}, but the model in {modelDir} has vocab_size {cfg.VocabSize} ({configPath}); "
                + $"every token id must be below vocab_size. Use the tokenizer that belongs to this model, or a model whose vocabulary covers this tokenizer's {id + 1} ids.");
        foreach (var role in Enum.GetValues<SpecialTokenRole>())
        {
            if (tokenizer.GetSpecialTokenId(role) is int special && (special < 0 || special >= cfg.VocabSize))
                throw new TokenizerModelMismatchException(
                    $"{tokenizerFile}: the {role.ToString().ToLowerInvariant()} token \"{tokenizer.GetSpecialToken(role)}\" has id {special}, outside the model's vocab_size {cfg.VocabSize} ({configPath}); use the tokenizer that belongs to this model.");
        }
        CheckGenerationConfig(Path.Combine(modelDir, GenerationConfigFileName), cfg.VocabSize);
    }

    private static string TokenizerFile(string? dir)
    {
        if (dir is null)
            return "the tokenizer";
        var json = Path.Combine(dir, BpeTokenizer.TokenizerJsonFileName);
        return File.Exists(json) || !File.Exists(Path.Combine(dir, "encoder.json")) ? json : Path.Combine(dir, "encoder.json");
    }

    /// <summary>The token with the largest id over the vocabulary and the added tokens (null when there are none).</summary>
    private static (string? Token, int Id) LargestId(BpeTokenizer tokenizer)
    {
        string? token = null;
        int id = -1;
        foreach (var (t, i) in tokenizer.Vocabulary)
        {
            if (i > id)
                (token, id) = (t, i);
        }
        foreach (var added in tokenizer.AddedTokens)
        {
            if (added.Id > id)
                (token, id) = (added.Content, added.Id);
        }
        return (token, id);
    }

    /// <summary>generation_config.json's bos/eos/pad ids (an integer or a list of them) lie in [0, vocab_size).</summary>
    private static void CheckGenerationConfig(string path, int vocabSize)
    {
        if (!File.Exists(path))
            return;
        var bytes = File.ReadAllBytes(path);
        if (JsonUnicode.Find(bytes) is { } bad)
            throw new TokenizerModelMismatchException($"{path}: {bad}");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new TokenizerModelMismatchException($"{path}: not valid JSON ({e.Message}); expected a JSON object such as {{\"eos_token_id\": 2}}");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new TokenizerModelMismatchException($"{path}: expected a JSON object such as {{\"eos_token_id\": 2}}");
        foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
        {
            if (!doc.RootElement.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
                continue;
            var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
            foreach (var item in items)
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var id))
                    throw new TokenizerModelMismatchException($"{path}: '{key}' must be a token id or a list of them, found {item.GetRawText()}");
                if (id < 0 || id >= vocabSize)
                    throw new TokenizerModelMismatchException($"{path}: '{key}' is {id}, outside the model's vocab_size {vocabSize}; expected an id in [0, {vocabSize - 1}]");
            }
        }
    }
}

/// <summary>A tokenizer and a model folder that do not belong together, or a generation_config.json that cannot be read.</summary>
public sealed class TokenizerModelMismatchException(string message) : Exception(message), IUserError;
