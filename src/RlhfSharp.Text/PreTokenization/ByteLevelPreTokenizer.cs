using System.Text.Json;

namespace RlhfSharp.Text.PreTokenization;

/// <summary>
/// The <c>ByteLevel</c> pre-tokenizer: optionally adds a leading space to each piece and
/// optionally splits it with GPT-2's regex. Mapping bytes to printable characters happens in the
/// BPE model, after every pre-tokenizer has run.
/// </summary>
public sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, bool trimOffsets = true) : PreTokenizer
{
    /// <summary>GPT-2's pre-tokenization regex, as tokenizers' ByteLevel uses it.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    // Built in and linear (every branch is one greedy run, the lookahead is one character), so it runs without a time limit.
    private static readonly SplitPreTokenizer Gpt2Split = new(Gpt2Pattern, isRegex: true, SplitBehavior.Isolated, invert: false,
        System.Text.RegularExpressions.Regex.InfiniteMatchTimeout, "(ByteLevel pre-tokenizer)", "use_regex");

    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public bool UseRegex { get; } = useRegex;

    /// <summary>Only affects offsets, which this library does not report; kept so saving round-trips.</summary>
    public bool TrimOffsets { get; } = trimOffsets;

    internal override bool IsByteLevel => true;

    public override void Split(string piece, List<string> output)
    {
        if (AddPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
        if (UseRegex) Gpt2Split.Split(piece, output);
        else if (piece.Length > 0) output.Add(piece);
    }

    internal override void WriteJson(Utf8JsonWriter writer) => WriteByteLevel(writer, AddPrefixSpace, TrimOffsets, UseRegex);

    internal static void WriteByteLevel(Utf8JsonWriter writer, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "ByteLevel");
        writer.WriteBoolean("add_prefix_space", addPrefixSpace);
        writer.WriteBoolean("trim_offsets", trimOffsets);
        writer.WriteBoolean("use_regex", useRegex);
        writer.WriteEndObject();
    }
}
