using System.Text.Json;

namespace RlhfSharp.Text.PreTokenization;

/// <summary>The <c>Sequence</c> pre-tokenizer: each step splits every piece the previous step produced.</summary>
public sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public IReadOnlyList<PreTokenizer> Steps { get; } = steps;

    internal override bool IsByteLevel => Steps.Count > 0 && Steps.Any(s => s.IsByteLevel);

    public override void Split(string piece, List<string> output)
    {
        List<string> current = [piece];
        foreach (var step in Steps)
        {
            var next = new List<string>(current.Count * 2);
            foreach (var p in current) step.Split(p, next);
            current = next;
        }
        output.AddRange(current);
    }

    internal override void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "Sequence");
        writer.WriteStartArray("pretokenizers");
        foreach (var step in Steps) step.WriteJson(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
