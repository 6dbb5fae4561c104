using System.Text;
using System.Text.Json;

namespace RlhfSharp.Text.Normalization;

/// <summary>
/// A text normalizer from the <c>normalizer</c> section of tokenizer.json, applied to the text
/// (outside added tokens that are not marked <c>normalized</c>) before pre-tokenization.
/// </summary>
public abstract class Normalizer
{
    public abstract string Normalize(string text);

    internal abstract void WriteJson(Utf8JsonWriter writer);
}

/// <summary>Unicode normalization: NFC, NFD, NFKC or NFKD (tables built in; see <see cref="UnicodeNormalization"/>).</summary>
public sealed class UnicodeFormNormalizer(NormalizationForm form) : Normalizer
{
    public NormalizationForm Form { get; } = form;

    public override string Normalize(string text) => UnicodeNormalization.Normalize(text, Form);

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", Form switch
        {
            NormalizationForm.FormC => "NFC",
            NormalizationForm.FormD => "NFD",
            NormalizationForm.FormKC => "NFKC",
            _ => "NFKD",
        });
        writer.WriteEndObject();
    }
}

/// <summary>Unicode lower-casing (the <c>Lowercase</c> normalizer).</summary>
public sealed class LowercaseNormalizer : Normalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Lowercase");
        writer.WriteEndObject();
    }
}

/// <summary>Applies each normalizer in order (the <c>Sequence</c> normalizer).</summary>
public sealed class SequenceNormalizer(IReadOnlyList<Normalizer> normalizers) : Normalizer
{
    public IReadOnlyList<Normalizer> Normalizers { get; } = normalizers;

    public override string Normalize(string text)
    {
        foreach (var n in Normalizers) text = n.Normalize(text);
        return text;
    }

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("normalizers");
        foreach (var n in Normalizers) n.WriteJson(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
