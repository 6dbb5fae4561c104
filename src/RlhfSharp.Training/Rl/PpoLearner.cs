using System.Diagnostics;
using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Algorithms;
using RlhfSharp.Alignment.Kl;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Sampling;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// One PPO step for language models (Ouyang et al. 2022 §3.5; Ziegler et al. 2019; the
/// implementation details of Huang et al. 2024, "The N+ Implementation Details of RLHF with PPO"):
/// <list type="number">
/// <item>rollout: sample a response per prompt with the KV cache at the configured temperature;</item>
/// <item>score without gradients: log-probs under the policy and the reference (same temperature),
/// the critic's values, the reward of each (prompt, response);</item>
/// <item>per-token rewards −β·KL_t plus the score on the last token; GAE advantages and returns;
/// advantages whitened over real tokens;</item>
/// <item><c>ppo_epochs</c> passes over shuffled minibatches: clipped surrogate + vf_coef × clipped
/// value loss − entropy_coef × entropy (+ ptx_coef × SFT loss), token-mean over real tokens,
/// gradients clipped per model; an epoch whose mean approx KL passes target_kl ends the step;</item>
/// <item>β moves towards the KL target (adaptive controller).</item>
/// </list>
/// Policy and critic are separate models updated by one AdamW with their own learning rates.
/// </summary>
public sealed class PpoLearner : RlLearner<PpoConfig>
{
    private readonly SequenceScorer _critic;
    private readonly PtxSource? _ptx;
    private readonly TokenRewardOptions _rewardOptions;
    private readonly RunningMoments? _scoreMoments;
    private readonly AdvantageEstimator _advantages = AdvantageEstimators.Get("gae");
    private readonly PolicyLossFunction _policyLoss;
    private readonly PolicyLossSettings _lossSettings;

    /// <summary>
    /// The critic starts from value_model, else reward_model, else the policy's model (a new value
    /// head when the folder has none); with ptx_coef the demonstrations are loaded too.
    /// </summary>
    public PpoLearner(PpoConfig cfg, RlContext ctx)
        : this(cfg, ctx, Placed(cfg, LoadCritic(cfg, ctx.Inputs)))
    {
    }

    private PpoLearner(PpoConfig cfg, RlContext ctx, SequenceScorer critic)
        : base(cfg, ctx, () => CreateOptimizer(cfg, ctx.Policy, critic))
    {
        _critic = critic;
        if (cfg.PtxCoef > 0 && ctx.Dp.Size > 1)
            throw new TrainingSetupException($"ptx_coef ({cfg.PtxCoef}) on {ctx.Dp.Size} ranks: the pretraining-mix batches are not shared out over ranks yet; train with ptx_coef 0 or on one rank");
        _ptx = Ptx(cfg, ctx);
        Kl = cfg.AdaptiveKl ? new AdaptiveKlController(cfg.InitKlCoef, cfg.KlTarget, cfg.KlHorizon) : new FixedKlController(cfg.InitKlCoef);
        _rewardOptions = new TokenRewardOptions
        {
            KlEstimator = KlEstimators.Parse(cfg.KlEstimator),
            MissingEosPenalty = cfg.MissingEosPenalty > 0 ? cfg.MissingEosPenalty : null,
            ScoreClip = cfg.ScoreClip > 0 ? cfg.ScoreClip : null,
        };
        _scoreMoments = cfg.NormalizeScores ? new RunningMoments() : null;
        _policyLoss = PolicyLosses.Get(cfg.PolicyLoss);
        _lossSettings = new PolicyLossSettings { ClipLow = cfg.ClipRange, DualClipC = cfg.DualClipC };
    }

    /// <summary>The policy and the critic.</summary>
    public override IReadOnlyDictionary<string, Module> Models => new Dictionary<string, Module> { ["policy"] = Ctx.Policy, ["critic"] = _critic };

    public IKlController Kl { get; }

