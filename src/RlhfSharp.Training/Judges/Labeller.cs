using System.Text.Json.Nodes;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Text;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Judges.Human;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Judges;

/// <summary>
/// RLAIF labelling: samples responses from a policy (or two, see <see cref="PairSampler"/>), asks a
/// judge which of each pair is better, and writes the pairs it preferred as preference JSONL
/// (<c>prefs_train.jsonl</c>, the format <c>rlhf rm</c> and <c>rlhf dpo</c> read; an extra "judge"
/// field names who labelled it). Pairs the judge ties go to <c>ties.jsonl</c> (<c>rlhf rm --ties_files</c>
/// reads them); identical responses are counted and left out. When the
/// data has a gold scorer, summary.json reports how often the judge agrees with it. People label
/// with the <c>human</c> judge, which the command line serves as a web page instead.
/// </summary>
public static class Labeller
{
    public const string OutputFileName = "prefs_train.jsonl";

    /// <summary>The pairs the judge found equally good, as {"prompt", "response_a", "response_b", "judge"} lines.</summary>
    public const string TiesFileName = "ties.jsonl";

    public static JsonObject Run(LabelConfig cfg, string outDir, IProgressReporter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        if (cfg.Judge == "human")
            throw new TrainingSetupException("judge: human labels in a browser; run it through `rlhf label --judge human`, which serves the labelling page");
        progress ??= NullProgress.Instance;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var gold = TrainerSetup.Gold(cfg.Data);
        var judge = Judge(cfg, gold);
        using var disposeJudge = judge as IDisposable;
        var sampler = PairSampler.Create(cfg);

        var folder = RunFolder.Create(Path.GetDirectoryName(Path.GetFullPath(outDir))!, Path.GetFileName(Path.GetFullPath(outDir)), allowExisting: true);
        folder.WriteConfig(Configuration.ConfigWriter.ToYaml(cfg));
        var lines = new List<string>();
        var tieLines = new List<string>();
        int ties = 0, identical = 0, empty = 0, goldAgree = 0, goldDisagree = 0, goldTies = 0;
        progress.Begin("label", sampler.Prompts.Count, 0);
        foreach (var batch in sampler.Sample())
        {
            empty += batch.Empty;
            identical += batch.Identical;
            var items = batch.Items;
            var verdicts = judge.Judge(items);
            var goldVerdicts = gold is null ? null : new ScoringJudge(gold).Judge(items);
            for (int i = 0; i < items.Count; i++)
            {
                if (verdicts[i] == Verdict.Tie)
                {
                    ties++;
                    tieLines.Add(new JsonObject { ["prompt"] = PromptJson.Node(items[i].Prompt), ["response_a"] = items[i].A, ["response_b"] = items[i].B, ["judge"] = judge.Name }.ToJsonString());
                    continue;
                }
                var (chosen, rejected) = verdicts[i] == Verdict.A ? (items[i].A, items[i].B) : (items[i].B, items[i].A);
                var line = new JsonObject { ["prompt"] = PromptJson.Node(items[i].Prompt), ["chosen"] = chosen, ["rejected"] = rejected, ["judge"] = judge.Name };
                lines.Add(line.ToJsonString());
                if (goldVerdicts is not null)
                {
                    if (goldVerdicts[i] == Verdict.Tie)
                        goldTies++;
                    else if (goldVerdicts[i] == verdicts[i])
                        goldAgree++;
                    else
                        goldDisagree++;
                }
            }
            progress.Update(batch.PromptsDone, new Dictionary<string, double> { ["pairs"] = lines.Count });
        }
        progress.End();
        folder.WriteFileAtomic(OutputFileName, string.Concat(lines.Select(l => l + "\n")));
        folder.WriteFileAtomic(TiesFileName, string.Concat(tieLines.Select(l => l + "\n")));
        var summary = new JsonObject
        {
            ["stage"] = "label",
            ["judge"] = judge.Name,
            ["prompts"] = sampler.Prompts.Count,
            ["pairs"] = lines.Count,
            ["judge_ties"] = ties,
            ["judge_noise_tau"] = cfg.JudgeNoiseTau,
            ["identical_responses"] = identical,
            ["empty_responses"] = empty,
            ["file"] = Path.Combine(folder.Path, OutputFileName),
            ["ties_file"] = Path.Combine(folder.Path, TiesFileName),
            ["time/total_s"] = clock.Elapsed.TotalSeconds,
        };
        if (gold is not null)
        {
            summary["gold/agreement"] = goldAgree + goldDisagree == 0 ? null : (double)goldAgree / (goldAgree + goldDisagree);
            summary["gold/ties"] = goldTies;
        }
        folder.WriteSummary(summary);
        return summary;
    }

    /// <summary>The label noise has a stream of its own, apart from the response sampling of the same seed.</summary>
    private static ulong NoiseSeed(LabelConfig cfg) => (ulong)cfg.Seed ^ 0x6C6162656C6E6F69UL;

    private static LocalLmJudge LocalJudge(LabelConfig cfg)
    {
        var dir = TrainerSetup.RequireDir(cfg.JudgeModel!, "judge_model");
        var tokenizer = BpeTokenizer.FromDirectory(dir);
        TokenizerModelCheck.Check(tokenizer, dir, dir);
        return new LocalLmJudge(Placed(cfg, PretrainedIO.LoadCausalLM(dir)), tokenizer, TrainerSetup.Template(cfg.ChatTemplate, dir));
    }

    private static IPreferenceJudge Judge(LabelConfig cfg, IRewardSource? gold) => cfg.Judge switch
    {
        "local_lm" => LocalJudge(cfg),
        "http" => new HttpJudge(new HttpJudgeOptions
        {
            BaseUrl = cfg.JudgeUrl!,
            Model = cfg.JudgeModel!,
            ApiKeyEnvironmentVariable = cfg.JudgeApiKeyEnv,
            Timeout = TimeSpan.FromSeconds(cfg.JudgeTimeoutS),
            MaxRetries = cfg.JudgeMaxRetries,
        }),
        "gold" => new ScoringJudge(gold ?? throw new TrainingSetupException($"judge: gold needs a data folder written by `rlhf data builtin` (data: {cfg.Data ?? "not set"})"), cfg.JudgeNoiseTau, NoiseSeed(cfg)),
        _ => new ScoringJudge(Constitution.Load(cfg.Constitution ?? (cfg.Data is null
            ? throw new TrainingSetupException("judge: constitution needs a constitution file (config key 'constitution') or a data folder that holds constitution.yaml")
            : Path.Combine(cfg.Data, "constitution.yaml"))), cfg.JudgeNoiseTau, NoiseSeed(cfg)),
    };

    // A judge model on the run's device.
    private static Models.Transformer.CausalLM Placed(LabelConfig cfg, Models.Transformer.CausalLM model)
    {
        TrainerSetup.PlaceModels(cfg.Device, cfg.Dtype, model);
        return model;
    }
}
