using System.Text;
using RlhfSharp.Models.Gguf;
using RlhfSharp.Text;
using RlhfSharp.Text.Normalization;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Training.Export;

/// <summary>
/// Turns our byte-level BPE tokenizer into GGUF's embedded vocabulary. llama.cpp does not read a
/// split regex from the file: it knows a fixed set of pre-tokenizers by name
/// (<c>tokenizer.ggml.pre</c>), so the tokenizer's chain of split regexes must equal one of them
/// exactly, or llama.cpp would cut text into other pieces than we do and encode it differently.
/// </summary>
public static class GgufVocabulary
{
    // GPT-2's split; Hugging Face's ByteLevel adds a final \s+ that llama.cpp's GPT-2 splitter applies too.
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
    private const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>llama.cpp's pre-tokenizer names (llama-vocab.cpp) and the split regexes each applies in order.</summary>
    public static IReadOnlyList<(string Pre, string[] Regexes)> KnownPreTokenizers { get; } =
    [
        ("gpt-2", [Gpt2]),
        ("smollm", [@"\p{N}", Gpt2]),
        ("qwen2", [Qwen2]),
        ("llama-bpe", [Llama3]),
    ];

    /// <summary>
    /// The GGUF vocabulary of <paramref name="tokenizer"/> for a model with <paramref name="vocabSize"/>
    /// embedding rows (ids the tokenizer does not use become unused "[PADn]" tokens, as llama.cpp's
    /// converter writes them). <paramref name="source"/> names the tokenizer in errors.
    /// </summary>
    public static GgufTokenizer FromTokenizer(BpeTokenizer tokenizer, int vocabSize, string source, int? configBos = null, int? configEos = null, string? chatTemplate = null)
    {
        var pre = PreTokenizerName(tokenizer, source);
        if (tokenizer.VocabSize > vocabSize)
            throw new ExportException($"{source}: the tokenizer has {tokenizer.VocabSize} ids but the model's vocab_size is {vocabSize}; the model cannot embed every token");
        var added = tokenizer.AddedTokens.ToDictionary(t => t.Id);
        var tokens = new string[vocabSize];
        var types = new GgufTokenType[vocabSize];
        for (int id = 0; id < vocabSize; id++)
        {
            if (added.TryGetValue(id, out var a))
            {
                tokens[id] = a.Content;
                types[id] = a.Special ? GgufTokenType.Control : GgufTokenType.UserDefined;
            }
            else if (tokenizer.IdToToken(id) is { } t)
            {
                tokens[id] = t;
                types[id] = GgufTokenType.Normal;
            }
            else
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = GgufTokenType.Unused;
            }
        }
        var merges = new List<string>(tokenizer.Merges.Count);
        foreach (var (left, right) in tokenizer.Merges)
        {
            if (left.Contains(' ') || right.Contains(' '))
                throw new ExportException($"{source}: the merge '{left}' + '{right}' holds a space, which GGUF's space-separated merge lines cannot represent");
            merges.Add($"{left} {right}");
        }
        return new GgufTokenizer
        {
            Tokens = tokens,
            TokenTypes = types,
            Merges = merges,
            Pre = pre,
            BosTokenId = tokenizer.BosTokenId ?? configBos,
            EosTokenId = tokenizer.EosTokenId ?? configEos,
            PadTokenId = tokenizer.PadTokenId,
            AddBosToken = tokenizer.AddBosToken,
            AddEosToken = tokenizer.AddEosToken,
            ChatTemplate = chatTemplate,
        };
    }

    /// <summary>The llama.cpp pre-tokenizer whose regexes equal the tokenizer's, or an error listing what is supported.</summary>
    public static string PreTokenizerName(BpeTokenizer tokenizer, string source)
    {
        if (!NormalizerIsHarmless(tokenizer.Normalizer))
            throw new ExportException($"{source}: the tokenizer's normalizer ({tokenizer.Normalizer!.GetType().Name}) changes text before splitting; llama.cpp applies no normalizer, so GGUF export supports none or NFC only");
        var regexes = SplitRegexes(tokenizer.PreTokenizer, source);
        foreach (var (pre, known) in KnownPreTokenizers)
        {
            if (known.SequenceEqual(regexes))
                return pre;
        }
        var supported = string.Join("; ", KnownPreTokenizers.Select(k => $"{k.Pre}: [{string.Join(", ", k.Regexes)}]"));
        throw new ExportException($"{source}: no llama.cpp pre-tokenizer splits text as this tokenizer does (its split regexes, in order: [{string.Join(", ", regexes)}]); GGUF export supports {supported}");
    }

    // NFC changes only text that is not already composed; llama.cpp's converter accepts it for Qwen2,
    // but llama.cpp never applies it, so text that is not in NFC is encoded otherwise there.
    private static bool NormalizerIsHarmless(Normalizer? n) => n switch
    {
        null => true,
        UnicodeFormNormalizer { Form: NormalizationForm.FormC } => true,
        SequenceNormalizer s => s.Normalizers.All(NormalizerIsHarmless),
        _ => false,
    };

    /// <summary>The regexes the pre-tokenizer splits by, in order; anything else (a literal split, another behaviour, a prefix space) is an error.</summary>
    private static List<string> SplitRegexes(PreTokenizer p, string source)
    {
        var result = new List<string>();
        void Walk(PreTokenizer step)
        {
            switch (step)
            {
                case SequencePreTokenizer s:
                    foreach (var inner in s.Steps)
                        Walk(inner);
                    break;
                case SplitPreTokenizer { IsRegex: true, Behavior: SplitBehavior.Isolated, Invert: false } split:
                    result.Add(CanonicalRegex(split.PatternText));
                    break;
                case ByteLevelPreTokenizer { AddPrefixSpace: false } b:
                    if (b.UseRegex)
                        result.Add(Gpt2);
                    break;
                case ByteLevelPreTokenizer:
                    throw new ExportException($"{source}: the ByteLevel pre-tokenizer adds a prefix space, which llama.cpp does not; GGUF export needs add_prefix_space false");
                default:
                    throw new ExportException($"{source}: GGUF export supports Split pre-tokenizers with a regex and the Isolated behaviour, and ByteLevel; this tokenizer has {Describe(step)}");
            }
        }
        Walk(p);
        return result;
    }

    private static string Describe(PreTokenizer p) => p is SplitPreTokenizer s
        ? $"a Split on {(s.IsRegex ? "regex" : "string")} '{s.PatternText}' with behaviour {s.Behavior}{(s.Invert ? ", inverted" : "")}"
        : p.GetType().Name;

    /// <summary>Our GPT-2 ByteLevel regex spelled with its trailing \s+ (as tokenizer.json files write it) counts as GPT-2's.</summary>
    private static string CanonicalRegex(string regex) =>
        regex == ByteLevelPreTokenizer.Gpt2Pattern ? Gpt2 : regex;
}
