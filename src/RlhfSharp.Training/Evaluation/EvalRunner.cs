using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Evaluation;

/// <summary>
/// One model's answers in an <c>rlhf eval</c> comparison, with the judge's score of each and, for
/// sampled answers, the KL of the model to the first one listed (the baseline, e.g. the SFT model):
/// the mean over its answers of Σ_t log π(y_t) − log π_first(y_t), at the sampling temperature.
/// </summary>
public sealed record EvalModelResult(string Name, string Dir, IReadOnlyList<string> Responses, double[] Scores, double? KlToFirst = null)
{
    public double MeanScore => Scores.Length == 0 ? double.NaN : Scores.Average();

    public double MeanWords => PolicyComparison.MeanWords(Responses);
}

/// <summary>
/// The outcome of <c>rlhf eval</c>: per model the mean score, and the win rate of every model (row)
/// against every other (column) on the same prompts, ties counting half.
/// </summary>
/// <param name="Unjudged">Prompts the gold scorer does not know (not built-in task prompts), left out of a gold evaluation; the first one's file and line.</param>
/// <param name="Skills">The skill of each answer's prompt (<see cref="HeldOutSkills"/>), in the answers' order; null when the prompts name none.</param>
public sealed record EvalComparison(string Judge, string? RewardModel, int Prompts, float Temperature, int Seed, IReadOnlyList<EvalModelResult> Models, double[,] WinRate, int SamplesPerPrompt = 1,
    (int Count, string Source, int FirstLine)? Unjudged = null, IReadOnlyList<string>? Skills = null)
{
    private string ScoreName => Judge == "gold" ? "mean gold" : "mean reward";

    /// <summary>
    /// Per skill, in ordinal order of the names: its number of distinct prompts and the mean score of
    /// its answers for each model (in <see cref="Models"/> order). Empty without <see cref="Skills"/>.
    /// </summary>
    public IReadOnlyList<(string Skill, int Prompts, double[] MeanScores)> PerSkill()
    {
        if (Skills is null)
            return [];
        return [.. HeldOutSkills.Groups(Skills).Select(g => (g.Skill, g.Answers.Count / Math.Max(1, SamplesPerPrompt),
            Models.Select(m => g.Answers.Average(k => m.Scores[k])).ToArray()))];
    }

    public JsonObject ToJson()
    {
        var perSkill = PerSkill();
        var models = new JsonArray();
        for (int i = 0; i < Models.Count; i++)
        {
            var m = Models[i];
            var entry = new JsonObject { ["name"] = m.Name, ["path"] = m.Dir, ["mean_score"] = m.MeanScore, ["response_words"] = m.MeanWords, ["kl_to_first"] = m.KlToFirst };
            if (perSkill.Count > 0)
            {
                var bySkill = new JsonObject();
                foreach (var (skill, _, means) in perSkill)
                    bySkill[skill] = means[i];
                entry["per_skill"] = bySkill;
            }
            models.Add(entry);
        }
        var matrix = new JsonArray();
        for (int i = 0; i < Models.Count; i++)
        {
            var row = new JsonArray();
            for (int j = 0; j < Models.Count; j++)
                row.Add(i == j ? null : JsonValue.Create(WinRate[i, j]));
            matrix.Add(row);
        }
        return new JsonObject
        {
            ["judge"] = Judge,
            ["reward_model"] = RewardModel,
            ["prompts"] = Prompts,
            ["samples_per_prompt"] = SamplesPerPrompt,
            ["temperature"] = Temperature,
            ["seed"] = Seed,
            ["models"] = models,
            ["win_rate"] = matrix,
            ["prompts_left_out"] = Unjudged?.Count ?? 0,
            ["skill_prompts"] = perSkill.Count == 0 ? null : new JsonObject(perSkill.Select(r => KeyValuePair.Create(r.Skill, (JsonNode?)r.Prompts))),
        };
    }

    /// <summary>The per-model table and the win-rate matrix (row beats column) as Markdown.</summary>
    public string FormatTables()
    {
        static string F(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Judged by the {(Judge == "gold" ? "gold scorer" : $"reward model {RewardModel}")} on {Prompts} prompts ({(Temperature > 0 ? $"{SamplesPerPrompt} sampled answer{(SamplesPerPrompt == 1 ? "" : "s")} each at temperature {Temperature:G3}" : "greedy")}, seed {Seed})."));
        if (Unjudged is { } left)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{(left.Count == 1 ? "1 prompt is not a built-in task prompt" : $"{left.Count} prompts are not built-in task prompts")}: the gold scorer cannot judge {(left.Count == 1 ? "it, so it was" : "them, so they were")} left out (the first is {left.Source} line {left.FirstLine}); give --reward_model DIR to judge every prompt."));
        sb.AppendLine();
        bool kl = Models.Count > 1 && Temperature > 0;
        sb.AppendLine($"| model | {ScoreName} | response words |{(kl ? $" KL to {Models[0].Name} |" : "")}");
        sb.AppendLine(kl ? "|---|---|---|---|" : "|---|---|---|");
        foreach (var m in Models)
            sb.AppendLine($"| {m.Name} | {F(m.MeanScore, "F3")} | {F(m.MeanWords, "F1")} |{(kl ? $" {F(m.KlToFirst ?? double.NaN, "F3")} |" : "")}");
        var perSkill = PerSkill();
        if (perSkill.Count > 1)
        {
            sb.AppendLine();
            sb.AppendLine($"{char.ToUpperInvariant(ScoreName[0])}{ScoreName[1..]} per skill of the prompts:");
            sb.AppendLine();
            sb.AppendLine("| skill | prompts | " + string.Join(" | ", Models.Select(m => m.Name)) + " |");
            sb.AppendLine("|---|---|" + string.Concat(Models.Select(_ => "---|")));
            foreach (var (skill, prompts, means) in perSkill)
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {skill} | {prompts} | ") + string.Join(" | ", means.Select(v => F(v, "F3"))) + " |");
        }
        if (Models.Count < 2)
            return sb.ToString();
        sb.AppendLine();
        sb.AppendLine("Win rate of the row's model against the column's (ties count half):");
        sb.AppendLine();
        sb.AppendLine("| | " + string.Join(" | ", Models.Select(m => m.Name)) + " |");
        sb.AppendLine("|---|" + string.Concat(Models.Select(_ => "---|")));
        for (int i = 0; i < Models.Count; i++)
            sb.AppendLine($"| {Models[i].Name} | " + string.Join(" | ", Enumerable.Range(0, Models.Count).Select(j => F(WinRate[i, j], "F3"))) + " |");
        return sb.ToString();
    }
}

/// <summary>
/// Runs <see cref="EvalConfig"/>: every model answers the same prompts from the same sample stream
/// (<see cref="PolicyComparison"/>, as <c>rlhf pipeline</c> does), one judge scores all answers.
/// </summary>
public static class EvalRunner
{
    public static EvalComparison Run(EvalConfig cfg, IProgressReporter? progress = null)
    {
        progress ??= NullProgress.Instance;
        if (cfg.Threads > 0)
            Engine.Threads = cfg.Threads;
        var models = cfg.ModelList();
        var names = Names(models);
        foreach (var (_, dir) in models)
            TrainerSetup.RequireDir(dir, "models");
        var promptsFile = TrainerSetup.DataFile(cfg.PromptsFile, cfg.Data, "prompts_eval.jsonl", "prompts_file", required: true)!;
        var prompts = PromptDataset.Load(promptsFile, new DataLoadOptions()).ToList();
        if (cfg.EvalPrompts > 0)
            prompts = [.. prompts.Take(cfg.EvalPrompts)];
        if (prompts.Count == 0)
            throw new TrainingSetupException($"{promptsFile}: no prompts to answer");
        var template = TrainerSetup.Template(cfg.ChatTemplate, TrainerSetup.TokenizerDir(null, models[0].Item2, cfg.Data));
        IRewardSource judge = cfg.RewardModel is { } rm
            ? Placed(cfg, RewardModelSource.Load(TrainerSetup.RequireDir(rm, "reward_model"), template, cfg.MaxPromptLength + cfg.MaxNewTokens + 8, cfg.MaxPromptLength))
            : TrainerSetup.Gold(cfg.Data) ?? throw new TrainingSetupException(cfg.Data is null
                ? "no data folder, so no gold scorer to judge the answers; give data (--data DIR, the built-in task's folder) or reward_model (--reward_model DIR)"
                : $"{cfg.Data}: this data folder has no gold scorer (only the built-in task's has one), so nothing can judge the answers; give reward_model (--reward_model DIR) to judge with a reward model");
        (int, string, int)? unjudged = null;
        if (judge is GoldRewardSource)
            (prompts, unjudged) = GoldJudgeable(prompts);
        var skills = HeldOutSkills.Of(prompts, builtinTask: TrainerSetup.Gold(cfg.Data) is not null);
        int distinctPrompts = prompts.Count, samples = cfg.Temperature > 0 ? cfg.SamplesPerPrompt : 1;
        // Several sampled answers per prompt: every model answers the list repeated, for a less noisy win rate.
        if (samples > 1)
        {
            prompts = PolicyEvaluator.InRounds(prompts, samples);
            skills = skills is null ? null : PolicyEvaluator.InRounds(skills, samples);
        }
        var dialogues = prompts.Select(p => p.Messages).ToList();

        var results = new List<EvalModelResult>();
        // Sampled answers also measure each model's KL to the first one, which stays loaded for it.
        CausalLM? first = null;
        progress.Begin("eval", models.Count, 0);
        for (int i = 0; i < models.Count; i++)
        {
            string dir = models[i].Dir;
            var tokenizerDir = TrainerSetup.TokenizerDir(null, dir, cfg.Data);
            var tokenizer = BpeTokenizer.FromDirectory(tokenizerDir);
            TokenizerModelCheck.Check(tokenizer, tokenizerDir, dir);
            var collator = new PromptCollator(tokenizer, template, new CollatorOptions { MaxPromptLength = cfg.MaxPromptLength, PadTokenId = tokenizer.PadTokenId });
            var gen = TrainerSetup.EvalGeneration(cfg.MaxNewTokens, cfg.Temperature, tokenizer);
            var policy = PretrainedIO.LoadCausalLM(dir);
            TrainerSetup.PlaceModels(cfg.Device, cfg.Dtype, policy);
            bool measureKl = cfg.Temperature > 0 && models.Count > 1;
            if (i == 0 && measureKl)
                first = policy;
            else if (measureKl && first is not null)
                TokenizerModelCheck.Check(tokenizer, tokenizerDir, models[0].Dir);
            double klSum = 0;
            var texts = PolicyComparison.Answer(policy, collator, tokenizer, prompts, gen, PolicyComparison.SampleSeed(cfg.Seed), rollout =>
            {
                if (first is null || ReferenceEquals(policy, first))
                    return;
                var a = Rollouts.LogProbs(policy, rollout, cfg.Temperature).ToArray();
                var b = Rollouts.LogProbs(first, rollout, cfg.Temperature).ToArray();
                for (int k = 0; k < a.Length; k++)
                    klSum += a[k] - b[k]; // both are 0 past each response's end
            });
            var scores = judge.ScoreDialogues(dialogues, texts);
            double? kl = !measureKl ? null : i == 0 ? 0 : klSum / prompts.Count;
            results.Add(new EvalModelResult(names[i], dir, texts, scores, kl));
            progress.Update(i + 1, new Dictionary<string, double> { [cfg.RewardModel is null ? "eval/gold_score" : "eval/score"] = results[^1].MeanScore });
        }
        progress.End();
        var matrix = PolicyComparison.WinRateMatrix([.. results.Select(r => (IReadOnlyList<double>)r.Scores)]);
        return new EvalComparison(cfg.RewardModel is null ? "gold" : "reward_model", cfg.RewardModel, distinctPrompts, cfg.Temperature, cfg.Seed, results, matrix, samples, unjudged, skills);
    }

    /// <summary>
    /// The prompts the gold scorer can judge (built-in task prompts, read from the last user turn),
    /// and how many others there were with the first one's place. With none left the evaluation
    /// could compute nothing, so that is an error naming the first prompt's file and line.
    /// </summary>
    internal static (List<PromptExample> Known, (int, string, int)? Unjudged) GoldJudgeable(List<PromptExample> prompts)
    {
        static string Text(PromptExample p) => p.Messages.LastOrDefault(m => m.Role == "user")?.Content ?? (p.Messages.Count > 0 ? p.Messages[^1].Content : "");
        var known = prompts.Where(p => TaskPrompts.TryParse(Text(p), out _)).ToList();
        if (known.Count == prompts.Count)
            return (known, null);
        var first = prompts.First(p => !TaskPrompts.TryParse(Text(p), out _));
        if (known.Count == 0)
            throw new TrainingSetupException(
                $"{first.Source}: line {first.Line}: the prompt \"{Shorten(Text(first))}\" is not a built-in task prompt, nor is any of the {prompts.Count} prompts, "
                + "so the gold scorer can judge none of them; give reward_model (--reward_model DIR) to judge them with a reward model, or prompts of the built-in task (e.g. \"What is 7 + 5?\")");
        return (known, (prompts.Count - known.Count, first.Source, first.Line));
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    /// <summary>
    /// A name per model: the one given (NAME=DIR), else the shortest end of its path that no other
    /// model shares (runs/a/ppo/model and runs/a/dpo/model become ppo/model and dpo/model); the same
    /// folder twice gets #2, #3.
    /// </summary>
    internal static List<string> Names(IReadOnlyList<(string? Name, string Dir)> models)
    {
        var paths = models.Select(m => Path.GetFullPath(m.Dir).TrimEnd(Path.DirectorySeparatorChar)).ToList();
        var distinct = paths.Distinct(StringComparer.Ordinal).ToList();
        var parts = distinct.Select(p => p.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries)).ToList();
        var depth = distinct.Select(_ => 1).ToArray();
        string Suffix(int k) => string.Join('/', parts[k].TakeLast(depth[k]));
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var group in Enumerable.Range(0, distinct.Count).GroupBy(Suffix).Where(g => g.Count() > 1))
            {
                foreach (int k in group.Where(k => depth[k] < parts[k].Length))
                {
                    depth[k]++;
                    changed = true;
                }
            }
        }
        var names = models.Select((m, i) => m.Name ?? Suffix(distinct.IndexOf(paths[i]))).ToList();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++)
        {
            int n = seen[names[i]] = seen.GetValueOrDefault(names[i]) + 1;
            if (n > 1)
                names[i] += "#" + n.ToString(CultureInfo.InvariantCulture);
        }
        return names;
    }

    // A reward-model judge on the run's device.
    private static RewardModelSource Placed(EvalConfig cfg, RewardModelSource judge)
    {
        TrainerSetup.PlaceModels(cfg.Device, cfg.Dtype, judge.Model);
        return judge;
    }
}
