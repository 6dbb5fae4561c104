using System.Text.Json;

namespace RlhfSharp.Cli.Reporting;

/// <summary>One entry of a run's text log (<c>samples.jsonl</c>): sample responses, warnings, notes.</summary>
public sealed record TextLogEntry(long Step, string Tag, string Text);

/// <summary>
/// Reads a run's <c>samples.jsonl</c>, lines <c>{"step": 12, "tag": "samples", "text": "..."}</c>, with
/// the same rules as <see cref="StageMetrics"/>: a bad line is a <see cref="ReportInputException"/>
/// naming file and line, an unterminated last line that does not parse is left for later.
/// </summary>
public static class TextLog
{
    public static List<TextLogEntry> Read(string path)
    {
        var entries = new List<TextLogEntry>();
        foreach (var line in JsonlLines.Read(path))
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line.Text);
            }
            catch (JsonException e)
            {
                if (!line.Terminated)
                    break;
                throw new ReportInputException($"{path}:{line.Number}: not valid JSON: {JsonlLines.Describe(e)}; each line of samples.jsonl is one object {{\"step\": ..., \"tag\": ..., \"text\": ...}}");
            }
            using (doc)
            {
                var r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object
                    || !r.TryGetProperty("step", out var step) || step.ValueKind != JsonValueKind.Number || !step.TryGetInt64(out long s)
                    || !r.TryGetProperty("tag", out var tag) || tag.ValueKind != JsonValueKind.String
                    || !r.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                {
                    throw new ReportInputException($"{path}:{line.Number}: expected an object with an integer \"step\" and string \"tag\" and \"text\"");
                }
                entries.Add(new TextLogEntry(s, tag.GetString()!, text.GetString()!));
            }
        }
        return entries;
    }
}
