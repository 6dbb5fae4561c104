using System.Text.Json.Nodes;
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
/// Supervised fine-tuning (step 1 of Ouyang et al. 2022): next-token cross-entropy on the
/// completion tokens of demonstrations. Logs train/eval loss and perplexity, answers held-out
/// prompts at each evaluation (gold-scored when the data has a gold scorer), checkpoints every
/// save_every steps and resumes exactly.
/// </summary>
public sealed class SftTrainer
{
    private const string PolicyName = "policy";

    public static JsonObject Run(SftConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        var train = TrainerSetup.LoadTrain(cfg, "sft_train.jsonl", SftDataset.Load);
        var evalSet = TrainerSetup.LoadEval(cfg, "sft_eval.jsonl", SftDataset.Load);
        var loadOptions = TrainerSetup.LoadOptions(cfg);
        var evalPromptsFile = TrainerSetup.DataFile(cfg.EvalPromptsFile, cfg.Data, "prompts_eval.jsonl", "eval_prompts_file", required: false);
        var inputs = TrainerInputs.Resolve(cfg);
        var heldOut = new HeldOutEvaluation(inputs, new HeldOutSettings(evalPromptsFile,
            cfg.EvalPrompts, cfg.MaxPromptLength, cfg.MaxNewTokens, cfg.EvalTemperature, Samples: 1, (ulong)cfg.Seed, loadOptions));

        var model = cfg.Model is not null
            ? PretrainedIO.LoadCausalLM(cfg.Model)
            : new CausalLM(cfg.ModelInit.ToModelConfig(inputs.Tokenizer), new Generator((ulong)cfg.Seed));
        model.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        model.Train();
        TrainerSetup.PlaceModels(cfg, model);
        var collator = new SftCollator(inputs.Tokenizer, inputs.Template, new SftCollatorOptions
        {
            MaxLength = Math.Min(cfg.MaxLength, model.Config.MaxPositions),
            MaxPromptLength = cfg.MaxPromptLength,
            Truncation = cfg.Truncation,
            CompletionOnlyLoss = cfg.CompletionOnlyLoss,
            PadTokenId = inputs.Tokenizer.PadTokenId,
            SpecialTokensInContent = inputs.Content,
        });

        var optimizer = TrainerSetup.Optimizer(model, cfg);
        var schedule = TrainerSetup.Schedule(cfg);
        var loader = new DataLoader<SftExample>(train, cfg.BatchSize, seed: (ulong)cfg.Seed,
            lengths: cfg.GroupByLength ? [.. train.Select(collator.Length)] : null);
        var models = new Dictionary<string, Module> { [PolicyName] = model };
        var yaml = Configuration.ConfigWriter.ToYaml(cfg);
        using var dp = DataParallel.Start(cfg, yaml);
        dp.Attach(model, optimizer);

        using var session = TrainingSession.Open(runDir, yaml, resume, progress, cfg.KeepCheckpoints, cfg.ResumeFromCheckpoint);
        long step = new StepLoop
        {
            Stage = "sft",
            Config = cfg,
            Session = session,
            Models = models,
            Optimizer = optimizer,
            Guard = dp.Guard,
            Initial = () =>
            {
                var initial = LossMetrics(model, collator, evalSet, cfg.BatchSize);
                if (heldOut.Reference?.Gold is not null)
                    initial["eval/gold_score"] = heldOut.Reference.MeanGold; // the starting policy is the reference
                return initial;
            },
            ParametersText = $"{model.ParameterCount():N0} parameters ({model.ParameterCount(trainableOnly: true):N0} trainable)",
            Train = step =>
            {
                schedule.Apply(optimizer, (int)step - 1);
                optimizer.ZeroGrad();
                double lossSum = 0;
                long tokens = 0;
                for (int micro = 0; micro < cfg.GradientAccumulationSteps; micro++)
                {
                    // Each rank takes its share of the global micro-batch; the loss is the mean
                    // over the global batch's target tokens, so each rank divides its sum by that count.
                    var local = dp.Shard(loader.NextBatch());
                    var batch = local.Count > 0 ? collator.Collate(local) : null;
                    double localTokens = batch is null ? 0 : batch.LossMask.Sum().Item();
                    double globalTokens = dp.Sum(localTokens, "token count");
                    tokens += (long)globalTokens;
                    if (micro == cfg.GradientAccumulationSteps - 1)
                        dp.BeginSync();
                    if (batch is null)
                        continue;
                    var loss = dp.Size == 1 ? Loss(model, batch) : Loss(model, batch, Reduction.Sum).Mul(1f / (float)Math.Max(globalTokens, 1));
                    lossSum += loss.Item();
                    loss.Mul(1f / cfg.GradientAccumulationSteps).Backward();
                }
                float gradNorm = dp.Update(optimizer, model.TrainableParameters(), lossSum);
                lossSum = dp.Sum(lossSum, "loss");
                return new Dictionary<string, double>
                {
                    ["train/loss"] = lossSum / cfg.GradientAccumulationSteps,
                    ["train/learning_rate"] = optimizer.ParamGroups[0].Lr,
                    ["train/grad_norm"] = gradNorm,
                    ["train/epoch"] = loader.Epoch + ((double)loader.IndexInEpoch / Math.Max(train.Count, 1)),
                    ["train/tokens"] = tokens,
                };
            },
            Evaluate = step =>
            {
                var metrics = LossMetrics(model, collator, evalSet, cfg.BatchSize);
                heldOut.AddMetrics(metrics, model, session, step);
                return metrics;
            },
            SaveState = state => state.SetPosition(loader),
            LoadState = state => state.RestorePosition(loader),
        }.Run(() => heldOut.Start(session, model));
        var reference = heldOut.Reference;

        var finalMetrics = LossMetrics(model, collator, evalSet, cfg.BatchSize);
        heldOut.AddMetrics(finalMetrics, model, null, step);
        var modelDir = Path.Combine(session.Folder.Path, "model");
        if (session.IsMain)
        {
            PretrainedIO.Save(model, modelDir);
            TrainerSetup.SaveTokenizer(inputs.Tokenizer, modelDir, inputs.TokenizerDir);
        }
        var summary = new JsonObject { ["stage"] = "sft", ["device"] = TrainerSetup.DeviceName(cfg), ["steps"] = step, ["model"] = modelDir, ["parameters"] = model.ParameterCount() };
        dp.AddSummary(summary, model, optimizer);
        foreach (var (k, v) in finalMetrics)
            summary[k] = v;
        if (reference?.Gold is not null)
            summary["eval/gold_score_ref"] = reference.MeanGold;
        summary["data/truncated_examples"] = collator.Stats.TruncatedExamples;
        session.WriteSummary(summary);
        return summary;
    }

