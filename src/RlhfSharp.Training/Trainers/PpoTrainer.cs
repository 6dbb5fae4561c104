using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Kl;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Lora;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// <c>rlhf ppo</c>: loads the policy, reference, critic and reward, runs <see cref="PpoLearner"/>
/// steps, evaluates on held-out prompts against the starting policy, checkpoints everything a
/// bit-identical resume needs (weights, optimizer, β, score normaliser, RNG, data position) and
/// writes the final policy as an HF folder.
/// </summary>
public static class PpoTrainer
{
    private const string PolicyName = "policy", CriticName = "critic";

    public static JsonObject Run(PpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        TrainerSetup.ApplyThreads(cfg);
        var promptsFile = TrainerSetup.DataFile(cfg.TrainFile, cfg.Data, "prompts_train.jsonl", "train_file", required: true)!;
        var evalFile = TrainerSetup.DataFile(cfg.EvalFile, cfg.Data, "prompts_eval.jsonl", "eval_file", required: false);
        var tokenizer = TrainerSetup.LoadTokenizer(cfg.Tokenizer, cfg.Model, cfg.Data);
        var template = TrainerSetup.Template(cfg.ChatTemplate);
        var gold = TrainerSetup.Gold(cfg.Data);
        var prompts = PromptDataset.Load(promptsFile, new DataLoadOptions());
        var evalPrompts = evalFile is null ? [] : PromptDataset.Load(evalFile, new DataLoadOptions()).ToList();
        if (cfg.EvalPrompts > 0)
            evalPrompts = [.. evalPrompts.Take(cfg.EvalPrompts)];
        if (prompts.Count < cfg.BatchSize)
            throw new TrainingSetupException($"{promptsFile}: {prompts.Count} prompts, fewer than one rollout batch (batch_size {cfg.BatchSize})");

        var policy = PretrainedIO.LoadCausalLM(TrainerSetup.RequireDir(cfg.Model!, "model"));
        CausalLM? reference = null;
        if (cfg.LoraRank > 0)
        {
            PeftIO.Apply(policy, LoraSettings(cfg), new Generator((ulong)cfg.Seed + 7));
        }
        else
        {
            reference = PretrainedIO.LoadCausalLM(cfg.Model!);
            reference.Freeze();
            if (cfg.RefBf16)
                reference.ToBFloat16();
        }
        policy.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        var critic = LoadCritic(cfg);
        critic.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        var reward = Reward(cfg, template, gold);

        var promptCollator = new PromptCollator(tokenizer, template, new CollatorOptions { MaxPromptLength = cfg.MaxPromptLength, PadTokenId = tokenizer.PadTokenId });
        if (cfg.MaxPromptLength + cfg.ResponseLength > policy.Config.MaxPositions)
            throw new TrainingSetupException($"max_prompt_length ({cfg.MaxPromptLength}) + response_length ({cfg.ResponseLength}) exceeds the model's {policy.Config.MaxPositions} positions");
        var ptx = Ptx(cfg, tokenizer, template, policy);
        var learner = new PpoLearner(cfg, policy, reference, critic, reward, tokenizer, promptCollator, gold, ptx);
        var loader = new DataLoader<PromptExample>(prompts, cfg.BatchSize, seed: (ulong)cfg.Seed, dropLast: true);

        var evaluator = new PolicyEvaluator(tokenizer, promptCollator);
        var evalGen = TrainerSetup.EvalGeneration(cfg.ResponseLength, cfg.EvalTemperature, tokenizer);
        var evalSet = cfg.EvalTemperature > 0 && cfg.EvalSamples > 1 ? [.. Enumerable.Repeat(evalPrompts, cfg.EvalSamples).SelectMany(x => x)] : evalPrompts;
        var models = new Dictionary<string, Module> { [PolicyName] = policy, [CriticName] = critic };

        using var session = TrainingSession.Open(runDir, Configuration.ConfigWriter.ToYaml(cfg), resume, progress, cfg.KeepCheckpoints);
        if (cfg.TopK > 0 || cfg.TopP < 1)
            session.Logger.LogText(0, "warnings", $"top_k={cfg.TopK}, top_p={cfg.TopP}: rollouts are drawn from a truncated distribution while the PPO ratio uses the full softmax, so KL and ratios are biased (negative KL is a symptom). Leave both off unless you know why.");
        long step = 0;
        EvalResult? evalReference;
        session.Progress.Begin("ppo", cfg.MaxSteps, session.ResumeFrom?.Step ?? 0);
        if (session.ResumeFrom is not null)
        {
            var state = session.LoadCheckpoint(models, learner.Optimizer);
            step = state.Step;
            loader.SetState(JsonSerializer.Deserialize<DataLoaderState>(state.GetString("data"))!);
            learner.LoadState(state);
            evalReference = TrainerSetup.LoadReference(session.Folder.Path);
        }
        else
        {
            evalReference = evalSet.Count > 0 ? evaluator.Evaluate(policy, evalSet, evalGen, gold, EvalSeed(cfg)) : null;
            if (evalReference is not null)
            {
                TrainerSetup.SaveReference(session.Folder.Path, evalReference);
                session.Log(0, EvalMetrics(evalReference, null, reward));
            }
        }
        session.Logger.LogText(step, "config/parameters", $"policy {policy.ParameterCount():N0} parameters ({policy.ParameterCount(trainableOnly: true):N0} trainable), critic {critic.ParameterCount():N0}");

        while (step < cfg.MaxSteps)
        {
            step++;
            var batch = loader.NextBatch();
            var stats = learner.Step(batch, (int)step - 1);
            if (step % cfg.LogEvery == 0 || step == cfg.MaxSteps)
                session.Log(step, stats.Metrics);
            bool last = step == cfg.MaxSteps;
            if (evalSet.Count > 0 && (last || (cfg.EvalEvery > 0 && step % cfg.EvalEvery == 0)))
            {
                var result = evaluator.Evaluate(policy, evalSet, evalGen, gold, EvalSeed(cfg));
                session.Log(step, EvalMetrics(result, evalReference, reward));
                for (int i = 0; i < Math.Min(cfg.SampleRollouts, stats.Rollouts.Count); i++)
                    session.Logger.LogText(step, "samples", stats.Rollouts[i].Format());
            }
            if (last || (cfg.SaveEvery > 0 && step % cfg.SaveEvery == 0))
            {
                var state = new TrainerState(step);
                state.Set("data", JsonSerializer.Serialize(loader.GetState()));
                learner.SaveState(state);
                session.SaveCheckpoint(state, models, learner.Optimizer);
            }
        }
        session.Progress.End();

        var summary = new JsonObject { ["stage"] = "ppo", ["steps"] = step, ["parameters"] = policy.ParameterCount() };
        if (evalSet.Count > 0)
        {
            var final = evaluator.Evaluate(policy, evalSet, evalGen, gold, EvalSeed(cfg));
            foreach (var (k, v) in EvalMetrics(final, evalReference, reward))
                summary[k] = v;
            if (evalReference?.Gold is not null)
                summary["eval/gold_score_ref"] = evalReference.MeanGold;
        }
        foreach (var key in new[] { "objective/kl", "objective/kl_coef", "objective/scores", "objective/gold_score" })
            if (learner.LastMetrics.TryGetValue(key, out var v))
                summary[key] = v;
        summary["kl_target"] = cfg.AdaptiveKl ? cfg.KlTarget : null;
        var modelDir = Path.Combine(session.Folder.Path, "model");
        if (cfg.LoraRank > 0)
        {
            PeftIO.Save(policy, LoraSettings(cfg), Path.Combine(session.Folder.Path, "adapter"), cfg.Model);
            foreach (var (_, m) in policy.NamedModules())
                if (m is Linear { Lora: { } lora })
                    lora.Merge();
        }
        PretrainedIO.Save(policy, modelDir);
        TrainerSetup.SaveTokenizer(tokenizer, modelDir);
        summary["model"] = modelDir;
        session.WriteSummary(summary);
        return summary;
    }

