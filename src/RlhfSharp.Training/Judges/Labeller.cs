using System.Text.Json.Nodes;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Judges;

/// <summary>
/// RLAIF labelling: samples responses from a policy, asks a judge which of each pair is better,
/// and writes the pairs it preferred as preference JSONL (<c>prefs_train.jsonl</c>, the format
/// <c>rlhf rm</c> and <c>rlhf dpo</c> read; an extra "judge" field names who labelled it). Ties and
/// identical responses are counted and left out. When the data has a gold scorer, summary.json
/// reports how often the judge agrees with it.
/// </summary>
public static class Labeller
{
    public const string OutputFileName = "prefs_train.jsonl";

    public static JsonObject Run(LabelConfig cfg, string outDir, IProgressReporter? progress = null)
    {
        progress ??= NullProgress.Instance;
        if (cfg.Threads > 0)
            Engine.Threads = cfg.Threads;
        var promptsFile = TrainerSetup.DataFile(cfg.PromptsFile, cfg.Data, "prompts_train.jsonl", "prompts_file", required: true)!;
        var tokenizer = TrainerSetup.LoadTokenizer(cfg.Tokenizer, cfg.Model, cfg.Data);
        var template = TrainerSetup.Template(cfg.ChatTemplate);
        var gold = TrainerSetup.Gold(cfg.Data);
        var judge = Judge(cfg, gold);
        using var disposeJudge = judge as IDisposable;
        var prompts = PromptDataset.Load(promptsFile, new DataLoadOptions()).ToList();
        if (cfg.MaxPrompts > 0)
            prompts = [.. prompts.Take(cfg.MaxPrompts)];
        var policy = PretrainedIO.LoadCausalLM(TrainerSetup.RequireDir(cfg.Model!, "model"));
        var collator = new PromptCollator(tokenizer, template, new CollatorOptions { MaxPromptLength = cfg.MaxPromptLength, PadTokenId = tokenizer.PadTokenId });
        var gen = TrainerSetup.EvalGeneration(cfg.MaxNewTokens, cfg.Temperature, tokenizer);
        var rng = new Generator((ulong)cfg.Seed);

        var folder = RunFolder.Create(Path.GetDirectoryName(Path.GetFullPath(outDir))!, Path.GetFileName(Path.GetFullPath(outDir)), allowExisting: true);
        folder.WriteConfig(Configuration.ConfigWriter.ToYaml(cfg));
        var lines = new List<string>();
        int ties = 0, identical = 0, empty = 0, goldAgree = 0, goldDisagree = 0, goldTies = 0;
        int k = cfg.SamplesPerPrompt;
        progress.Begin("label", prompts.Count, 0);
        for (int start = 0; start < prompts.Count; start += cfg.BatchSize)
        {
            var chunk = prompts.Skip(start).Take(cfg.BatchSize).ToList();
            var rows = chunk.SelectMany(p => Enumerable.Repeat(p, k)).ToList();
            var texts = Rollouts.Generate(policy, collator, tokenizer, rows, gen, rng).Texts;
            var items = new List<JudgeItem>();
            for (int p = 0; p < chunk.Count; p++)
            {
                for (int j = 0; j < k; j += 2)
                {
                    string a = texts[(p * k) + j], b = texts[(p * k) + j + 1];
                    if (string.IsNullOrWhiteSpace(a) || string.IsNullOrWhiteSpace(b))
                        empty++; // the trainers reject empty responses, so such a pair cannot be written
                    else if (a == b)
                        identical++;
                    else
                        items.Add(new JudgeItem(chunk[p].Messages, a, b));
                }
            }
            var verdicts = judge.Judge(items);
            var goldVerdicts = gold is null ? null : new ScoringJudge(gold).Judge(items);
            for (int i = 0; i < items.Count; i++)
            {
                if (verdicts[i] == Verdict.Tie)
                {
                    ties++;
                    continue;
                }
                var (chosen, rejected) = verdicts[i] == Verdict.A ? (items[i].A, items[i].B) : (items[i].B, items[i].A);
                var line = new JsonObject { ["prompt"] = items[i].PromptText, ["chosen"] = chosen, ["rejected"] = rejected, ["judge"] = judge.Name };
                if (items[i].Prompt.Count > 1)
                    line["prompt"] = new JsonArray([.. items[i].Prompt.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
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
            progress.Update(Math.Min(start + cfg.BatchSize, prompts.Count), new Dictionary<string, double> { ["pairs"] = lines.Count });
        }
        progress.End();
        folder.WriteFileAtomic(OutputFileName, string.Concat(lines.Select(l => l + "\n")));
        var summary = new JsonObject
        {
            ["stage"] = "label",
            ["judge"] = judge.Name,
            ["prompts"] = prompts.Count,
            ["pairs"] = lines.Count,
            ["judge_ties"] = ties,
            ["identical_responses"] = identical,
            ["empty_responses"] = empty,
            ["file"] = Path.Combine(folder.Path, OutputFileName),
        };
        if (gold is not null)
        {
            summary["gold/agreement"] = goldAgree + goldDisagree == 0 ? null : (double)goldAgree / (goldAgree + goldDisagree);
            summary["gold/ties"] = goldTies;
        }
        folder.WriteSummary(summary);
        return summary;
    }

    private static IPreferenceJudge Judge(LabelConfig cfg, IRewardSource? gold) => cfg.Judge switch
    {
        "local_lm" => new LocalLmJudge(PretrainedIO.LoadCausalLM(TrainerSetup.RequireDir(cfg.JudgeModel!, "judge_model")), BpeTokenizer.FromDirectory(cfg.JudgeModel!), TrainerSetup.Template(cfg.ChatTemplate)),
        "http" => new HttpJudge(new HttpJudgeOptions
        {
            BaseUrl = cfg.JudgeUrl!,
            Model = cfg.JudgeModel!,
            ApiKeyEnvironmentVariable = cfg.JudgeApiKeyEnv,
            Timeout = TimeSpan.FromSeconds(cfg.JudgeTimeoutS),
            MaxRetries = cfg.JudgeMaxRetries,
        }),
        "gold" => new ScoringJudge(gold ?? throw new TrainingSetupException($"judge: gold needs a data folder written by `rlhf data builtin` (data: {cfg.Data ?? "not set"})")),
        _ => new ScoringJudge(Constitution.Load(cfg.Constitution ?? (cfg.Data is null
            ? throw new TrainingSetupException("judge: constitution needs a constitution file (config key 'constitution') or a data folder that holds constitution.yaml")
            : Path.Combine(cfg.Data, "constitution.yaml")))),
    };
}