    /// <summary>Steps taken (schedules count from it).</summary>
    public int StepsDone { get; private set; }

    /// <summary>AdamW over the policy's trainable weights (learning_rate) and the critic's (critic_learning_rate).</summary>
    public static AdamW CreateOptimizer(PpoConfig cfg, CausalLM policy, SequenceScorer critic)
    {
        float criticLr = cfg.CriticLearningRate > 0 ? cfg.CriticLearningRate : cfg.LearningRate;
        var groups = new List<ParamGroup>();
        foreach (var g in ParamGroups.DecayAndNoDecay(Named(policy, "policy."), cfg.WeightDecay))
            groups.Add(new ParamGroup("policy_" + g.Name, g.Params, cfg.LearningRate, g.WeightDecay));
        foreach (var g in ParamGroups.DecayAndNoDecay(Named(critic, "critic."), cfg.WeightDecay))
            groups.Add(new ParamGroup("critic_" + g.Name, g.Params, criticLr, g.WeightDecay));
        return new AdamW(groups, lr: cfg.LearningRate, weightDecay: cfg.WeightDecay);
    }

    private static IEnumerable<(string, Tensor)> Named(Module m, string prefix) =>
        m.NamedParameters().Where(p => p.Param.RequiresGrad).Select(p => (prefix + p.Name, p.Param.Value));

