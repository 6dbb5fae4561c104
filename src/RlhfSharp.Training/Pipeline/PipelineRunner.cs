using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Sampling;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Pipeline;

/// <summary>One policy's row of the final comparison.</summary>
public sealed record PolicyRow(string Name, double? Gold, double? WinRateVsSft, double KlToSft, double ResponseWords, double? TrainSeconds)
{
    /// <summary>The same numbers per skill of the held-out prompts (<see cref="SkillBreakdown"/>); empty when they have no skills.</summary>
    public IReadOnlyList<SkillRow> Skills { get; init; } = [];
}

/// <summary>
/// Runs the stages of <see cref="PipelineConfig"/> into one folder (a stage whose summary.json
/// exists is kept, so an interrupted pipeline continues where it stopped), then answers the same
/// held-out prompts with every policy, sampled at temperature 1 from one seed, and compares them
/// with the SFT policy: gold score and win rate (when the data has a gold scorer), the sampled KL
/// to the SFT policy, Σ_t log π − log π_sft per response averaged, and response length; the same per
/// skill of the held-out prompts when they name one (<see cref="HeldOutSkills"/>), with the share of ideal answers.
/// </summary>
public static class PipelineRunner
{
    private static readonly JsonSerializerOptions ResponsesJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const string ResultsFile = "results.json", TableFile = "results.md";

    /// <summary>
    /// Every compared policy's response to each held-out prompt, one JSON object a prompt:
    /// <c>{"prompt": "...", "responses": {"sft": {"text": "...", "gold": 0.5}, "ppo": {...}}}</c>
    /// (<c>gold</c> only when the data has a gold scorer). Not <c>samples.jsonl</c>: that name is the
    /// text log of a stage's run folder, with another layout.
    /// </summary>
    public const string ResponsesFile = "responses.jsonl";

    /// <param name="stageYaml">Each stage's config text (the example configs), by stage name.</param>
    public static JsonObject Run(PipelineConfig cfg, string runDir, IReadOnlyDictionary<string, string> stageYaml, IProgressReporter? progress = null, TextWriter? log = null)
    {
        progress ??= NullProgress.Instance;
        log ??= TextWriter.Null;
        if (cfg.Threads > 0)
            Engine.Threads = cfg.Threads;
        if (!cfg.SeedSft)
            return RunOnce(cfg, runDir, stageYaml, progress, log).Result;
        var (folder, data) = Prepare(cfg, runDir, log);
        return SeedChains.Run(cfg, folder, data, GoldScorer.TryCreate(data) is not null, (seed, dir) => RunOnce(cfg.ForSeed(seed, data), dir, stageYaml, progress, log), log);
    }

