using System.Text.Json.Nodes;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// The run the offline preference trainers share (KTO, ORPO, SimPO): a policy, an optional frozen
/// reference, batches of fixed examples, an <see cref="IPreferenceObjective{T}"/>, data-parallel
/// shares as DPO takes them, held-out losses under eval/, generation on held-out prompts scored
/// against the starting policy (eval/gold_score, eval/win_rate_vs_ref), checkpoints, exact resume
/// and summary.json.
/// </summary>
internal static class OfflinePreferenceTrainer
{
    private const string PolicyName = "policy";

    /// <summary>How a trainer plugs into the shared run.</summary>
    /// <param name="Stage">The stage name in logs and summary.json.</param>
    /// <param name="TrainFile">The default training file in the data folder.</param>
    /// <param name="EvalFile">The default held-out file in the data folder.</param>
    /// <param name="Load">Reads a data file.</param>
    /// <param name="ReferenceDir">The frozen reference's folder, or null when the method has none (nothing is loaded).</param>
    /// <param name="Objective">Builds the objective from the inputs, the policy and the reference.</param>
    public sealed record Plan<T>(
        string Stage,
        string TrainFile,
        string EvalFile,
        Func<string, DataLoadOptions?, IReadOnlyList<T>> Load,
        string? ReferenceDir,
        Func<TrainerInputs, CausalLM, CausalLM?, IPreferenceObjective<T>> Objective);

    public static JsonObject Run<T>(PreferenceTrainConfig cfg, Plan<T> plan, string runDir, bool resume, IProgressReporter? progress)
    {
        var train = TrainerSetup.LoadTrain(cfg, plan.TrainFile, plan.Load);
        var evalSet = TrainerSetup.LoadEval(cfg, plan.EvalFile, plan.Load);
        var loadOptions = TrainerSetup.LoadOptions(cfg);
        var evalPromptsFile = TrainerSetup.DataFile(cfg.EvalPromptsFile, cfg.Data, "prompts_eval.jsonl", "eval_prompts_file", required: false);
        var inputs = TrainerInputs.Resolve(cfg);
        var heldOut = new HeldOutEvaluation(inputs, new HeldOutSettings(evalPromptsFile,
            cfg.EvalPrompts, cfg.MaxPromptLength, cfg.MaxNewTokens, cfg.EvalTemperature, cfg.EvalSamples, (ulong)cfg.Seed + 1000, loadOptions));

        int loaded = 0;
        var policy = PretrainedIO.LoadCausalLM(TrainerSetup.RequireDir(cfg.Model!, "model"));
        loaded++;
        policy.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        policy.Train();
        TrainerSetup.PlaceModels(cfg, policy);
        CausalLM? reference = null;
        if (plan.ReferenceDir is { } refDir)
        {
            inputs.CheckModel(refDir);
            reference = PretrainedIO.LoadCausalLM(refDir);
            loaded++;
            reference.Eval();
            TrainerSetup.PlaceModels(cfg, reference);
        }
        var objective = plan.Objective(inputs, policy, reference);

        var yaml = Configuration.ConfigWriter.ToYaml(cfg);
        using var dp = DataParallel.Start(cfg, yaml);
        var optimizer = TrainerSetup.Optimizer(policy, cfg);
        var schedule = TrainerSetup.Schedule(cfg);
        var loader = new DataLoader<T>(train, cfg.BatchSize, seed: (ulong)cfg.Seed,
            lengths: cfg.GroupByLength ? [.. train.Select(objective.Length)] : null);
        var models = new Dictionary<string, Module> { [PolicyName] = policy };
        dp.Attach(policy, optimizer);

        using var session = TrainingSession.Open(runDir, yaml, resume, progress, cfg.KeepCheckpoints, cfg.ResumeFromCheckpoint);
        long step = new StepLoop
        {
            Stage = plan.Stage,
            Config = cfg,
            Session = session,
            Models = models,
            Optimizer = optimizer,
            Guard = dp.Guard,
            Initial = () =>
            {
                var initial = Evaluate(policy, objective, evalSet, cfg);
                if (heldOut.Reference?.Gold is not null)
                    initial["eval/gold_score"] = heldOut.Reference.MeanGold;
                return initial;
            },
            Train = step =>
            {
                schedule.Apply(optimizer, (int)step - 1);
                optimizer.ZeroGrad();
                var metrics = new MetricMeans();
                double localLoss = 0;
                for (int micro = 0; micro < cfg.GradientAccumulationSteps; micro++)
                {
                    // This rank's share of the global micro-batch, weighted by its share of the examples.
                    var all = loader.NextBatchIndices();
                    var (start, count) = dp.Share(all.Length);
                    if (micro == cfg.GradientAccumulationSteps - 1)
                        dp.BeginSync();
                    var rows = all.AsSpan(start, count).ToArray().Select(i => train[i]).ToList();
                    double weight = (double)count / all.Length;
                    var loss = objective.Loss(rows, new PreferenceStep(dp, weight, metrics));
                    if (loss is null)
                        continue;
                    localLoss += loss.Item() * weight / cfg.GradientAccumulationSteps;
                    var scaled = dp.Size == 1 ? loss : loss.Mul((float)weight);
                    scaled.Mul(1f / cfg.GradientAccumulationSteps).Backward();
                }
                float gradNorm = dp.Update(optimizer, policy.TrainableParameters(), localLoss);
                var m = new Dictionary<string, double>();
                var means = MetricMeans.Means(dp.SumMetrics(metrics.Sums));
                objective.Complete(means);
                foreach (var (k, v) in means)
                    m[k == "loss" ? "train/loss" : k] = v;
                m["train/learning_rate"] = optimizer.ParamGroups[0].Lr;
                m["train/grad_norm"] = gradNorm;
                m["train/epoch"] = loader.Epoch + ((double)loader.IndexInEpoch / Math.Max(train.Count, 1));
                return m;
            },
            Evaluate = step =>
            {
                var metrics = Evaluate(policy, objective, evalSet, cfg);
                heldOut.AddMetrics(metrics, policy, session, step);
                return metrics;
            },
            SaveState = state => state.SetPosition(loader),
            LoadState = state => state.RestorePosition(loader),
        }.Run(() => heldOut.Start(session, policy));
        var evalReference = heldOut.Reference;

        var summary = new JsonObject { ["stage"] = plan.Stage, ["device"] = TrainerSetup.DeviceName(cfg), ["steps"] = step, ["parameters"] = policy.ParameterCount() };
        var final = Evaluate(policy, objective, evalSet, cfg);
        heldOut.AddMetrics(final, policy, null, step);
        SaveFinal(summary, final, evalReference, policy, session, inputs);
        summary["models_loaded"] = loaded;
        dp.AddSummary(summary, policy, optimizer);
        summary["data/truncated_examples"] = objective.TruncatedExamples;
        session.WriteSummary(summary);
        return summary;
    }

