using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Lora;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rewards.Verifiers;

namespace RlhfSharp.Training.Rl;

/// <summary>What one RL step did: the logged metrics and the rollouts as text.</summary>
public sealed record RlStepResult(Dictionary<string, double> Metrics, IReadOnlyList<RolloutSample> Rollouts);

/// <summary>One rollout as text, for the logs.</summary>
public sealed record RolloutSample(string Prompt, string Response, double Score, double? Gold, double Kl)
{
    public string Format() => string.Create(CultureInfo.InvariantCulture,
        $"{Prompt} => {Response}  [score {Score:F3}{(Gold is { } g ? $", gold {g:F2}" : "")}, kl {Kl:F3}]");
}

/// <summary>An online RL algorithm's step and the state a checkpoint must carry beyond weights and optimizer.</summary>
public interface IRlLearner
{
    Optimizer Optimizer { get; }

    /// <summary>The models whose weights checkpoints hold (the policy first).</summary>
    IReadOnlyDictionary<string, Module> Models { get; }

    /// <summary>The metrics of the latest step.</summary>
    IReadOnlyDictionary<string, double> LastMetrics { get; }

    RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex);

    void SaveState(TrainerState state);

    void LoadState(TrainerState state);
}

/// <summary>What the RL trainers set up the same way: data, tokenizer, policy, reference and reward.</summary>
public sealed record RlContext(
    TrainerInputs Inputs,
    CausalLM Policy,
    CausalLM? Reference,
    RewardMixture Reward,
    PromptCollator PromptCollator,
    DataParallel Dp)
{
    public BpeTokenizer Tokenizer => Inputs.Tokenizer;

    public ChatTemplate Template => Inputs.Template;

    public IRewardSource? Gold => Inputs.Gold;

    /// <summary>
    /// The next batch of prompts from the run's loader (its position is checkpointed), for a learner
    /// that samples beyond the step's batch (dynamic sampling); null where there is no loader.
    /// </summary>
    public Func<IReadOnlyList<PromptExample>>? NextPrompts { get; init; }
}

