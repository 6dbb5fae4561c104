using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Pipeline;

namespace RlhfSharp.Cli.Reporting;

/// <summary>One training run as the report shows it: its metrics, summary.json (once it finished) and text log.</summary>
public sealed record StageRun(string Name, string Folder, StageMetrics Metrics, JsonObject? Summary, IReadOnlyList<TextLogEntry> TextLog);

/// <summary>One policy's answer to a held-out prompt in the pipeline's comparison.</summary>
public sealed record ComparedResponse(string Policy, string Text, double? Gold);

/// <summary>A held-out prompt with every compared policy's answer to it.</summary>
public sealed record PromptResponses(string Prompt, IReadOnlyList<ComparedResponse> Responses);

/// <summary>
/// What a report is made from, read from a run folder: either a single stage's run folder (it holds
/// <c>metrics.jsonl</c>) or a pipeline folder whose subfolders are stage run folders, with the
/// pipeline's <c>results.json</c> and <c>responses.jsonl</c> when the comparison has run.
/// </summary>
public sealed class RunData
{
    /// <summary>The pipeline's stages in the order they run; other subfolders follow by name.</summary>
    public static readonly string[] StageOrder = [.. PipelineStages.All];

    private RunData(string name, bool isPipeline, List<StageRun> stages, JsonObject? results, List<PromptResponses> responses)
    {
        Name = name;
        IsPipeline = isPipeline;
        Stages = stages;
        Results = results;
        Responses = responses;
    }

    /// <summary>The run folder's name.</summary>
    public string Name { get; }

    public bool IsPipeline { get; }

    public IReadOnlyList<StageRun> Stages { get; }

    /// <summary>The pipeline's results.json, if written.</summary>
    public JsonObject? Results { get; }

    /// <summary>The pipeline's responses.jsonl, if written.</summary>
    public IReadOnlyList<PromptResponses> Responses { get; }