    // Held-out examples: the objective's loss and metrics under eval/, each rank over the whole set.
    private static Dictionary<string, double> Evaluate<T>(CausalLM policy, IPreferenceObjective<T> objective, IReadOnlyList<T>? evalSet, PreferenceTrainConfig cfg)
    {
        var metrics = new Dictionary<string, double>();
        if (evalSet is not { Count: > 0 })
            return metrics;
        using var _ = GradMode.NoGrad();
        policy.Eval();
        var sums = new MetricMeans();
        for (int start = 0; start < evalSet.Count; start += cfg.BatchSize)
            objective.Loss([.. evalSet.Skip(start).Take(cfg.BatchSize)], new PreferenceStep(null, 1, sums));
        policy.Train();
        var means = MetricMeans.Means(sums.Sums);
        objective.Complete(means);
        foreach (var (k, v) in means)
            metrics["eval/" + k] = v;
        return metrics;
    }

    /// <summary>
    /// The end every offline preference run shares (DPO's too): the final held-out metrics and the
    /// starting policy's gold score go into <paramref name="summary"/>, and rank 0 saves the policy
    /// with its tokenizer to the run's model folder, named there as <c>model</c>.
    /// </summary>
    internal static void SaveFinal(JsonObject summary, Dictionary<string, double> final, EvalResult? evalReference, CausalLM policy, TrainingSession session, TrainerInputs inputs)
    {
        foreach (var (k, v) in final)
            summary[k] = v;
        if (evalReference?.Gold is not null)
            summary["eval/gold_score_ref"] = evalReference.MeanGold;
        var modelDir = Path.Combine(session.Folder.Path, "model");
        if (session.IsMain)
        {
            PretrainedIO.Save(policy, modelDir);
            TrainerSetup.SaveTokenizer(inputs.Tokenizer, modelDir, inputs.TokenizerDir);
        }
        summary["model"] = modelDir;
    }
}