    // The run folder (with the resolved config) and the data: the built-in task, written once with
    // the pipeline's seed, unless data is given. On several ranks (mpirun) rank 0 writes, the others wait.
    private static (RunFolder Folder, string Data) Prepare(PipelineConfig cfg, string runDir, TextWriter log)
    {
        var comm = World.Current;
        var full = Path.GetFullPath(runDir);
        var folder = comm.IsMain ? RunFolder.Create(Path.GetDirectoryName(full)!, Path.GetFileName(full), allowExisting: true) : RunFolder.At(full);
        if (comm.IsMain)
            folder.WriteConfig(ConfigWriter.ToYaml(cfg));
        string data = cfg.Data ?? Path.Combine(folder.Path, "data");
        if (comm.IsMain && cfg.Data is null && !File.Exists(Path.Combine(data, BuiltinTaskGenerator.StatsFileName)))
        {
            log.WriteLine($"[data] writing the built-in task to {data}");
            BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { Seed = (ulong)cfg.Seed });
        }
        comm.Barrier("pipeline data");
        return (folder, data);
    }

    // One chain of stages and its comparison; the comparison's rows too (none on ranks other than 0).
    private static (JsonObject Result, List<PolicyRow> Rows) RunOnce(PipelineConfig cfg, string runDir, IReadOnlyDictionary<string, string> stageYaml, IProgressReporter progress, TextWriter log)
    {
        // On several ranks (mpirun) the trainers run data-parallel; rank 0 alone writes the data,
        // labels and compares, and the others wait for it between stages.
        var comm = World.Current;
        var (folder, data) = Prepare(cfg, runDir, log);
        string Stage(string name) => Path.Combine(folder.Path, name);
        bool hasGold = GoldScorer.TryCreate(data) is not null;
        // The held-out prompts and their skills are read now, so that a bad skill field stops the run before any training.
        var heldOut = HeldOut(data, cfg, hasGold);
        var summaries = new Dictionary<string, JsonObject>();
        string sftModel = cfg.Model ?? Path.Combine(Stage("sft"), "model");

        // Each policy stage runs once per seed; the inputs (sft, label, rm) once.
        var runs = cfg.Stages.SelectMany(stage => PipelineStages.IsPolicy(stage)
            ? cfg.PolicySeeds.Select(seed => (Stage: stage, Seed: seed, Name: cfg.PolicyRun(stage, seed)))
            : [(Stage: stage, Seed: cfg.Seed, Name: stage)]).ToList();
        int steps = runs.Count + 1; // the stages, then the comparison
        // The ppo stage in rounds (rounds > 1): round k's runs are folders of their own beside the stages, shown as the stage's place in the job.
        RoundsRun Rounds(string name, int seed, int index = 0) => new(cfg, name, seed, data, [$"data={data}", $"threads={cfg.Threads}", $"device={cfg.Device}", $"dtype={cfg.Dtype}"],
            sftModel, Path.Combine(Stage("rm"), "model"), summaries.ContainsKey("label") ? Stage("label") : null, stageYaml, Stage,
            run => new StageProgress(progress, index + 1, steps, run), log);
        for (int index = 0; index < runs.Count; index++)
        {
            var (stage, seed, name) = runs[index];
            var stageProgress = new StageProgress(progress, index + 1, steps, name);
            string dir = Stage(name);
            // The rounds keep their finished runs themselves (PpoRounds); a ppo folder of an earlier one-round run is not theirs.
            if (!(stage == "ppo" && cfg.Rounds > 1) && File.Exists(Path.Combine(dir, RunFolder.SummaryFileName)))
            {
                log.WriteLine($"[{name}] already done in {dir}");
                summaries[name] = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFolder.SummaryFileName)))!;
                continue;
            }
            if (stage == "label" && !hasGold)
            {
                log.WriteLine("[label] skipped: the data has no gold scorer to label the SFT policy's answers with; the reward model trains on the data's own pairs");
                continue;
            }
            bool resume = Directory.Exists(dir) && new Checkpointing.CheckpointStore(dir).List().Count > 0;
            var common = new List<string> { $"data={data}", $"seed={seed}", $"threads={cfg.Threads}", $"device={cfg.Device}", $"dtype={cfg.Dtype}" };
            string yaml = stageYaml.TryGetValue(stage, out var y) ? y : throw new ArgumentException($"no config text for stage {stage}", nameof(stageYaml));
            string source = $"examples/{stage}.yaml";
            string Rm() => Path.Combine(Stage("rm"), "model");
            if (stage == "label" && !comm.IsMain)
            {
                // Labelling is not data-parallel: rank 0 labels, the others read its summary.
                comm.Barrier("label stage");
                summaries[name] = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFolder.SummaryFileName)))!;
                continue;
            }
            summaries[name] = stage switch
            {
                "sft" => SftTrainer.Run(PipelineStages.Scaled(ConfigBinder.LoadFromText<SftConfig>(yaml, source, [.. common, .. cfg.Model is null ? Array.Empty<string>() : [$"model={cfg.Model}"]]), cfg), dir, resume, stageProgress),
                "label" => Labeller.Run(ScaledLabel(ConfigBinder.LoadFromText<LabelConfig>(yaml, source, [.. common, $"model={sftModel}"]), cfg, data), dir, stageProgress),
                "rm" => RewardTrainer.Run(PipelineStages.Scaled(WithLabels(ConfigBinder.LoadFromText<RewardConfig>(yaml, source, [.. common, $"model={sftModel}"]), summaries.ContainsKey("label") ? Stage("label") : null), cfg), dir, resume, stageProgress),
                "ppo" when cfg.Rounds > 1 => PpoRounds.Run(Rounds(name, seed, index)),
                _ => PipelineStages.Run(stage, new PolicyStageRun(yaml, source, [.. common, $"model={sftModel}"], cfg.Stages.Contains("rm") ? Rm() : null, hasGold,
                    summaries.ContainsKey("label") ? Path.Combine(Stage("label"), Labeller.OutputFileName) : null, dir, resume, stageProgress, cfg)),
            };
            // The next stage reads what rank 0 wrote at the end of this one (the trained model).
            comm.Barrier($"{name} stage");
        }
        if (!comm.IsMain)
        {
            comm.Barrier("pipeline comparison");
            return (new JsonObject { ["stage"] = "pipeline", ["data"] = data, ["gold_scorer"] = hasGold }, []);
        }

        var policies = new List<(string Name, string Model)> { ("sft", sftModel) };
        foreach (var (stage, seed, name) in runs.Where(r => PipelineStages.IsPolicy(r.Stage)))
            policies.Add((name, stage == "ppo" && cfg.Rounds > 1 ? PpoRounds.FinalModel(Rounds(name, seed)) : Path.Combine(Stage(name), "model")));
        var (rows, answers) = Compare(policies, heldOut, data, cfg, summaries, new StageProgress(progress, steps, steps));
        var result = new JsonObject { ["stage"] = "pipeline", ["data"] = data, ["gold_scorer"] = hasGold };
        var table = new JsonArray();
        foreach (var r in rows)
        {
            table.Add(new JsonObject
            {
                ["policy"] = r.Name,
                ["eval/gold_score"] = r.Gold,
                ["eval/win_rate_vs_sft"] = r.WinRateVsSft,
                ["eval/kl_to_sft"] = r.KlToSft,
                ["eval/response_words"] = r.ResponseWords,
                ["time/total_s"] = r.TrainSeconds,
            });
            if (r.Skills.Count > 0)
                table[^1]!["per_skill"] = SkillRow.ToJson(r.Skills);
            if (cfg.Seeds.Count > 0 && runs.FirstOrDefault(x => x.Name == r.Name && PipelineStages.IsPolicy(x.Stage)) is { Stage: not null } run)
            {
                table[^1]!["stage"] = run.Stage;
                table[^1]!["seed"] = run.Seed;
            }
            if (summaries.TryGetValue(r.Name, out var s) && s["rounds"] is JsonArray rounds)
                table[^1]!["rounds"] = rounds.DeepClone();
        }
        result["policies"] = table;
        var spread = cfg.Seeds.Count > 0 ? SeedSpread.Of(rows, PipelineStages.PolicyStages(cfg.Stages), cfg.Seeds, cfg.PolicyRun) : [];
        if (spread.Count > 0)
            result["over_seeds"] = new JsonArray([.. spread.Select(x => (JsonNode)x.ToJson())]);
        if (summaries.TryGetValue("rm", out var rm) && rm["eval/accuracy"] is { } acc)
            result["rm/eval_accuracy"] = acc.GetValue<double>();
        var times = new JsonObject();
        foreach (var (stage, s) in summaries)
            times[stage] = s["time/total_s"]?.GetValue<double>();
        result["time/stages_s"] = times;
        string text = Table(rows, result["rm/eval_accuracy"]?.GetValue<double>(), summaries) + SeedSpread.Table(spread) + RoundsTable.Markdown(table) + SkillText(rows, spread, cfg);
        folder.WriteFileAtomic(TableFile, text);
        folder.WriteFileAtomic(ResponsesFile, ResponsesJsonl(answers, cfg.EvalSamples));
        folder.WriteFileAtomic(ResultsFile, result.ToJsonString(TrainerSetup.Indented));
        log.Write(text);
        comm.Barrier("pipeline comparison");
        return (result, rows);
    }

    // The label stage answers a steps_scale share of its prompts, as the trainers take that share of their steps.
    internal static LabelConfig ScaledLabel(LabelConfig cfg, PipelineConfig p, string data)
    {
        if (p.StepsScale == 1)
            return cfg;
        int prompts = cfg.MaxPrompts > 0 ? cfg.MaxPrompts
            : PromptDataset.Load(TrainerSetup.DataFile(cfg.PromptsFile, data, BuiltinTaskGenerator.PromptsTrainFileName, "prompts_file", required: true)!).Count;
        cfg.MaxPrompts = Math.Max(8, (int)Math.Round(prompts * p.StepsScale));
        return cfg;
    }

    // The reward model trains on the data's pairs and, when the label stage ran, on its labelled pairs and
    // ties of the SFT policy's answers (what examples/rm.yaml names as runs/label/prefs_train.jsonl and ties.jsonl).
    private static RewardConfig WithLabels(RewardConfig cfg, string? labelDir) => WithLabels(cfg, labelDir is null ? [] : [labelDir]);

    /// <summary>
    /// The reward model's config with the labelled pairs and ties of <paramref name="labelDirs"/> added to its
    /// training data. A file the labeller left empty (every pair tied, or none) is left out: the loader
    /// refuses a file without data lines, and there is nothing in it to learn.
    /// </summary>
    internal static RewardConfig WithLabels(RewardConfig cfg, IEnumerable<string> labelDirs)
    {
        static bool HasLines(string file) => new FileInfo(file) is { Exists: true, Length: > 0 };
        cfg.ExtraTrainFiles = [.. labelDirs.Select(d => Path.Combine(d, Labeller.OutputFileName)).Where(HasLines)];
        cfg.TiesFiles = [.. labelDirs.Select(d => Path.Combine(d, Labeller.TiesFileName)).Where(HasLines)];
        return cfg;
    }

    // The data folder's held-out prompts (JSONL or Parquet; the first eval_prompts) with each one's skill
    // (null when they have none); null without held-out prompts.
    private static (List<PromptExample> Prompts, IReadOnlyList<string>? Skills)? HeldOut(string data, PipelineConfig cfg, bool hasGold)
    {
        if (TrainerSetup.DataFile(null, data, BuiltinTaskGenerator.PromptsEvalFileName, "data", required: false) is not { } promptsFile)
            return null;
        var prompts = PromptDataset.Load(promptsFile, new DataLoadOptions()).ToList();
        if (cfg.EvalPrompts > 0)
            prompts = [.. prompts.Take(cfg.EvalPrompts)];
        return (prompts, HeldOutSkills.Of(prompts, hasGold));
    }

    private static (List<PolicyRow> Rows, List<PolicyAnswers> Answers) Compare(List<(string Name, string Model)> policies,
        (List<PromptExample> Prompts, IReadOnlyList<string>? Skills)? heldOut, string data, PipelineConfig cfg,
        Dictionary<string, JsonObject> summaries, IProgressReporter progress)
    {
        // Without held-out prompts there is nothing to compare.
        if (heldOut is not { } held)
            return ([], []);
        var tokenizer = BpeTokenizer.FromDirectory(policies[0].Model);
        var template = TrainerSetup.Template("chatml");
        // Each prompt answered eval_samples times by every policy (the list repeated), as rlhf eval does.
        int rounds = Math.Max(1, cfg.EvalSamples);
        var prompts = PolicyEvaluator.InRounds(held.Prompts, rounds);
        IReadOnlyList<string>? skills = held.Skills is null ? null : [.. Enumerable.Repeat(held.Skills, rounds).SelectMany(x => x)];
        var promptTexts = prompts.Select(PolicyEvaluator.PromptText).ToList();
        var gold = TrainerSetup.Gold(data);
        var collator = new PromptCollator(tokenizer, template, new CollatorOptions { MaxPromptLength = PolicyComparison.MaxPromptLength, PadTokenId = tokenizer.PadTokenId });
        var gen = TrainerSetup.EvalGeneration(PolicyComparison.MaxNewTokens, 1f, tokenizer);
        foreach (var (_, dir) in policies)
            TokenizerModelCheck.Check(tokenizer, policies[0].Model, dir);
        var sft = PretrainedIO.LoadCausalLM(policies[0].Model);
        TrainerSetup.PlaceModels(cfg.Device, cfg.Dtype, sft);
        double[]? sftGold = null;
        var rows = new List<PolicyRow>();
        var answers = new List<PolicyAnswers>();
        progress.Begin("compare", policies.Count, 0);
        foreach (var (name, dir) in policies)
        {
            var policy = name == "sft" ? sft : PretrainedIO.LoadCausalLM(dir);
            if (!ReferenceEquals(policy, sft))
                TrainerSetup.PlaceModels(cfg.Device, cfg.Dtype, policy);
            double klSum = 0;
            var kl = new List<double>(prompts.Count); // per answer, for the per-skill numbers
            var texts = PolicyComparison.Answer(policy, collator, tokenizer, prompts, gen, PolicyComparison.SampleSeed(cfg.Seed), rollout =>
            {
                if (ReferenceEquals(policy, sft))
                {
                    kl.AddRange(Enumerable.Repeat(0.0, rollout.Count));
                    return;
                }
                var a = Rollouts.LogProbs(policy, rollout, 1f).ToArray(); // [B, T]
                var b = Rollouts.LogProbs(sft, rollout, 1f).ToArray();
                for (int i = 0; i < a.Length; i++)
                    klSum += a[i] - b[i]; // both are 0 past each response's end
                int t = rollout.ResponseColumns;
                for (int r = 0; r < rollout.Count; r++)
                {
                    double row = 0;
                    for (int j = r * t; j < (r + 1) * t; j++)
                        row += a[j] - b[j];
                    kl.Add(row);
                }
            });
            var g = gold?.Score(promptTexts, texts);
            if (name == "sft")
                sftGold = g;
            double? win = g is not null && sftGold is not null && name != "sft" ? PolicyEvaluator.WinRate(g, sftGold) : null;
            rows.Add(new PolicyRow(name, g?.Average(), win, klSum / prompts.Count, PolicyComparison.MeanWords(texts),
                summaries.TryGetValue(name, out var s) ? s["time/total_s"]?.GetValue<double>() : null)
            {
                Skills = skills is null ? [] : SkillBreakdown.Of(skills, rounds, g, name == "sft" ? null : sftGold, kl, texts),
            });
            answers.Add(new PolicyAnswers(name, promptTexts, texts, g));
            var shown = new Dictionary<string, double> { ["eval/response_words"] = rows[^1].ResponseWords };
            if (g is not null)
                shown["eval/gold_score"] = g.Average();
            progress.Update(rows.Count, shown);
        }
        progress.End();
        return (rows, answers);
    }

    // One line per prompt and sample with every policy's response (and gold score) to it; the
    // prompts come in eval_samples rounds, "sample" numbering the round.
    private static string ResponsesJsonl(List<PolicyAnswers> answers, int samples)
    {
        var sb = new StringBuilder();
        int count = answers.Count == 0 ? 0 : answers[0].Prompts.Count;
        int perRound = Math.Max(1, count / Math.Max(1, samples));
        for (int i = 0; i < count; i++)
        {
            var responses = new JsonObject();
            foreach (var a in answers)
            {
                var r = new JsonObject { ["text"] = a.Responses[i] };
                if (a.Gold is { } g)
                    r["gold"] = g[i];
                responses[a.Name] = r;
            }
            sb.Append(new JsonObject { ["prompt"] = answers[0].Prompts[i], ["sample"] = i / perRound, ["responses"] = responses }.ToJsonString(ResponsesJson)).Append('\n');
        }
        return sb.ToString();
    }

    // The per-skill tables: every policy's own numbers, or, with seeds, SFT and each stage's mean over its seeds.
    private static string SkillText(List<PolicyRow> rows, List<SeedSpread> spread, PipelineConfig cfg)
    {
        if (rows.Count == 0)
            return "";
        if (spread.Count == 0)
            return SkillTables.Markdown([.. rows.Select(r => (r.Name, r.Skills))]);
        return SkillTables.Markdown([(rows[0].Name, rows[0].Skills), .. spread.Select(s => (s.Stage, (IReadOnlyList<SkillRow>)[.. s.Skills.Select(k => k.Mean)]))],
            $"policy stages: mean over seeds {string.Join(", ", cfg.Seeds)}; each seed's numbers and the std are in {ResultsFile}");
    }

    private sealed record PolicyAnswers(string Name, IReadOnlyList<string> Prompts, IReadOnlyList<string> Responses, double[]? Gold);

    private static string Table(List<PolicyRow> rows, double? rmAccuracy, Dictionary<string, JsonObject> summaries)
    {
        static string F(double? v, string format) => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "—";
        var sb = new StringBuilder();
        sb.AppendLine("| policy | gold score | win rate vs SFT | KL to SFT | response words | train time (s) |");
        sb.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Name} | {F(r.Gold, "F3")} | {F(r.WinRateVsSft, "F3")} | {F(r.KlToSft, "F2")} | {F(r.ResponseWords, "F1")} | {F(r.TrainSeconds, "F0")} |");
        sb.AppendLine();
        if (rmAccuracy is { } acc)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Reward model held-out accuracy: {acc:F3}"));
        sb.AppendLine("Stage times (s): " + string.Join(", ", summaries.Select(s => $"{s.Key} {F(s.Value["time/total_s"]?.GetValue<double>(), "F0")}")));
        return sb.ToString();
    }
}
