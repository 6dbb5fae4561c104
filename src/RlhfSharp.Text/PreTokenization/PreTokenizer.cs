using System.Text.Json;

namespace RlhfSharp.Text.PreTokenization;

/// <summary>
/// A pre-tokenizer from the <c>pre_tokenizer</c> section of tokenizer.json: splits normalized
/// text into pieces; BPE merges never cross a piece boundary.
/// </summary>
public abstract class PreTokenizer
{
    /// <summary>Appends the pieces of <paramref name="piece"/> to <paramref name="output"/>.</summary>
    public abstract void Split(string piece, List<string> output);

    /// <summary>Splits <paramref name="text"/> into pieces.</summary>
    public List<string> Split(string text)
    {
        var output = new List<string>();
        Split(text, output);
        return output;
    }

    /// <summary>True when the pipeline ends in byte-level mapping (required by the BPE model here).</summary>
    internal abstract bool IsByteLevel { get; }

    internal abstract void WriteJson(Utf8JsonWriter writer);
}
