namespace RlhfSharp.Models.Gguf;

/// <summary>llama.cpp's token types (<c>tokenizer.ggml.token_type</c>, <c>llama_token_type</c>).</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// A byte-level BPE vocabulary as GGUF embeds it (<c>tokenizer.ggml.model = "gpt2"</c>): one
/// token string per id (the byte-level alphabet, as in tokenizer.json), its type, the merges as
/// "left right" lines in rank order, and <see cref="Pre"/>, the name llama.cpp knows the
/// pre-tokenizer's split regex by (<c>tokenizer.ggml.pre</c>).
/// </summary>
public sealed record GgufTokenizer
{
    public const string ModelName = "gpt2";

    public required IReadOnlyList<string> Tokens { get; init; }

    public required IReadOnlyList<GgufTokenType> TokenTypes { get; init; }

    public required IReadOnlyList<string> Merges { get; init; }

    public required string Pre { get; init; }

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    public int? PadTokenId { get; init; }

    public bool AddBosToken { get; init; }

    public bool AddEosToken { get; init; }

    public string? ChatTemplate { get; init; }

    internal void WriteTo(GgufWriter w)
    {
        if (TokenTypes.Count != Tokens.Count)
            throw new ArgumentException($"{Tokens.Count} tokens but {TokenTypes.Count} token types");
        w.AddString("tokenizer.ggml.model", ModelName);
        w.AddString("tokenizer.ggml.pre", Pre);
        w.AddStrings("tokenizer.ggml.tokens", Tokens);
        w.AddInt32s("tokenizer.ggml.token_type", [.. TokenTypes.Select(t => (int)t)]);
        w.AddStrings("tokenizer.ggml.merges", Merges);
        if (BosTokenId is int bos)
            w.AddUInt32("tokenizer.ggml.bos_token_id", (uint)bos);
        if (EosTokenId is int eos)
            w.AddUInt32("tokenizer.ggml.eos_token_id", (uint)eos);
        if (PadTokenId is int pad)
            w.AddUInt32("tokenizer.ggml.padding_token_id", (uint)pad);
        w.AddBool("tokenizer.ggml.add_bos_token", AddBosToken);
        w.AddBool("tokenizer.ggml.add_eos_token", AddEosToken);
        if (ChatTemplate is not null)
            w.AddString("tokenizer.chat_template", ChatTemplate);
    }

    /// <summary>The embedded vocabulary of a GGUF file written with <c>tokenizer.ggml.model = "gpt2"</c>.</summary>
    public static GgufTokenizer Read(GgufFile file)
    {
        var model = file.Get<string>("tokenizer.ggml.model");
        if (model != ModelName)
            throw new GgufFormatException(file.Path, 0, $"tokenizer.ggml.model is '{model}'; only byte-level BPE ('{ModelName}') is read");
        string[] Strings(string key) => file.Get<GgufArray>(key) is { ElementType: GgufValueType.String } a
            ? [.. a.Items.Cast<string>()]
            : throw new GgufFormatException(file.Path, 0, $"{key} must be an array of strings");
        int? Id(string key) => file.Metadata.TryGetValue(key, out var v) ? v is uint u ? (int)u : throw new GgufFormatException(file.Path, 0, $"{key} must be a uint32") : null;
        var types = file.Get<GgufArray>("tokenizer.ggml.token_type");
        if (types.ElementType != GgufValueType.Int32)
            throw new GgufFormatException(file.Path, 0, "tokenizer.ggml.token_type must be an array of int32");
        return new GgufTokenizer
        {
            Tokens = Strings("tokenizer.ggml.tokens"),
            TokenTypes = [.. types.Items.Select(t => (GgufTokenType)(int)t)],
            Merges = Strings("tokenizer.ggml.merges"),
            Pre = file.Get<string>("tokenizer.ggml.pre"),
            BosTokenId = Id("tokenizer.ggml.bos_token_id"),
            EosTokenId = Id("tokenizer.ggml.eos_token_id"),
            PadTokenId = Id("tokenizer.ggml.padding_token_id"),
            AddBosToken = file.Metadata.TryGetValue("tokenizer.ggml.add_bos_token", out var ab) && ab is true,
            AddEosToken = file.Metadata.TryGetValue("tokenizer.ggml.add_eos_token", out var ae) && ae is true,
            ChatTemplate = file.Metadata.TryGetValue("tokenizer.chat_template", out var ct) ? ct as string : null,
        };
    }
}