    // The evaluation sample stream is fixed, so the policy and its reference are judged on the same draws.
    private static ulong EvalSeed(PpoConfig cfg) => (ulong)cfg.Seed + 1000;

    private static LoraConfig LoraSettings(PpoConfig cfg) => new()
    {
        Rank = cfg.LoraRank,
        Alpha = cfg.LoraAlpha,
        TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "c_attn", "c_proj", "c_fc"],
    };

    private static SequenceScorer LoadCritic(PpoConfig cfg)
    {
        var (path, key) = cfg.ValueModel is not null ? (cfg.ValueModel, "value_model")
            : cfg.RewardModel is not null ? (cfg.RewardModel, "reward_model") : (cfg.Model!, "model");
        var dir = TrainerSetup.RequireDir(path, key);
        var critic = PretrainedIO.LoadScorer(dir, allowNewHead: true);
        if (critic.Score.Weight.Value.ToArray().All(v => v == 0))
            critic.Score.Weight.Assign(new Generator((ulong)cfg.Seed + 2).Normal(critic.Score.Weight.Shape, 0f, 0.02f));
        critic.Train();
        return critic;
    }

    private static IRewardSource Reward(PpoConfig cfg, Text.Chat.ChatTemplate template, IRewardSource? gold)
    {
        IRewardSource? model = cfg.RewardModel is null ? null
            : RewardModelSource.Load(TrainerSetup.RequireDir(cfg.RewardModel, "reward_model"), template, cfg.MaxPromptLength + cfg.ResponseLength + 8, cfg.MaxPromptLength, bfloat16: cfg.RefBf16);
        IRewardSource? rule = cfg.RewardFunction == "gold"
            ? gold ?? throw new TrainingSetupException($"reward_function: gold needs a data folder written by `rlhf data builtin` (data: {cfg.Data ?? "not set"})")
            : null;
        return (model, rule) switch
        {
            ({ } m, { } r) => new SumRewardSource(m, r),
            ({ } m, null) => m,
            (null, { } r) => r,
            _ => throw new TrainingSetupException("no reward source configured"),
        };
    }

    private static PtxSource? Ptx(PpoConfig cfg, Text.BpeTokenizer tokenizer, Text.Chat.ChatTemplate template, CausalLM policy)
    {
        if (cfg.PtxCoef <= 0)
            return null;
        var file = TrainerSetup.DataFile(cfg.PtxFile, cfg.Data, "sft_train.jsonl", "ptx_file", required: true)!;
        var collator = new SftCollator(tokenizer, template, new SftCollatorOptions
        {
            MaxLength = Math.Min(cfg.PtxMaxLength, policy.Config.MaxPositions),
            MaxPromptLength = Math.Min(cfg.MaxPromptLength, cfg.PtxMaxLength - 1),
            PadTokenId = tokenizer.PadTokenId,
        });
        int micro = cfg.MiniBatchSize / cfg.GradientAccumulationSteps;
        return new PtxSource(new DataLoader<SftExample>(SftDataset.Load(file, new DataLoadOptions()), micro, seed: (ulong)cfg.Seed + 3), collator);
    }

    private static Dictionary<string, double> EvalMetrics(EvalResult result, EvalResult? reference, IRewardSource reward)
    {
        var metrics = new Dictionary<string, double>
        {
            ["eval/score"] = reward.Score(result.Prompts, result.Responses).Average(),
            ["eval/response_words"] = result.Responses.Average(r => r.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length),
        };
        if (result.Gold is { } g)
        {
            metrics["eval/gold_score"] = result.MeanGold;
            if (reference?.Gold is { } r)
                metrics["eval/win_rate_vs_ref"] = PolicyEvaluator.WinRate(g, r);
        }
        return metrics;
    }
}

