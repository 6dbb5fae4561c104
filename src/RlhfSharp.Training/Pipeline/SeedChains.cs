using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// The pipeline with <c>seed_sft: true</c>: the whole chain (SFT, labels, reward model, policies and
/// the comparison) once per seed, in folders seed&lt;N&gt; on the same data, each seed's policies
/// compared with its own SFT. The top-level results give every stage's spread over the seeds (SFT's
/// gold score and the reward model's accuracy included), so the spread covers all of training's
/// randomness and not the policy stages' alone.
/// </summary>
internal static class SeedChains
{
    /// <summary>A stage's row name in the top-level results, e.g. sft-seed3.</summary>
    public static string RowName(string stage, int seed) => $"{stage}-seed{seed}";

    /// <param name="runChain">Runs one seed's chain into the given folder; its result and comparison rows (none on ranks other than 0).</param>
    public static JsonObject Run(PipelineConfig cfg, RunFolder folder, string data, bool hasGold,
        Func<int, string, (JsonObject Result, List<PolicyRow> Rows)> runChain, TextWriter log)
    {
        var rows = new List<(string Stage, int Seed, PolicyRow Row)>();
        var perSeed = new JsonObject();
        var rmAccuracy = new List<double>();
        var times = new JsonObject();
        foreach (int seed in cfg.Seeds)
        {
            string name = $"seed{seed}";
            log.WriteLine($"[{name}] the whole chain with seed {seed} in {Path.Combine(folder.Path, name)}");
            var (result, seedRows) = runChain(seed, Path.Combine(folder.Path, name));
            // Per skill the chains' own results.md and results.json have it, against their own SFT.
            rows.AddRange(seedRows.Select(r => (r.Name, seed, r with { Name = RowName(r.Name, seed), Skills = [] })));
            perSeed[seed.ToString(CultureInfo.InvariantCulture)] = $"{name}/{PipelineRunner.ResultsFile}";
            if (result["rm/eval_accuracy"] is JsonValue a)
                rmAccuracy.Add(a.GetValue<double>());
            if (result["time/stages_s"] is JsonObject t)
            {
                foreach (var (stage, seconds) in t)
                    times[$"{name}/{stage}"] = seconds?.DeepClone();
            }
        }
        var top = new JsonObject { ["stage"] = "pipeline", ["data"] = data, ["gold_scorer"] = hasGold, ["seed_sft"] = true };
        if (!World.Current.IsMain)
            return top;

        var stages = new List<string> { "sft" };
        stages.AddRange(PipelineStages.PolicyStages(cfg.Stages));
        var spread = SeedSpread.Of([.. rows.Select(x => x.Row)], stages, cfg.Seeds, RowName);
        var table = new JsonArray();
        foreach (var (stage, seed, r) in rows)
        {
            table.Add(new JsonObject
            {
                ["policy"] = r.Name,
                ["stage"] = stage,
                ["seed"] = seed,
                ["eval/gold_score"] = r.Gold,
                ["eval/win_rate_vs_sft"] = r.WinRateVsSft,
                ["eval/kl_to_sft"] = r.KlToSft,
                ["eval/response_words"] = r.ResponseWords,
                ["time/total_s"] = r.TrainSeconds,
            });
        }
        top["seeds"] = new JsonArray([.. cfg.Seeds.Select(s => (JsonNode)JsonValue.Create(s))]);
        top["per_seed"] = perSeed;
        top["policies"] = table;
        top["over_seeds"] = new JsonArray([.. spread.Select(x => (JsonNode)x.ToJson())]);
        SeedStat? rm = rmAccuracy.Count == cfg.Seeds.Count ? SeedStat.Of(rmAccuracy) : null;
        if (rm is not null)
        {
            top["rm/eval_accuracy"] = rm.Mean;
            top["rm/eval_accuracy_over_seeds"] = rm.ToJson();
        }
        top["time/stages_s"] = times;

        var text = new StringBuilder();
        text.AppendLine($"Each seed ran the whole chain ({string.Join(", ", cfg.Stages)}) with its own seed in seed<N>/, on the same data; "
            + "its policies are compared there with its own SFT (seed<N>/results.md, per skill too).");
        text.Append(SeedSpread.Table(spread));
        if (rm is not null)
            text.AppendLine().AppendLine($"Reward model held-out accuracy over the seeds: {rm.Format("F3")}");
        folder.WriteFileAtomic(PipelineRunner.TableFile, text.ToString());
        folder.WriteFileAtomic(PipelineRunner.ResultsFile, top.ToJsonString(TrainerSetup.Indented));
        log.Write(text.ToString());
        return top;
    }
}
