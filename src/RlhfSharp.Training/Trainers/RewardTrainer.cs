using System.Text.Json.Nodes;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// Reward modelling (step 2 of Ouyang et al. 2022): a transformer with a scalar head, read at the
/// last real token, trained so that chosen responses score above rejected ones under the
/// Bradley–Terry loss. Saves the model as an HF sequence-classification folder.
/// </summary>
public sealed class RewardTrainer
{
    private const string ModelName = "reward_model";

    public static JsonObject Run(RewardConfig cfg, string runDir, bool resume, IProgressReporter? progress = null)
    {
        var train = TrainerSetup.LoadTrain(cfg, "prefs_train.jsonl", PreferenceDataset.Load);
        for (int i = 0; i < cfg.TiesFiles.Count; i++)
            train.AddRange(PreferenceDataset.LoadTies(TrainerSetup.DataFile(cfg.TiesFiles[i], null, "ties.jsonl", $"ties_files[{i}]", required: true)!, TrainerSetup.LoadOptions(cfg)));
        var evalSet = TrainerSetup.LoadEval(cfg, "prefs_eval.jsonl", PreferenceDataset.Load);
        var inputs = TrainerInputs.Resolve(cfg);

        var model = LoadModel(cfg, inputs.Tokenizer);
        model.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        model.Train();
        TrainerSetup.PlaceModels(cfg, model);
        var collator = new PreferenceCollator(inputs.Tokenizer, inputs.Template, new CollatorOptions
        {
            MaxLength = Math.Min(cfg.MaxLength, model.Config.MaxPositions),
            MaxPromptLength = cfg.MaxPromptLength,
            PadTokenId = inputs.Tokenizer.PadTokenId,
            SpecialTokensInContent = inputs.Content,
        });
        var optimizer = TrainerSetup.Optimizer(model, cfg);
        var schedule = TrainerSetup.Schedule(cfg);
        var loader = new DataLoader<PreferenceExample>(train, cfg.BatchSize, seed: (ulong)cfg.Seed,
            lengths: cfg.GroupByLength ? [.. train.Select(collator.LongerLength)] : null);
        var models = new Dictionary<string, Module> { [ModelName] = model };
        var yaml = Configuration.ConfigWriter.ToYaml(cfg);
        using var dp = DataParallel.Start(cfg, yaml);
        dp.Attach(model, optimizer);

        using var session = TrainingSession.Open(runDir, yaml, resume, progress, cfg.KeepCheckpoints, cfg.ResumeFromCheckpoint);
        long step = new StepLoop
        {
            Stage = "rm",
            Config = cfg,
            Session = session,
            Models = models,
            Optimizer = optimizer,
            Guard = dp.Guard,
            Initial = () => evalSet is { Count: > 0 } ? Evaluate(model, collator, evalSet, cfg) : null,
            Train = step =>
            {
                schedule.Apply(optimizer, (int)step - 1);
                optimizer.ZeroGrad();
                double loss = 0, accuracy = 0, chosenMean = 0, rejectedMean = 0;
                for (int micro = 0; micro < cfg.GradientAccumulationSteps; micro++)
                {
                    // This rank scores its share of the global micro-batch; its loss is weighted by its share of the pairs.
                    var examples = loader.NextBatch();
                    var local = dp.Shard(examples);
                    if (micro == cfg.GradientAccumulationSteps - 1)
                        dp.BeginSync();
                    float[] localChosen = [], localRejected = [];
                    if (local.Count > 0)
                    {
                        var (chosen, rejected) = Scores(model, collator.Collate(local));
                        var l = Loss(chosen, rejected, local, cfg.Margin);
                        if (dp.Size > 1)
                            l = l.Mul((float)local.Count / examples.Count);
                        loss += l.Item() / cfg.GradientAccumulationSteps;
                        localChosen = chosen.ToArray();
                        localRejected = rejected.ToArray();
                        l.Mul(1f / cfg.GradientAccumulationSteps).Backward();
                    }
                    // Accuracy and the reward means are over the global batch's preferences; ties have no chosen side.
                    var c = dp.Comm.AllGatherV<float>(localChosen, out _, "rewards").Select(v => (double)v).ToArray();
                    var r = dp.Comm.AllGatherV<float>(localRejected, out _, "rewards").Select(v => (double)v).ToArray();
                    var prefs = Enumerable.Range(0, examples.Count).Where(i => !examples[i].Tie).ToList();
                    double[] pc = [.. prefs.Select(i => c[i])], pr = [.. prefs.Select(i => r[i])];
                    accuracy += (prefs.Count == 0 ? 0.5 : BradleyTerry.Accuracy(pc, pr)) / cfg.GradientAccumulationSteps;
                    chosenMean += (prefs.Count == 0 ? 0 : pc.Average()) / cfg.GradientAccumulationSteps;
                    rejectedMean += (prefs.Count == 0 ? 0 : pr.Average()) / cfg.GradientAccumulationSteps;
                }
                float gradNorm = dp.Update(optimizer, model.TrainableParameters(), loss);
                loss = dp.Sum(loss, "loss");
                return new Dictionary<string, double>
                {
                    ["train/loss"] = loss,
                    ["train/accuracy"] = accuracy,
                    ["rewards/chosen"] = chosenMean,
                    ["rewards/rejected"] = rejectedMean,
                    ["rewards/margins"] = chosenMean - rejectedMean,
                    ["train/learning_rate"] = optimizer.ParamGroups[0].Lr,
                    ["train/grad_norm"] = gradNorm,
                };
            },
            Evaluate = _ => evalSet is { Count: > 0 } ? Evaluate(model, collator, evalSet, cfg) : null,
            SaveState = state => state.SetPosition(loader),
            LoadState = state => state.RestorePosition(loader),
        }.Run();

        var summary = new JsonObject { ["stage"] = "rm", ["device"] = TrainerSetup.DeviceName(cfg), ["steps"] = step, ["parameters"] = model.ParameterCount(), ["data/train_pairs"] = train.Count(e => !e.Tie), ["data/train_ties"] = train.Count(e => e.Tie) };
        if (evalSet is { Count: > 0 })
        {
            foreach (var (k, v) in Evaluate(model, collator, evalSet, cfg))
                summary[k] = v;
        }
        var modelDir = Path.Combine(session.Folder.Path, "model");
        if (session.IsMain)
        {
            PretrainedIO.Save(model, modelDir);
            TrainerSetup.SaveTokenizer(inputs.Tokenizer, modelDir, inputs.TokenizerDir);
        }
        summary["model"] = modelDir;
        dp.AddSummary(summary, model, optimizer);
        summary["data/truncated_examples"] = collator.Stats.TruncatedExamples;
        session.WriteSummary(summary);
        return summary;
    }