    /// <summary>
    /// Rollout, scoring, PPO epochs and the KL update for one batch of prompts. On several ranks
    /// each rank answers and scores its share of the prompts; the score normaliser, advantage
    /// whitening, the KL controller and the logged figures use the whole batch.
    /// </summary>
    public override RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex)
    {
        var clock = Stopwatch.StartNew();
        var (rollout, shard) = Generate(prompts);
        double tGenerate = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var scored = Score(rollout, shard);
        double tScore = clock.Elapsed.TotalSeconds;

        clock.Restart();
        Schedule.Apply(Optimizer, stepIndex);
        var update = Update(rollout, shard, scored);
        double tUpdate = clock.Elapsed.TotalSeconds;

        // The controller and the log see the same KL: Σ_t KL_t under kl_estimator, averaged over responses.
        double beta = Kl.Beta;
        Kl.Update(scored.MeanSequenceKl, shard.Total);
        StepsDone = stepIndex + 1;

        var m = new Dictionary<string, double>(update);
        int b = shard.Total;
        var mask = rollout.ResponseMask;
        double nonScore = Dp.Sum(scored.Rewards.KlPenalty.Sum().ItemDouble(), "non-score reward");
        double negLogp = Dp.Sum(-Masked.Zeroed(scored.OldLogp.Double(), mask).Sum().ItemDouble(), "entropy");
        m["objective/scores"] = scored.RawScores.Average();
        RewardMixture.AddComponentMeans(Ctx.Reward, m);
        m["objective/kl"] = scored.MeanSequenceKl;
        m["objective/kl_coef"] = beta;
        m["objective/entropy"] = negLogp / b;
        m["objective/non_score_reward"] = nonScore / b;
        m["objective/rlhf_reward"] = scored.FinalScores.Average() + (nonScore / b);
        if (scored.Gold is { } gold)
            m["objective/gold_score"] = gold.Average();
        m["val/explained_variance"] = ExplainedVariance.Compute(scored.Values, scored.Returns, mask, Dp.Comm);
        m["val/return"] = GlobalMasked.Mean(scored.Returns, mask, Dp.Comm);
        m["rollout/response_length"] = shard.Lengths.Average();
        m["rollout/eos_fraction"] = scored.Ended.Count(e => e > 0) / (double)b;
        m["time/generate"] = tGenerate;
        m["time/score"] = tScore;
        // Parts of time/score: log-probs under the policy and the reference, the critic's values, the reward.
        m["time/score_policy"] = scored.Times.Policy;
        m["time/score_ref"] = scored.Times.Reference;
        m["time/score_critic"] = scored.Times.Critic;
        m["time/score_reward"] = scored.Times.Reward;
        m["time/update"] = tUpdate;
        m["train/learning_rate"] = Optimizer.ParamGroups[0].Lr;
        LastMetrics = m;

        // This rank's rollouts for the text log (rank 0 holds the batch's first rows).
        var seqKl = Masked.RowSums(scored.Rewards.Kl, mask).ToDoubleArray();
        var samples = new RolloutSample[rollout.Count];
        for (int r = 0; r < samples.Length; r++)
            samples[r] = new RolloutSample(IRewardSource.LastUserText(rollout.Prompts[r].Messages), rollout.Texts[r], scored.RawScores[shard.Start + r], scored.Gold?[shard.Start + r], seqKl[r]);
        return new RlStepResult(m, samples);
    }

    /// <summary>
    /// What scoring a rollout gives. Tensors are this rank's rows [B, T], float64 where they carry
    /// statistics; the arrays are the whole batch's (every rank's rows, in order).
    /// </summary>
    internal sealed record Scored(Tensor OldLogp, Tensor RefLogp, Tensor Values, TokenRewardsOutput Rewards, Tensor Advantages, Tensor Returns,
        double[] RawScores, double[] FinalScores, double[] Ended, double[]? Gold, double MeanSequenceKl, ScoreTimes Times);

    /// <summary>Seconds spent in each part of scoring.</summary>
    internal readonly record struct ScoreTimes(double Policy, double Reference, double Critic, double Reward);

    internal Scored Score(RolloutBatch rollout, RolloutShard shard)
    {
        var mask = rollout.ResponseMask;
        long t0 = Stopwatch.GetTimestamp();
        var oldLogp = Rollouts.LogProbs(Ctx.Policy, rollout, Cfg.Temperature);
        long t1 = Stopwatch.GetTimestamp();
        var refLogp = Rollouts.ReferenceLogProbs(Ctx.Policy, Ctx.Reference, rollout, Cfg.Temperature);
        long t2 = Stopwatch.GetTimestamp();
        Tensor values;
        using (GradMode.NoGrad())
        using (TensorArena.Phase())
        {
            _critic.Eval();
            values = TensorArena.Keep(Rollouts.Values(_critic, rollout).Mul(mask));
            _critic.Train();
        }
        long t3 = Stopwatch.GetTimestamp();
        var promptDialogues = rollout.Prompts.Select(p => p.Messages).ToList();
        // Each rank scores its rows; the normalisers take in the whole batch's scores.
        var raw = Ctx.Reward.ScoreExamples(rollout.Prompts, rollout.Texts, x => Dp.Gather(x, "scores"));
        var times = new ScoreTimes(
            Stopwatch.GetElapsedTime(t0, t1).TotalSeconds,
            Stopwatch.GetElapsedTime(t1, t2).TotalSeconds,
            Stopwatch.GetElapsedTime(t2, t3).TotalSeconds,
            Stopwatch.GetElapsedTime(t3).TotalSeconds);
        var gold = Ctx.Gold is { } g ? Dp.Gather(g.ScoreDialogues(promptDialogues, rollout.Texts), "gold scores") : null;
        var ended = Dp.Gather([.. rollout.Ended.Select(e => e ? 1.0 : 0.0)], "ended");
        var final = TokenRewards.FinalScores((double[])raw.Clone(), ended, _rewardOptions, _scoreMoments);
        var rewards = TokenRewards.ComputeFromFinalScores(final.AsSpan(shard.Start, shard.Count).ToArray(), oldLogp, refLogp, mask, Kl.Beta, _rewardOptions);
        double meanKl = Dp.Size == 1 ? rewards.MeanSequenceKl : Dp.Sum(rewards.MeanSequenceKl * shard.Count, "kl") / shard.Total;
        var gae = _advantages(new AdvantageInputs { ResponseMask = mask, TokenRewards = rewards.Rewards, Values = values, Gamma = Cfg.Gamma, Lambda = Cfg.Lam });
        var advantages = Cfg.WhitenAdvantages ? Whitening.Whiten(gae.Advantages, mask, Dp.Comm) : gae.Advantages;
        return new Scored(oldLogp, refLogp, values, rewards, advantages, gae.Returns!, raw, final, ended, gold, meanKl, times);
    }

    private Dictionary<string, double> Update(RolloutBatch rollout, RolloutShard shard, Scored s)
    {
        var adv = s.Advantages.Float();
        var ret = s.Returns.Float();
        var policyParams = Ctx.Policy.TrainableParameters().ToList();
        var criticParams = _critic.TrainableParameters().ToList();
        var metrics = new UpdateMetrics();
        double ratioMax = double.NegativeInfinity, epochKl = 0;
        int microsPerPass = shard.Total / Cfg.MiniBatchSize * Cfg.GradientAccumulationSteps;
        // Every term is a token mean, so a rank's part weighs its share of the micro-batch's tokens.
        int epochs = Minibatches(shard, Cfg.PpoEpochs, Cfg.MiniBatchSize, metrics, LossAggregation.TokenMean, (rows, weight) =>
        {
            var mb = rollout.Select(rows);
            var (logp, entropy) = Rollouts.LogProbsAndEntropy(Ctx.Policy, mb, Cfg.Temperature);
            var pg = _policyLoss(logp, Rollouts.Rows(s.OldLogp, rows), Rollouts.Rows(adv, rows), mb.ResponseMask, _lossSettings);
            var v = Rollouts.Values(_critic, mb);
            var vl = ValueLoss.Compute(v, Rollouts.Rows(s.Values, rows), Rollouts.Rows(ret, rows), mb.ResponseMask, Cfg.ClipRangeValue);
            var bonus = EntropyBonus.Compute(entropy, mb.ResponseMask, Cfg.EntropyCoef);
            var loss = pg.Loss.Add(vl.Loss.Mul(Cfg.VfCoef));
            if (Cfg.EntropyCoef > 0)
                loss = loss.Add(bonus.Loss);
            if (_ptx is not null)
            {
                var ptxLoss = SftTrainer.Loss(Ctx.Policy, _ptx.Collator.Collate(_ptx.Loader.NextBatch()));
                metrics.Add("loss/ptx", ptxLoss.Item());
                loss = loss.Add(ptxLoss.Mul(Cfg.PtxCoef));
            }
            if (weight != 1)
                loss = loss.Mul((float)weight);
            loss.Mul(1f / Cfg.GradientAccumulationSteps).Backward();

            epochKl += pg.ApproxKl * weight;
            metrics.Add("policy/approxkl", pg.ApproxKl);
            metrics.Add("policy/clipfrac", pg.ClipFraction);
            if (Cfg.PolicyLoss == "dual_clip")
                metrics.Add("policy/clipfrac_lower", pg.DualClipFraction);
            metrics.Add("policy/ratio_mean", pg.RatioMean);
            ratioMax = Math.Max(ratioMax, pg.RatioMax);
            metrics.Add("policy/entropy", bonus.Entropy.Item());
            metrics.Add("loss/policy", pg.Loss.Item());
            metrics.Add("loss/value", vl.Loss.Item());
            metrics.Add("val/clipfrac", vl.ClipFraction);
            metrics.Add("val/vpred", Masked.Mean(v.Detach(), mb.ResponseMask).Item());
            return loss.Item();
        },
        clipGroups: [("train/grad_norm_policy", policyParams), ("train/grad_norm_critic", criticParams)],
        afterPass: () =>
        {
            // An epoch whose mean approx KL (over the whole batch) passes target_kl ends the step.
            bool go = !(Cfg.TargetKl > 0 && Dp.Sum(epochKl, "approx kl") / microsPerPass > Cfg.TargetKl);
            epochKl = 0;
            return go;
        });
        var m = metrics.Means(Dp);
        m["policy/ratio_max"] = Dp.Size == 1 ? ratioMax : Dp.Comm.Max(ratioMax, "ratio max");
        m["policy/epochs"] = epochs;
        return m;
    }

    /// <summary>Writes β, the score normaliser, the RNG and the step count into a checkpoint's state.</summary>
    public override void SaveState(TrainerState state)
    {
        base.SaveState(state);
        state.Set("kl_beta", Kl.State.Beta);
        state.Set("ppo_steps", StepsDone);
        if (_scoreMoments is not null)
        {
            var ms = _scoreMoments.State;
            state.SetDoubles("score_moments", [ms.Count, ms.Mean, ms.M2]);
        }
        if (_ptx is not null)
            state.Set("ptx_data", System.Text.Json.JsonSerializer.Serialize(_ptx.Loader.GetState()));
    }

    public override void LoadState(TrainerState state)
    {
        base.LoadState(state);
        Kl.State = new KlControllerState(state.GetDouble("kl_beta"));
        StepsDone = (int)state.GetLong("ppo_steps");
        if (_scoreMoments is not null && state.Contains("score_moments"))
        {
            var d = state.GetDoubles("score_moments");
            _scoreMoments.State = new RunningMomentsState((long)d[0], d[1], d[2]);
        }
        if (_ptx is not null && state.Contains("ptx_data"))
            _ptx.Loader.SetState(System.Text.Json.JsonSerializer.Deserialize<DataLoaderState>(state.GetString("ptx_data"))!);
    }

    // The critic lives on the run's device, before the optimizer over it is made.
    private static SequenceScorer Placed(PpoConfig cfg, SequenceScorer critic)
    {
        TrainerSetup.PlaceModels(cfg, critic);
        return critic;
    }

    private static SequenceScorer LoadCritic(PpoConfig cfg, TrainerInputs inputs)
    {
        var (path, key) = cfg.ValueModel is not null ? (cfg.ValueModel, "value_model")
            : cfg.RewardModel is not null ? (cfg.RewardModel, "reward_model") : (cfg.Model!, "model");
        var dir = TrainerSetup.RequireDir(path, key);
        // The critic reads the policy's tokens, so its vocabulary must cover the policy's tokenizer.
        inputs.CheckModel(dir);
        var critic = PretrainedIO.LoadScorer(dir, allowNewHead: true);
        if (critic.Score.Weight.Value.ToArray().All(v => v == 0))
            critic.Score.Weight.Assign(new Generator((ulong)cfg.Seed + 2).Normal(critic.Score.Weight.Shape, 0f, 0.02f));
        critic.Body.GradientCheckpointing = cfg.GradientCheckpointing;
        critic.Train();
        return critic;
    }

    private static PtxSource? Ptx(PpoConfig cfg, RlContext ctx)
    {
        var (tokenizer, template, policy) = (ctx.Tokenizer, ctx.Template, ctx.Policy);
        if (cfg.PtxCoef <= 0)
            return null;
        var file = TrainerSetup.DataFile(cfg.PtxFile, cfg.Data, "sft_train.jsonl", "ptx_file", required: true)!;
        var collator = new SftCollator(tokenizer, template, new SftCollatorOptions
        {
            MaxLength = Math.Min(cfg.PtxMaxLength, policy.Config.MaxPositions),
            MaxPromptLength = Math.Min(cfg.MaxPromptLength, cfg.PtxMaxLength - 1),
            PadTokenId = tokenizer.PadTokenId,
            SpecialTokensInContent = ctx.Inputs.Content,
        });
        int micro = cfg.MiniBatchSize / cfg.GradientAccumulationSteps;
        return new PtxSource(new DataLoader<SftExample>(SftDataset.Load(file, new DataLoadOptions()), micro, seed: (ulong)cfg.Seed + 3), collator);
    }
}