/// <summary>Score of one reward source plus another's (unit weights).</summary>
internal sealed class SumRewardSource(IRewardSource a, IRewardSource b) : IRewardSource
{
    public string Name => $"{a.Name}+{b.Name}";

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        var x = a.Score(prompts, responses);
        var y = b.Score(prompts, responses);
        return [.. x.Zip(y, (p, q) => p + q)];
    }

    public double[] ScoreDialogues(IReadOnlyList<IReadOnlyList<Text.Chat.ChatMessage>> prompts, IReadOnlyList<string> responses)
    {
        var x = a.ScoreDialogues(prompts, responses);
        var y = b.ScoreDialogues(prompts, responses);
        return [.. x.Zip(y, (p, q) => p + q)];
    }
}

/// <summary>Demonstrations for the PPO-ptx term: a loader and its collator.</summary>
public sealed record PtxSource(DataLoader<SftExample> Loader, SftCollator Collator);

/// <summary>One rollout as text, for the logs.</summary>
public sealed record RolloutSample(string Prompt, string Response, double Score, double? Gold, double Kl)
{
    public string Format() => string.Create(CultureInfo.InvariantCulture,
        $"{Prompt} => {Response}  [score {Score:F3}{(Gold is { } g ? $", gold {g:F2}" : "")}, kl {Kl:F3}]");
}