/// <summary>
/// The loop the online RL trainers share: load prompts, policy, reference (a frozen copy, bf16
/// optional, or the policy with LoRA adapters off) and reward; evaluate the starting policy on
/// held-out prompts; run the learner's steps with logging, evaluation and checkpoints; resume
/// exactly; write summary.json and the final policy (LoRA adapters saved and merged).
/// </summary>
public static class RlLoop
{
    /// <summary>
    /// Runs a trainer. <paramref name="rowsPerPrompt"/> is how many rollout rows a prompt becomes
    /// (GRPO's group size), for the "enough prompts" check. <paramref name="summaryKeys"/> are
    /// step metrics copied into summary.json.
    /// </summary>
    public static JsonObject Run(RlConfig cfg, string stage, string runDir, bool resume, IProgressReporter? progress,
        Func<RlContext, IRlLearner> build, IReadOnlyList<string> summaryKeys, Action<JsonObject>? addSummary = null)
    {
        var promptsFile = TrainerSetup.DataFile(cfg.TrainFile, cfg.Data, "prompts_train.jsonl", "train_file", required: true)!;
        var evalFile = TrainerSetup.DataFile(cfg.EvalFile, cfg.Data, "prompts_eval.jsonl", "eval_file", required: false);
        var inputs = TrainerInputs.Resolve(cfg);
        var prompts = PromptDataset.Load(promptsFile, new DataLoadOptions());
        // The evaluation sample stream is fixed, so the policy and its starting point are judged on the same draws.
        var heldOut = new HeldOutEvaluation(inputs, new HeldOutSettings(evalFile,
            cfg.EvalPrompts, cfg.MaxPromptLength, cfg.ResponseLength, cfg.EvalTemperature, cfg.EvalSamples, (ulong)cfg.Seed + 1000, new DataLoadOptions()));
        if (prompts.Count < cfg.BatchSize)
            throw new TrainingSetupException($"{promptsFile}: {prompts.Count} prompts, fewer than one batch (batch_size {cfg.BatchSize})");

        var policy = PretrainedIO.LoadCausalLM(TrainerSetup.RequireDir(cfg.Model!, "model"));
        CausalLM? reference = null;
        if (cfg.LoraRank > 0)
        {
            PeftIO.Apply(policy, LoraSettings(cfg), new Generator((ulong)cfg.Seed + 7));
        }
        else
        {
            // The reference is the starting policy, or ref_model: a policy trained further keeps its KL to the model it came from.
            var referenceDir = cfg.RefModel is null ? cfg.Model! : TrainerSetup.RequireDir(cfg.RefModel, "ref_model");
            if (cfg.RefModel is not null)
                inputs.CheckModel(referenceDir);
            reference = PretrainedIO.LoadCausalLM(referenceDir);
            reference.Freeze();
            if (cfg.RefBf16)
                reference.ToBFloat16();
        }
        policy.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        TrainerSetup.PlaceModels(cfg, policy, reference);
        heldOut.MeasureKlTo(reference);
        // A policy trained further (ref_model) is judged against the model its KL is measured to: the
        // win rate vs ref and eval/gold_score_ref are that model's, as in iterated RLHF's later rounds.
        var refAnswers = cfg.RefModel is not null ? reference : null;
        if (cfg.MaxPromptLength + cfg.ResponseLength > policy.Config.MaxPositions)
            throw new TrainingSetupException($"max_prompt_length ({cfg.MaxPromptLength}) + response_length ({cfg.ResponseLength}) exceeds the model's {policy.Config.MaxPositions} positions");
        var reward = Reward(cfg, inputs.Template, inputs.Gold);
        var yaml = Configuration.ConfigWriter.ToYaml(cfg);
        using var dp = DataParallel.Start(cfg, yaml);
        var loader = new DataLoader<PromptExample>(prompts, cfg.BatchSize, seed: (ulong)cfg.Seed, dropLast: true);
        var learner = build(new RlContext(inputs, policy, reference, reward, inputs.PromptCollator(cfg.MaxPromptLength), dp) { NextPrompts = loader.NextBatch });
        dp.Attach(learner.Optimizer.Parameters, learner.Optimizer);

        using var session = TrainingSession.Open(runDir, yaml, resume, progress, cfg.KeepCheckpoints, cfg.ResumeFromCheckpoint);
        if (cfg.TopK > 0 || cfg.TopP < 1)
        {
            var warning = $"warning: top_k={cfg.TopK}, top_p={cfg.TopP}: rollouts are drawn from a truncated distribution while the ratios and KL use the full softmax, so both are biased (negative KL is a symptom). Leave both off unless you know why.";
            session.Logger.LogText(0, "warnings", warning);
            session.Progress.Message(warning);
        }
        var hacking = new RewardHackingWatch(cfg, session, inputs.Gold is not null, heldOut.Enabled);
        var best = cfg.KeepBest ? new BestGoldKeeper(session, policy, inputs, cfg.LoraRank > 0 ? LoraSettings(cfg) : null, cfg.Model) : null;
        Dictionary<string, double> Watch(long step, Dictionary<string, double> metrics)
        {
            best?.Check(step, metrics);
            return hacking.Check(step, metrics);
        }
        RlStepResult? last = null;
        long step = new StepLoop
        {
            Stage = stage,
            Config = cfg,
            Session = session,
            Models = learner.Models,
            Optimizer = learner.Optimizer,
            Guard = dp.Guard,
            // With ref_model the reference answers are that model's, so step 0 scores the starting policy on its own.
            Initial = () => heldOut.Reference is not { } r ? null : Watch(0, refAnswers is null
                ? EvalMetrics(heldOut, r, reward, withWinRate: false)
                : EvalMetrics(heldOut, heldOut.Evaluate(policy), reward)),
            ParametersText = string.Join(", ", learner.Models.Select(m => $"{m.Key} {m.Value.ParameterCount():N0} parameters ({m.Value.ParameterCount(trainableOnly: true):N0} trainable)")),
            Train = step => (last = learner.Step(loader.NextBatch(), (int)step - 1)).Metrics,
            Evaluate = step => heldOut.Enabled ? Watch(step, EvalMetrics(heldOut, heldOut.Evaluate(policy), reward)) : null,
            StopRequested = () => hacking.StopRequested,
            AfterEvaluate = step =>
            {
                for (int i = 0; i < Math.Min(cfg.SampleRollouts, last!.Rollouts.Count); i++)
                    session.Logger.LogText(step, "samples", last.Rollouts[i].Format());
            },
            SaveState = state =>
            {
                state.SetPosition(loader);
                learner.SaveState(state);
                state.SetDoubles("reward_norm", reward.State);
                hacking.Save(state);
            },
            LoadState = state =>
            {
                state.RestorePosition(loader);
                learner.LoadState(state);
                if (state.Contains("reward_norm"))
                    reward.State = state.GetDoubles("reward_norm");
                hacking.Load(state);
            },
        }.Run(() => heldOut.Start(session, refAnswers ?? policy));
        var evalReference = heldOut.Reference;

        var summary = new JsonObject { ["stage"] = stage, ["device"] = TrainerSetup.DeviceName(cfg), ["steps"] = step, ["parameters"] = policy.ParameterCount() };
        if (heldOut.Enabled)
        {
            foreach (var (k, v) in EvalMetrics(heldOut, heldOut.Evaluate(policy), reward))
                summary[k] = v;
            if (evalReference?.Gold is not null)
                summary["eval/gold_score_ref"] = evalReference.MeanGold;
            if (evalReference is not null && EvalMetrics(heldOut, evalReference, reward, withWinRate: false).TryGetValue("eval/accuracy", out var accuracyRef))
                summary["eval/accuracy_ref"] = accuracyRef;
        }
        foreach (var key in summaryKeys)
            if (learner.LastMetrics.TryGetValue(key, out var v))
                summary[key] = v;
        hacking.AddSummary(summary);
        best?.AddSummary(summary);
        addSummary?.Invoke(summary);
        var modelDir = Path.Combine(session.Folder.Path, "model");
        if (cfg.LoraRank > 0)
        {
            if (session.IsMain)
                PeftIO.Save(policy, LoraSettings(cfg), Path.Combine(session.Folder.Path, "adapter"), cfg.Model);
            foreach (var (_, m) in policy.NamedModules())
                if (m is Linear { Lora: { } lora })
                    lora.Merge();
        }
        if (session.IsMain)
        {
            PretrainedIO.Save(policy, modelDir);
            TrainerSetup.SaveTokenizer(inputs.Tokenizer, modelDir, inputs.TokenizerDir);
        }
        summary["model"] = modelDir;
        if (learner.Models.TryGetValue("policy", out var policyModule))
            dp.AddSummary(summary, policyModule, learner.Optimizer);
        session.WriteSummary(summary);
        return summary;
    }