    private static SequenceScorer LoadModel(RewardConfig cfg, Text.BpeTokenizer tokenizer)
    {
        SequenceScorer model;
        if (cfg.Model is not null)
            model = PretrainedIO.LoadScorer(cfg.Model, allowNewHead: true);
        else
            model = new SequenceScorer(cfg.ModelInit.ToModelConfig(tokenizer), new Generator((ulong)cfg.Seed));
        // A head new to this model (an SFT or base folder has none) starts small and random, as HF initialises it.
        if (model.Score.Weight.Value.ToArray().All(v => v == 0))
            model.Score.Weight.Assign(new Generator((ulong)cfg.Seed + 1).Normal(model.Score.Weight.Shape, 0f, 0.02f));
        return model;
    }

    /// <summary>
    /// Bradley–Terry loss of a batch: −log σ(r_c − r_r − m) per preference; a batch that holds ties
    /// uses the soft-label form, label ½ and no margin for a tie, which is the same number for the preferences.
    /// </summary>
    internal static Tensor Loss(Tensor chosen, Tensor rejected, IReadOnlyList<PreferenceExample> examples, float margin)
    {
        int n = examples.Count;
        if (!examples.Any(e => e.Tie))
            return BradleyTerry.Loss(chosen, rejected, margin > 0 ? Tensor.Full(margin, n) : null);
        var labels = Tensor.FromArray([.. examples.Select(e => e.Tie ? 0.5f : 1f)], n);
        var margins = margin > 0 ? Tensor.FromArray([.. examples.Select(e => e.Tie ? 0f : margin)], n) : null;
        return BradleyTerry.SoftLoss(chosen, rejected, labels, margins);
    }

    // Rewards of both sides in one forward pass. -> (chosen [B], rejected [B])
    private static (Tensor Chosen, Tensor Rejected) Scores(SequenceScorer model, PreferenceBatch batch)
    {
        int b = batch.Chosen.InputIds.Size(0);
        var ids = Tensor.Cat([batch.Chosen.InputIds, batch.Rejected.InputIds], 0);
        var mask = Tensor.Cat([batch.Chosen.AttentionMask, batch.Rejected.AttentionMask], 0);
        var scores = model.Forward(ids, mask);                                          // [2B]
        return (scores.Narrow(0, 0, b), scores.Narrow(0, b, b));
    }

    private static Dictionary<string, double> Evaluate(SequenceScorer model, PreferenceCollator collator, PreferenceDataset evalSet, RewardConfig cfg)
    {
        using var _ = GradMode.NoGrad();
        model.Eval();
        var chosen = new List<double>();
        var rejected = new List<double>();
        for (int start = 0; start < evalSet.Count; start += cfg.BatchSize)
        {
            var (c, r) = Scores(model, collator.Collate(evalSet.Skip(start).Take(cfg.BatchSize).ToList()));
            chosen.AddRange(c.ToArray().Select(v => (double)v));
            rejected.AddRange(r.ToArray().Select(v => (double)v));
        }
        model.Train();
        double Std(List<double> x)
        {
            double m = x.Average();
            return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / x.Count);
        }
        return new Dictionary<string, double>
        {
            ["eval/loss"] = BradleyTerry.Loss(chosen.ToArray(), rejected.ToArray()),
            ["eval/accuracy"] = BradleyTerry.Accuracy(chosen.ToArray(), rejected.ToArray()),
            ["eval/rewards_chosen_mean"] = chosen.Average(),
            ["eval/rewards_chosen_std"] = Std(chosen),
            ["eval/rewards_rejected_mean"] = rejected.Average(),
            ["eval/rewards_rejected_std"] = Std(rejected),
        };
    }
}
