using System.Text.Json;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Reporting;

/// <summary>
/// The scalars of one run's <c>metrics.jsonl</c>: one <see cref="MetricSeries"/> per metric name, in
/// the order the names first appear. Each line must be a JSON object with an integer <c>step</c>;
/// every other field but <c>time</c> is a metric whose value is a number or one of the strings
/// "NaN", "Infinity", "-Infinity" (how the trainers write non-finite values). A line that breaks
/// these rules stops the read with a <see cref="ReportInputException"/> naming the file and line;
/// only an unterminated last line that does not parse is left out, as a trainer may be writing it.
/// </summary>
public sealed class StageMetrics
{
    private readonly Dictionary<string, MetricSeries> _byName = new(StringComparer.Ordinal);
    private readonly List<MetricSeries> _series = [];

    /// <summary>Every metric, in order of first appearance.</summary>
    public IReadOnlyList<MetricSeries> Series => _series;

    /// <summary>Records read.</summary>
    public int Records { get; private set; }

    /// <summary>The highest step logged (0 for an empty file).</summary>
    public long LastStep { get; private set; }

    public bool TryGet(string name, out MetricSeries series) => _byName.TryGetValue(name, out series!);

    public bool Has(string name) => _byName.ContainsKey(name);

    public static StageMetrics Read(string path)
    {
        var metrics = new StageMetrics();
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
                    break; // being written
                throw new ReportInputException($"{path}:{line.Number}: not valid JSON: {JsonlLines.Describe(e)}; each line of metrics.jsonl is one object such as {{\"step\": 10, \"train/loss\": 1.5}}");
            }
            using (doc)
                metrics.Add(doc.RootElement, path, line.Number);
        }
        return metrics;
    }

    private void Add(JsonElement record, string path, int line)
    {
        if (record.ValueKind != JsonValueKind.Object)
            throw new ReportInputException($"{path}:{line}: a {Kind(record)} where a JSON object was expected, such as {{\"step\": 10, \"train/loss\": 1.5}}");
        if (!record.TryGetProperty("step", out var stepElement))
            throw new ReportInputException($"{path}:{line}: the record has no \"step\"; every metrics line needs the integer step it was logged at");
        if (stepElement.ValueKind != JsonValueKind.Number || !stepElement.TryGetInt64(out long step) || step < 0)
            throw new ReportInputException($"{path}:{line}: \"step\" is {stepElement.GetRawText()}, expected a whole number >= 0");
        foreach (var property in record.EnumerateObject())
        {
            if (MetricNames.Reserved.Contains(property.Name))
                continue;
            double value = Value(property, path, line);
            if (!_byName.TryGetValue(property.Name, out var series))
            {
                series = new MetricSeries(property.Name);
                _byName[property.Name] = series;
                _series.Add(series);
            }
            series.Add(step, value);
        }
        Records++;
        LastStep = Math.Max(LastStep, step);
    }

    private static double Value(JsonProperty property, string path, int line)
    {
        var v = property.Value;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d))
            return d;
        if (v.ValueKind == JsonValueKind.String)
        {
            switch (v.GetString())
            {
                case "NaN":
                    return double.NaN;
                case "Infinity":
                    return double.PositiveInfinity;
                case "-Infinity":
                    return double.NegativeInfinity;
            }
        }
        throw new ReportInputException($"{path}:{line}: metric \"{property.Name}\" is {Shorten(v.GetRawText())}; a metric value is a number or one of the strings \"NaN\", \"Infinity\", \"-Infinity\"");
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => "JSON array",
        JsonValueKind.String => "JSON string",
        JsonValueKind.Number => "JSON number",
        _ => "JSON " + e.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Shorten(string raw) => raw.Length <= 40 ? raw : raw[..37] + "...";
}
