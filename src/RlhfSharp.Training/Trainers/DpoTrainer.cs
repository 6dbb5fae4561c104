using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// Direct preference optimisation (Rafailov et al. 2023), IPO (Azar et al. 2023) and conservative
/// DPO: the policy is trained on preference pairs against a frozen reference whose sequence
/// log-probs are computed once, before training, for every train and held-out pair. Logs TRL's
/// <c>rewards/*</c> and <c>logps/*</c>, evaluates held-out pairs and (with prompts) the policy's
/// answers against the starting policy's, and resumes exactly.
/// </summary>
public static class DpoTrainer
{
    private const string PolicyName = "policy";

    public static JsonObject Run(DpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        var train = TrainerSetup.LoadTrain(cfg, "prefs_train.jsonl", PreferenceDataset.Load);
        var evalSet = TrainerSetup.LoadEval(cfg, "prefs_eval.jsonl", PreferenceDataset.Load);
        var loadOptions = TrainerSetup.LoadOptions(cfg);
        var evalPromptsFile = TrainerSetup.DataFile(cfg.EvalPromptsFile, cfg.Data, "prompts_eval.jsonl", "eval_prompts_file", required: false);
        var inputs = TrainerInputs.Resolve(cfg);
        var heldOut = new HeldOutEvaluation(inputs, new HeldOutSettings(evalPromptsFile,
            cfg.EvalPrompts, cfg.MaxPromptLength, cfg.MaxNewTokens, cfg.EvalTemperature, cfg.EvalSamples, (ulong)cfg.Seed + 1000, loadOptions));

        var policy = PretrainedIO.LoadCausalLM(TrainerSetup.RequireDir(cfg.Model!, "model"));
        policy.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        policy.Train();
        TrainerSetup.PlaceModels(cfg, policy);
        var collator = new PreferenceCollator(inputs.Tokenizer, inputs.Template, new CollatorOptions
        {
            MaxLength = Math.Min(cfg.MaxLength, policy.Config.MaxPositions),
            MaxPromptLength = cfg.MaxPromptLength,
            PadTokenId = inputs.Tokenizer.PadTokenId,
            SpecialTokensInContent = inputs.Content,
        });

        // Reference log-probs once, before any update (TRL's precompute_ref_log_probs).
        var referenceDir = TrainerSetup.RequireDir(cfg.RefModel ?? cfg.Model!, cfg.RefModel is null ? "model" : "ref_model");
        inputs.CheckModel(referenceDir);
        var reference = PretrainedIO.LoadCausalLM(referenceDir);
        TrainerSetup.PlaceModels(cfg, reference);
        // Each rank computes its share; every rank then holds them all.
        var yaml = Configuration.ConfigWriter.ToYaml(cfg);
        using var dp = DataParallel.Start(cfg, yaml);
        var refTrain = ReferenceLogProbs(reference, collator, train, cfg, dp);
        var refEval = evalSet is null ? null : ReferenceLogProbs(reference, collator, evalSet, cfg, dp);

        var optimizer = TrainerSetup.Optimizer(policy, cfg);
        var schedule = TrainerSetup.Schedule(cfg);
        var loader = new DataLoader<PreferenceExample>(train, cfg.BatchSize, seed: (ulong)cfg.Seed,
            lengths: cfg.GroupByLength ? [.. train.Select(collator.LongerLength)] : null);
        var models = new Dictionary<string, Module> { [PolicyName] = policy };
        dp.Attach(policy, optimizer);

        using var session = TrainingSession.Open(runDir, yaml, resume, progress, cfg.KeepCheckpoints, cfg.ResumeFromCheckpoint);
        long step = new StepLoop
        {
            Stage = "dpo",
            Config = cfg,
            Session = session,
            Models = models,
            Optimizer = optimizer,
            Guard = dp.Guard,
            Initial = () =>
            {
                var initial = Evaluate(policy, collator, evalSet, refEval, cfg);
                if (heldOut.Reference?.Gold is not null)
                    initial["eval/gold_score"] = heldOut.Reference.MeanGold;
                return initial;
            },
            Train = step =>
            {
                schedule.Apply(optimizer, (int)step - 1);
                optimizer.ZeroGrad();
                var sums = new Dictionary<string, double>();
                for (int micro = 0; micro < cfg.GradientAccumulationSteps; micro++)
                {
                    // This rank's share of the global micro-batch, weighted by its share of the pairs.
                    var all = loader.NextBatchIndices();
                    var (start, count) = dp.Share(all.Length);
                    if (micro == cfg.GradientAccumulationSteps - 1)
                        dp.BeginSync();
                    var idx = all.AsSpan(start, count).ToArray();
                    var batch = count > 0 ? collator.Collate([.. idx.Select(i => train[i])]) : null;
                    double weight = (double)count / all.Length;
                    // RPO's NLL is a token mean over the whole batch's chosen responses (every rank takes part in the count).
                    float? nllTokens = cfg.RpoAlpha > 0 && dp.Size > 1
                        ? (float)(dp.Sum(batch?.Chosen.ResponseMask.Sum().Item() ?? 0, "chosen tokens") * weight)
                        : null;
                    if (batch is null)
                        continue;
                    var output = Loss(policy, batch, [.. idx.Select(i => refTrain[i])], cfg, nllTokens);
                    foreach (var (k, v) in output.ToMetrics())
                        sums[k] = sums.GetValueOrDefault(k) + (v * weight / cfg.GradientAccumulationSteps);
                    var loss = dp.Size == 1 ? output.Loss : output.Loss.Mul((float)weight);
                    loss.Mul(1f / cfg.GradientAccumulationSteps).Backward();
                }
                float gradNorm = dp.Update(optimizer, policy.TrainableParameters(), sums.GetValueOrDefault("loss"));
                sums = dp.SumMetrics(sums);
                var m = new Dictionary<string, double>();
                foreach (var (k, v) in sums)
                    m[k == "loss" ? "train/loss" : k] = v;
                m["train/learning_rate"] = optimizer.ParamGroups[0].Lr;
                m["train/grad_norm"] = gradNorm;
                m["train/epoch"] = loader.Epoch + ((double)loader.IndexInEpoch / Math.Max(train.Count, 1));
                return m;
            },
            Evaluate = step =>
            {
                var metrics = Evaluate(policy, collator, evalSet, refEval, cfg);
                heldOut.AddMetrics(metrics, policy, session, step);
                return metrics;
            },
            SaveState = state => state.SetPosition(loader),
            LoadState = state => state.RestorePosition(loader),
        }.Run(() => heldOut.Start(session, policy));
        var evalReference = heldOut.Reference;

        var summary = new JsonObject { ["stage"] = "dpo", ["device"] = TrainerSetup.DeviceName(cfg), ["steps"] = step, ["parameters"] = policy.ParameterCount() };
        var final = Evaluate(policy, collator, evalSet, refEval, cfg);
        heldOut.AddMetrics(final, policy, null, step);
        OfflinePreferenceTrainer.SaveFinal(summary, final, evalReference, policy, session, inputs);
        dp.AddSummary(summary, policy, optimizer);
        summary["data/truncated_examples"] = collator.Stats.TruncatedExamples;
        session.WriteSummary(summary);
        return summary;
    }