    private static LoraConfig LoraSettings(RlConfig cfg) => new()
    {
        Rank = cfg.LoraRank,
        Alpha = cfg.LoraAlpha,
        TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "c_attn", "c_proj", "c_fc"],
    };

    /// <summary>The reward model and the rule rewards as one weighted mixture (a single source has weight 1 unless told otherwise).</summary>
    private static RewardMixture Reward(RlConfig cfg, ChatTemplate template, IRewardSource? gold)
    {
        var sources = new List<IRewardSource>();
        if (cfg.RewardModel is not null)
        {
            var rm = RewardModelSource.Load(TrainerSetup.RequireDir(cfg.RewardModel, "reward_model"), template, cfg.MaxPromptLength + cfg.ResponseLength + 8, cfg.MaxPromptLength, bfloat16: cfg.RefBf16);
            TrainerSetup.PlaceModels(cfg, rm.Model);
            sources.Add(rm);
        }
        var context = new RewardFunctionContext(cfg, template, gold);
        foreach (var f in cfg.RewardFuncs)
            sources.Add(RewardFunctions.Build(f, context));
        if (sources.Count == 0)
            throw new TrainingSetupException("no reward source configured");
        var weights = cfg.RewardWeights.Count > 0 ? cfg.RewardWeights : [.. sources.Select(_ => 1.0)];
        return new RewardMixture([.. sources.Zip(weights, (s, w) => new RewardComponent(s, w))], cfg.NormalizeRewards);
    }

    // The held-out metrics with eval/score, the reward of the answers (what the policy optimises), beside the gold ones;
    // with the accuracy verifier among the rewards, eval/accuracy: the fraction of answers it counts correct.
    private static Dictionary<string, double> EvalMetrics(HeldOutEvaluation heldOut, EvalResult result, RewardMixture reward, bool withWinRate = true)
    {
        // The answers follow the held-out rows in order, so each is checked against its own row's reference.
        var rows = heldOut.Prompts;
        if (rows.Count != result.Responses.Count)
            throw new TrainingSetupException($"{HeldOutEvaluation.FileName} holds {result.Responses.Count} answers of the starting policy but there are {rows.Count} held-out prompts; resume with the eval_file, eval_prompts and eval_samples the run started with");
        var metrics = new Dictionary<string, double> { ["eval/score"] = reward.EvaluateExamples(rows, result.Responses).Average() };
        if (reward.Components.Select(c => c.Source).OfType<AccuracyVerifier>().FirstOrDefault() is { } accuracy)
            metrics["eval/accuracy"] = Enumerable.Range(0, rows.Count).Count(i => accuracy.IsCorrect(rows[i], result.Responses[i])) / (double)rows.Count;
        foreach (var (k, v) in heldOut.Metrics(result, withWinRate))
            metrics[k] = v;
        return metrics;
    }
}
