using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>The pairs of a human labelling session and what was left out of them.</summary>
/// <param name="Items">The pairs, in source order, each once.</param>
/// <param name="Source">Where they came from, in words.</param>
/// <param name="Duplicates">Pairs that were in the source more than once (kept once).</param>
/// <param name="Unusable">Sampled pairs left out because a response was empty or both were the same.</param>
public sealed record PairSet(IReadOnlyList<PairItem> Items, string Source, int Duplicates, int Unusable);

/// <summary>
/// Where the pairs people label come from: a pairs file (<c>{"prompt", "response_a",
/// "response_b"}</c> lines, or preference lines in any form the trainers read, chosen as A), or
/// pairs sampled from one or two policies, which are saved beside the output
/// (<see cref="LabelFiles.PairsPath"/>) the first time so that a restart shows the same pairs.
/// </summary>
public static class PairSource
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The session's pairs for <paramref name="cfg"/>, whose labels go to <paramref name="preferencePath"/>.</summary>
    public static PairSet Resolve(LabelConfig cfg, string preferencePath, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        if (cfg.PairsFile is not null)
            return Load(cfg.PairsFile);
        var saved = LabelFiles.PairsPath(preferencePath);
        if (File.Exists(saved))
        {
            log?.WriteLine($"pairs: {saved} (sampled when this session started; delete it to sample new ones)");
            return Load(saved);
        }
        var sampler = PairSampler.Create(cfg);
        var items = new List<PairItem>();
        int unusable = 0;
        foreach (var batch in sampler.Sample())
        {
            unusable += batch.Empty + batch.Identical;
            items.AddRange(batch.Items.Select(i => PairItem.Create(i.Prompt, i.A, i.B)));
            log?.WriteLine($"sampled {batch.PromptsDone}/{sampler.Prompts.Count} prompts");
        }
        var (unique, duplicates) = Dedupe(items);
        if (unique.Count == 0)
            throw new TrainingSetupException($"sampling gave no usable pair ({unusable} had an empty or repeated response); raise temperature or max_new_tokens");
        Save(saved, unique);
        log?.WriteLine($"pairs: {unique.Count} sampled and kept in {saved}");
        return new PairSet(unique, saved, duplicates, unusable);
    }

    /// <summary>Reads a pairs file; errors name the file, line and field.</summary>
    public static PairSet Load(string path)
    {
        var (items, _) = JsonlReader.ReadFile(path, null, Parse);
        var (unique, duplicates) = Dedupe(items);
        return new PairSet(unique, path, duplicates, 0);
    }

    /// <summary>Writes pairs as <c>{"prompt", "response_a", "response_b"}</c> lines, atomically.</summary>
    public static void Save(string path, IEnumerable<PairItem> items)
    {
        var sb = new StringBuilder();
        foreach (var item in items)
        {
            var line = new JsonObject { ["prompt"] = PromptJson.Node(item.Prompt), ["response_a"] = item.A, ["response_b"] = item.B };
            sb.Append(line.ToJsonString(Compact)).Append('\n');
        }
        AtomicFile.WriteDurable(path, s => s.Write(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private static (List<PairItem> Unique, int Duplicates) Dedupe(List<PairItem> items)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = items.Where(i => seen.Add(i.Id)).ToList();
        return (unique, items.Count - unique.Count);
    }

    private static PairItem Parse(JsonElement line, LineContext context)
    {
        if (!JsonFields.Has(line, "response_a") && !JsonFields.Has(line, "response_b"))
        {
            var example = PreferenceDataset.Parse(line, context);
            return PairItem.Create(example.Prompt, example.Chosen.Content, example.Rejected.Content);
        }
        var (prompt, a, b) = PreferenceDataset.ResponsePair(line, context,
            "a pairs line is {\"prompt\": ..., \"response_a\": \"...\", \"response_b\": \"...\"} (or a preference line with chosen and rejected).",
            "the response is empty; a pair needs two non-empty responses (the trainers reject empty ones).",
            "is identical to \"response_a\"; there is nothing to compare (drop the line).");
        return PairItem.Create(prompt, a, b);
    }
}