    /// <summary>
    /// The DPO-family loss of a batch. Chosen and rejected go through the policy in one forward
    /// pass; the reference log-probs are the cached (chosen, rejected) pairs of the same rows.
    /// </summary>
    /// <remarks>
    /// <paramref name="nllTokens"/> divides RPO's summed NLL instead of this batch's chosen tokens: a
    /// data-parallel rank passes the whole batch's count (over its weight in the batch), so its part
    /// of the token mean is its share of the whole batch's.
    /// </remarks>
    internal static DpoOutput Loss(CausalLM policy, PreferenceBatch batch, IReadOnlyList<(float Chosen, float Rejected)> reference, DpoConfig cfg, float? nllTokens = null)
    {
        var (chosen, rejected, chosenNll) = SequenceLogps(policy, batch, cfg.ParsedLossType, withNll: cfg.RpoAlpha > 0, nllTokens);
        var refChosen = Tensor.FromArray([.. reference.Select(r => r.Chosen)], reference.Count);
        var refRejected = Tensor.FromArray([.. reference.Select(r => r.Rejected)], reference.Count);
        var output = DpoLoss.Compute(chosen, rejected, refChosen, refRejected, cfg.Beta, cfg.ParsedLossType, cfg.LabelSmoothing);
        // RPO: the preference loss plus α × the chosen responses' negative log-likelihood per token.
        return chosenNll is null ? output : output with { Loss = output.Loss.Add(chosenNll.Mul(cfg.RpoAlpha)) };
    }