    // Mean (or, with Reduction.Sum, summed) cross-entropy over trained target tokens. logits [B, T, V] predict ids[:, 1:].
    internal static Tensor Loss(CausalLM model, SftBatch batch, Reduction reduction = Reduction.Mean)
    {
        int t = batch.InputIds.Size(1);
        var logits = model.Forward(batch.InputIds, batch.AttentionMask);
        var v = logits.Size(2);
        return F.CrossEntropy(logits.Narrow(1, 0, t - 1).Reshape(-1, v), batch.Labels.Narrow(1, 1, t - 1).Contiguous().Reshape(-1), reduction: reduction);
    }

    // eval/loss and eval/perplexity on held-out demonstrations (empty when there are none).
    private static Dictionary<string, double> LossMetrics(CausalLM model, SftCollator collator, SftDataset? evalSet, int batchSize)
    {
        var metrics = new Dictionary<string, double>();
        if (evalSet is { Count: > 0 })
        {
            double loss = EvalLoss(model, collator, evalSet, batchSize);
            metrics["eval/loss"] = loss;
            metrics["eval/perplexity"] = Math.Exp(loss);
        }
        return metrics;
    }

    private static double EvalLoss(CausalLM model, SftCollator collator, SftDataset evalSet, int batchSize)
    {
        using var _ = GradMode.NoGrad();
        model.Eval();
        double total = 0, count = 0;
        for (int start = 0; start < evalSet.Count; start += batchSize)
        {
            var batch = collator.Collate(evalSet.Skip(start).Take(batchSize).ToList());
            int t = batch.InputIds.Size(1);
            var logits = model.Forward(batch.InputIds, batch.AttentionMask);
            var v = logits.Size(2);
            total += F.CrossEntropy(logits.Narrow(1, 0, t - 1).Reshape(-1, v), batch.Labels.Narrow(1, 1, t - 1).Contiguous().Reshape(-1), reduction: Reduction.Sum).Item();
            count += batch.LossMask.Sum().Item();
        }
        model.Train();
        return total / Math.Max(count, 1);
    }
}
