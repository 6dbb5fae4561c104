using System.Text;
using System.Text.Json;
using RlhfSharp.Text.Json;
using RlhfSharp.Text.Normalization;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text.Loading;

/// <summary>Reads the normalizer, pre-tokenizer, post-processor and decoder sections of tokenizer.json.</summary>
internal static class PipelineJsonReader
{
    private const string SupportedNormalizers = "NFC, NFD, NFKC, NFKD, Lowercase or Sequence";
    private const string SupportedPreTokenizers = "ByteLevel, Split or Sequence";

    public static Normalizer? ReadNormalizer(JsonFields f, JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Null) return null;
        string type = f.RequiredString(e, path, "type");
        switch (type)
        {
            case "NFC": return new UnicodeFormNormalizer(NormalizationForm.FormC);
            case "NFD": return new UnicodeFormNormalizer(NormalizationForm.FormD);
            case "NFKC": return new UnicodeFormNormalizer(NormalizationForm.FormKC);
            case "NFKD": return new UnicodeFormNormalizer(NormalizationForm.FormKD);
            case "Lowercase": return new LowercaseNormalizer();
            case "Sequence":
                string itemsPath = JsonFields.Child(path, "normalizers");
                var items = f.RequireArray(f.Required(e, path, "normalizers"), itemsPath);
                var list = new List<Normalizer>();
                int i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    var n = ReadNormalizer(f, item, JsonFields.Index(itemsPath, i++));
                    if (n is not null) list.Add(n);
                }
                return new SequenceNormalizer(list);
            default:
                throw f.Error(JsonFields.Child(path, "type"),
                    $"unsupported normalizer type {JsonFields.Quote(type)}; supported: {SupportedNormalizers}");
        }
    }

    /// <param name="regexTimeout">The limit for one match of a Split pattern's regex.</param>
    public static PreTokenizer ReadPreTokenizer(JsonFields f, JsonElement root, TimeSpan regexTimeout)
    {
        var e = f.Optional(root, "", "pre_tokenizer")
            ?? throw f.Error("pre_tokenizer", "is missing or null; this library reads byte-level BPE tokenizers, so expected "
                + "{\"type\": \"ByteLevel\", ...} or a Sequence that contains ByteLevel");
        var pre = ReadPreTokenizer(f, e, "pre_tokenizer", regexTimeout);
        if (!pre.IsByteLevel)
            throw f.Error("pre_tokenizer", "has no ByteLevel step; this library reads byte-level BPE tokenizers, so expected "
                + "ByteLevel alone or as the last step of a Sequence");
        return pre;
    }

    private static PreTokenizer ReadPreTokenizer(JsonFields f, JsonElement e, string path, TimeSpan regexTimeout)
    {
        string type = f.RequiredString(e, path, "type");
        switch (type)
        {
            case "ByteLevel":
                return new ByteLevelPreTokenizer(
                    f.OptionalBool(e, path, "add_prefix_space", true),
                    f.OptionalBool(e, path, "use_regex", true),
                    f.OptionalBool(e, path, "trim_offsets", true));
            case "Split":
                return ReadSplit(f, e, path, regexTimeout);
            case "Sequence":
                string itemsPath = JsonFields.Child(path, "pretokenizers");
                var items = f.RequireArray(f.Required(e, path, "pretokenizers"), itemsPath);
                var steps = new List<PreTokenizer>();
                int i = 0;
                foreach (var item in items.EnumerateArray()) steps.Add(ReadPreTokenizer(f, item, JsonFields.Index(itemsPath, i++), regexTimeout));
                return new SequencePreTokenizer(steps);
            default:
                throw f.Error(JsonFields.Child(path, "type"),
                    $"unsupported pre-tokenizer type {JsonFields.Quote(type)}; supported: {SupportedPreTokenizers}");
        }
    }

    private static SplitPreTokenizer ReadSplit(JsonFields f, JsonElement e, string path, TimeSpan regexTimeout)
    {
        string patternPath = JsonFields.Child(path, "pattern");
        var pattern = f.Required(e, path, "pattern");
        string text;
        bool isRegex;
        if (f.Optional(pattern, patternPath, "Regex") is { } regex)
        {
            text = f.AsString(regex, JsonFields.Child(patternPath, "Regex"));
            isRegex = true;
        }
        else if (f.Optional(pattern, patternPath, "String") is { } literal)
        {
            text = f.AsString(literal, JsonFields.Child(patternPath, "String"));
            isRegex = false;
        }
        else throw f.Error(patternPath, "expected {\"Regex\": \"...\"} or {\"String\": \"...\"}");

        string behaviorText = f.RequiredString(e, path, "behavior");
        if (!Enum.TryParse<SplitBehavior>(behaviorText, ignoreCase: false, out var behavior) || !Enum.IsDefined(behavior))
            throw f.Error(JsonFields.Child(path, "behavior"),
                $"unknown split behavior {JsonFields.Quote(behaviorText)}; expected one of {string.Join(", ", Enum.GetNames<SplitBehavior>())}");
        string location = JsonFields.Child(patternPath, isRegex ? "Regex" : "String");
        try
        {
            return new SplitPreTokenizer(text, isRegex, behavior, f.OptionalBool(e, path, "invert", false), regexTimeout, f.File, location);
        }
        catch (ArgumentException ex)
        {
            throw new TokenizerFormatException(f.File, location,
                $"the regex {JsonFields.QuoteWhole(text)} does not compile in .NET ({ex.Message}); expected a pattern that both "
                + "Hugging Face tokenizers (Oniguruma) and .NET accept: fix the pattern in the file", ex);
        }
    }

    public static PostProcessorTemplate? ReadPostProcessor(JsonFields f, JsonElement root, Func<string, string, int> resolve)
    {
        if (f.Optional(root, "", "post_processor") is not { } e) return null;
        var prefix = new List<int>();
        var suffix = new List<int>();
        Collect(f, e, "post_processor", resolve, prefix, suffix);
        return new PostProcessorTemplate(e.GetRawText(), [.. prefix], [.. suffix]);
    }

    private static void Collect(JsonFields f, JsonElement e, string path, Func<string, string, int> resolve,
        List<int> prefix, List<int> suffix)
    {
        string type = f.RequiredString(e, path, "type");
        switch (type)
        {
            case "ByteLevel":
                return;
            case "Sequence":
                string itemsPath = JsonFields.Child(path, "processors");
                int i = 0;
                foreach (var item in f.RequireArray(f.Required(e, path, "processors"), itemsPath).EnumerateArray())
                    Collect(f, item, JsonFields.Index(itemsPath, i++), resolve, prefix, suffix);
                return;
            case "RobertaProcessing":
            case "BertProcessing":
                prefix.Add(resolve(ReadTokenPair(f, e, path, "cls"), JsonFields.Child(path, "cls")));
                suffix.Add(resolve(ReadTokenPair(f, e, path, "sep"), JsonFields.Child(path, "sep")));
                return;
            case "TemplateProcessing":
                string singlePath = JsonFields.Child(path, "single");
                bool seenSequence = false;
                int k = 0;
                foreach (var piece in f.RequireArray(f.Required(e, path, "single"), singlePath).EnumerateArray())
                {
                    string piecePath = JsonFields.Index(singlePath, k++);
                    if (f.Optional(piece, piecePath, "SpecialToken") is { } special)
                    {
                        string id = f.RequiredString(special, JsonFields.Child(piecePath, "SpecialToken"), "id");
                        (seenSequence ? suffix : prefix).Add(resolve(id, JsonFields.Child(piecePath, "SpecialToken.id")));
                    }
                    else if (f.Optional(piece, piecePath, "Sequence") is not null) seenSequence = true;
                    else throw f.Error(piecePath, "expected {\"SpecialToken\": {...}} or {\"Sequence\": {...}}");
                }
                return;
            default:
                throw f.Error(JsonFields.Child(path, "type"),
                    $"unsupported post-processor type {JsonFields.Quote(type)}; supported: ByteLevel, TemplateProcessing, "
                    + "RobertaProcessing, BertProcessing or Sequence");
        }
    }

    private static string ReadTokenPair(JsonFields f, JsonElement e, string path, string key)
    {
        string p = JsonFields.Child(path, key);
        var pair = f.RequireArray(f.Required(e, path, key), p);
        if (pair.GetArrayLength() != 2) throw f.Error(p, "expected [\"token\", id]");
        return f.AsString(pair[0], JsonFields.Index(p, 0));
    }

    /// <summary>Checks the decoder is byte-level (or absent, which decodes the same way here).</summary>
    public static void ReadDecoder(JsonFields f, JsonElement root)
    {
        if (f.Optional(root, "", "decoder") is not { } e) return;
        string type = f.RequiredString(e, "decoder", "type");
        if (type != "ByteLevel")
            throw f.Error("decoder.type", $"unsupported decoder type {JsonFields.Quote(type)}; expected ByteLevel (or null)");
    }
}