    // Sequence log-probs of both sides: sums for the sigmoid loss, per-token means for IPO (TRL's convention);
    // with withNll also the token-mean NLL of the chosen responses.
    private static (Tensor Chosen, Tensor Rejected, Tensor? ChosenNll) SequenceLogps(CausalLM model, PreferenceBatch batch, DpoLossType lossType, bool withNll = false, float? nllTokens = null)
    {
        int b = batch.Chosen.InputIds.Size(0);
        var ids = Tensor.Cat([batch.Chosen.InputIds, batch.Rejected.InputIds], 0);
        var mask = Tensor.Cat([batch.Chosen.AttentionMask, batch.Rejected.AttentionMask], 0);
        var response = Tensor.Cat([batch.Chosen.ResponseMask, batch.Rejected.ResponseMask], 0);
        var logits = model.Forward(ids, mask);
        var sums = SequenceLogProbs.Sum(logits, ids, response);
        var logps = lossType == DpoLossType.Ipo ? SequenceLogProbs.Mean(logits, ids, response) : sums;
        Tensor? nll = null;
        if (withNll)
        {
            float tokens = nllTokens ?? batch.Chosen.ResponseMask.Sum().Item(); // responses follow a prompt, so every response token is predicted
            nll = sums.Narrow(0, 0, b).Sum().Mul(-1f / Math.Max(tokens, 1f));
        }
        return (logps.Narrow(0, 0, b), logps.Narrow(0, b, b), nll);
    }

    // The reference's (chosen, rejected) log-probs of every pair, each rank computing its share.
    private static List<(float Chosen, float Rejected)> ReferenceLogProbs(CausalLM reference, PreferenceCollator collator, IReadOnlyList<PreferenceExample> set, DpoConfig cfg, DataParallel dp)
    {
        using var _ = GradMode.NoGrad();
        reference.Eval();
        return dp.MapShared(set, cfg.BatchSize, rows =>
        {
            var (c, r, _) = SequenceLogps(reference, collator.Collate(rows), cfg.ParsedLossType);
            return [.. c.ToArray().Zip(r.ToArray())];
        });
    }

    // Held-out pairs: the DPO loss and TRL's reward metrics under eval/.
    private static Dictionary<string, double> Evaluate(CausalLM policy, PreferenceCollator collator, PreferenceDataset? evalSet, List<(float Chosen, float Rejected)>? refEval, DpoConfig cfg)
    {
        var metrics = new Dictionary<string, double>();
        if (evalSet is not { Count: > 0 } || refEval is null)
            return metrics;
        using var _ = GradMode.NoGrad();
        policy.Eval();
        var sums = new Dictionary<string, double>();
        for (int start = 0; start < evalSet.Count; start += cfg.BatchSize)
        {
            var rows = evalSet.Skip(start).Take(cfg.BatchSize).ToList();
            var output = Loss(policy, collator.Collate(rows), refEval.GetRange(start, rows.Count), cfg);
            foreach (var (k, v) in output.ToMetrics())
                sums[k] = sums.GetValueOrDefault(k) + (v * rows.Count);
        }
        policy.Train();
        foreach (var (k, v) in sums)
            metrics["eval/" + k] = v / evalSet.Count;
        return metrics;
    }
}