    /// <param name="allowEmpty">Accept a folder with no metrics yet (a dashboard started before the run logs anything).</param>
    public static RunData Load(string dir, bool allowEmpty = false)
    {
        var full = Path.GetFullPath(dir);
        if (!Directory.Exists(full))
            throw new ReportInputException($"{full}: run folder not found; give a folder written by rlhf pipeline, sft, rm, ppo, dpo or grpo");
        string name = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar));
        var stages = new List<StageRun>();
        bool single = File.Exists(Path.Combine(full, JsonlMetricSink.MetricsFileName));
        if (single)
        {
            var summary = ReadObject(Path.Combine(full, RunFolder.SummaryFileName));
            string stage = summary?["stage"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : name;
            stages.Add(ReadStage(stage, full, summary));
        }
        else
        {
            foreach (var sub in StageFolders(full))
                stages.Add(ReadStage(Path.GetRelativePath(full, sub), sub, ReadObject(Path.Combine(sub, RunFolder.SummaryFileName))));
        }
        if (stages.Count == 0 && !allowEmpty)
            throw new ReportInputException($"{full}: no {JsonlMetricSink.MetricsFileName} in the folder or its subfolders; is it a run folder (rlhf pipeline, sft, rm, ppo, dpo, grpo)?");
        var results = single ? null : ReadObject(Path.Combine(full, PipelineRunner.ResultsFile));
        var responses = single ? [] : ReadResponses(Path.Combine(full, PipelineRunner.ResponsesFile));
        return new RunData(name, !single, stages, results, responses);
    }

    /// <summary>
    /// The files a report of <paramref name="dir"/> is made from, as (path, length, last write) stamps:
    /// when these change, the report is out of date.
    /// </summary>
    public static string Stamp(string dir)
    {
        var full = Path.GetFullPath(dir);
        var files = new List<string>();
        void Add(string folder)
        {
            foreach (var f in new[] { JsonlMetricSink.MetricsFileName, JsonlMetricSink.SamplesFileName, RunFolder.SummaryFileName, PipelineRunner.ResultsFile, PipelineRunner.ResponsesFile })
                files.Add(Path.Combine(folder, f));
        }
        Add(full);
        if (Directory.Exists(full))
        {
            foreach (var sub in StageFolders(full))
                Add(sub);
        }
        var sb = new System.Text.StringBuilder();
        foreach (var f in files)
        {
            var info = new FileInfo(f);
            if (info.Exists)
                sb.Append(f).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return sb.ToString();
    }

    // The stage folders of a pipeline folder; with seed_sft, those of each seed's chain (seed<N>/sft…) after them, seed by seed.
    private static IEnumerable<string> StageFolders(string full)
    {
        var chains = Directory.EnumerateDirectories(full)
            .Select(d => (Dir: d, Match: System.Text.RegularExpressions.Regex.Match(Path.GetFileName(d), "^seed([0-9]{1,9})$")))
            .Where(d => d.Match.Success && !File.Exists(Path.Combine(d.Dir, JsonlMetricSink.MetricsFileName)))
            .OrderBy(d => int.Parse(d.Match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Select(d => d.Dir);
        return DirectStageFolders(full).Concat(chains.SelectMany(DirectStageFolders));
    }

    private static IEnumerable<string> DirectStageFolders(string full) =>
        Directory.EnumerateDirectories(full)
            .Where(d => File.Exists(Path.Combine(d, JsonlMetricSink.MetricsFileName)))
            .Select(d => (Dir: d, Key: OrderKey(Path.GetFileName(d))))
            .OrderBy(d => d.Key.Stage)
            .ThenBy(d => d.Key.Within, StringComparer.Ordinal)
            .Select(d => d.Dir);

    // Iterated RLHF's folders (ppo-round2, rm-round2, ppo-seed3-round2…) sit with the ppo stage, round by round, each round's PPO run before its reward model.
    private static (int Stage, string Within) OrderKey(string folder)
    {
        if (System.Text.RegularExpressions.Regex.Match(folder, "^(ppo|label|rm)(-seed[0-9]+)?-round([0-9]+)$") is { Success: true } m)
            return (Array.IndexOf(StageOrder, "ppo"), $"ppo{m.Groups[2].Value}-{int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture):D6}-{(m.Groups[1].Value == "ppo" ? 0 : 1)}");
        int i = Array.IndexOf(StageOrder, StageOf(folder));
        return (i >= 0 ? i : StageOrder.Length, folder);
    }

    // A pipeline stage's name from its run folder: "ppo-seed2" (one of several seeds' runs) is a ppo run.
    private static string StageOf(string folder) =>
        System.Text.RegularExpressions.Regex.Match(folder, "^(.+)-seed[0-9]+$") is { Success: true } m ? m.Groups[1].Value : folder;

    private static StageRun ReadStage(string name, string folder, JsonObject? summary)
    {
        var metrics = StageMetrics.Read(Path.Combine(folder, JsonlMetricSink.MetricsFileName));
        var samples = Path.Combine(folder, JsonlMetricSink.SamplesFileName);
        var log = File.Exists(samples) ? TextLog.Read(samples) : [];
        return new StageRun(name, folder, metrics, summary, log);
    }

    private static JsonObject? ReadObject(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (JsonUnicode.Find(bytes) is { } bad)
                throw new ReportInputException($"{path}:{bad.Line}: {JsonlLines.FieldOf(bytes)}{bad.Reason}");
            return JsonNode.Parse(JsonUnicode.Decode(bytes)) as JsonObject
                ?? throw new ReportInputException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ReportInputException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {JsonlLines.Describe(e)}");
        }
    }

    private static List<PromptResponses> ReadResponses(string path)
    {
        var rows = new List<PromptResponses>();
        if (!File.Exists(path))
            return rows;
        foreach (var line in JsonlLines.Read(path))
        {
            JsonObject? o;
            try
            {
                o = JsonNode.Parse(line.Text) as JsonObject;
            }
            catch (JsonException e)
            {
                if (!line.Terminated)
                    break;
                throw new ReportInputException($"{path}:{line.Number}: not valid JSON: {JsonlLines.Describe(e)}");
            }
            if (o?["prompt"] is not JsonValue prompt || !prompt.TryGetValue<string>(out var promptText) || o["responses"] is not JsonObject responses)
                throw new ReportInputException($"{path}:{line.Number}: expected {{\"prompt\": \"...\", \"responses\": {{\"<policy>\": {{\"text\": \"...\", \"gold\": 0.5}}}}}}");
            var answers = new List<ComparedResponse>();
            foreach (var (policy, node) in responses)
            {
                if (node is not JsonObject r || r["text"] is not JsonValue t || !t.TryGetValue<string>(out var text))
                    throw new ReportInputException($"{path}:{line.Number}: responses.{policy} needs a string \"text\"");
                double? gold = r["gold"] is JsonValue g && g.TryGetValue<double>(out var gv) ? gv : null;
                answers.Add(new ComparedResponse(policy, text, gold));
            }
            rows.Add(new PromptResponses(promptText, answers));
        }
        return rows;
    }
}
