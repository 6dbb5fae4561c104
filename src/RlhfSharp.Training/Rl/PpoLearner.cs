using System.Diagnostics;
using RlhfSharp.Alignment;
using RlhfSharp.Alignment.Kl;
using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Text;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rl;
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
public sealed class PpoLearner : IRlLearner
{
    private readonly PpoConfig _cfg;
    private readonly CausalLM _policy;
    private readonly CausalLM? _reference;
    private readonly SequenceScorer _critic;
    private readonly IRewardSource _reward;
    private readonly BpeTokenizer _tokenizer;
    private readonly PromptCollator _collator;
    private readonly IRewardSource? _gold;
    private readonly PtxSource? _ptx;
    private readonly GenerationOptions _gen;
    private readonly LrSchedule _schedule;
    private readonly TokenRewardOptions _rewardOptions;
    private readonly RunningMoments? _scoreMoments;

    public PpoLearner(PpoConfig cfg, CausalLM policy, CausalLM? reference, SequenceScorer critic, IRewardSource reward,
        BpeTokenizer tokenizer, PromptCollator collator, IRewardSource? gold = null, PtxSource? ptx = null, Optimizer? optimizer = null)
    {
        _cfg = cfg;
        _policy = policy;
        _reference = reference;
        _critic = critic;
        _reward = reward;
        _tokenizer = tokenizer;
        _collator = collator;
        _gold = gold;
        _ptx = ptx;
        if (reference is null && policy.SetAdaptersEnabled(true) == 0)
            throw new ArgumentException("without a reference model the policy must carry LoRA adapters (the reference is the policy with them off)", nameof(reference));
        _gen = cfg.RolloutSampling(tokenizer);
        Optimizer = optimizer ?? CreateOptimizer(cfg, policy, critic);
        _schedule = TrainerSetup.Schedule(cfg);
        Kl = cfg.AdaptiveKl ? new AdaptiveKlController(cfg.InitKlCoef, cfg.KlTarget, cfg.KlHorizon) : new FixedKlController(cfg.InitKlCoef);
        _rewardOptions = new TokenRewardOptions
        {
            KlEstimator = cfg.ParsedKlEstimator,
            MissingEosPenalty = cfg.MissingEosPenalty > 0 ? cfg.MissingEosPenalty : null,
            ScoreClip = cfg.ScoreClip > 0 ? cfg.ScoreClip : null,
        };
        _scoreMoments = cfg.NormalizeScores ? new RunningMoments() : null;
        Rng = new Generator((ulong)cfg.Seed + 11);
    }

    public Optimizer Optimizer { get; }

    /// <summary>The policy and the critic.</summary>
    public IReadOnlyDictionary<string, Module> Models => new Dictionary<string, Module> { ["policy"] = _policy, ["critic"] = _critic };

    public IKlController Kl { get; }

    /// <summary>Draws rollouts and minibatch orders; checkpointed.</summary>
    public Generator Rng { get; }

    /// <summary>Steps taken (schedules count from it).</summary>
    public int StepsDone { get; private set; }

    public IReadOnlyDictionary<string, double> LastMetrics { get; private set; } = new Dictionary<string, double>();

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

    /// <summary>Rollout, scoring, PPO epochs and the KL update for one batch of prompts.</summary>
    public RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex)
    {
        var clock = Stopwatch.StartNew();
        var rollout = Rollouts.Generate(_policy, _collator, _tokenizer, prompts, _gen, Rng);
        double tGenerate = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var scored = Score(rollout);
        double tScore = clock.Elapsed.TotalSeconds;

        clock.Restart();
        _schedule.Apply(Optimizer, stepIndex);
        var update = Update(rollout, scored);
        double tUpdate = clock.Elapsed.TotalSeconds;

        double beta = Kl.Beta;
        Kl.Update(scored.Details.MeanSequenceKl, rollout.Count);
        StepsDone = stepIndex + 1;

        var m = new Dictionary<string, double>(update);
        int b = rollout.Count;
        var mask = scored.Mask;
        double klSum = 0, nonScore = 0, negLogp = 0;
        var seqKl = new double[b];
        for (int r = 0; r < b; r++)
        {
            for (int t = 0; t < mask.GetLength(1); t++)
            {
                if (mask[r, t] == 0)
                    continue;
                double k1 = scored.OldLogp[r, t] - scored.RefLogp[r, t];
                seqKl[r] += k1;
                nonScore += scored.Details.KlPenalty[r, t];
                negLogp -= scored.OldLogp[r, t];
            }
            klSum += seqKl[r];
        }
        m["objective/scores"] = scored.RawScores.Average();
        RewardMixture.AddComponentMeans(_reward, m);
        m["objective/kl"] = klSum / b;
        m["objective/kl_coef"] = beta;
        m["objective/entropy"] = negLogp / b;
        m["objective/non_score_reward"] = nonScore / b;
        m["objective/rlhf_reward"] = scored.Details.Scores.Average() + (nonScore / b);
        if (scored.Gold is { } gold)
            m["objective/gold_score"] = gold.Average();
        m["val/explained_variance"] = ExplainedVariance.Compute(scored.Values, scored.Returns, mask);
        m["val/return"] = Masked.Mean(scored.Returns, mask);
        m["rollout/response_length"] = rollout.Lengths.Average();
        m["rollout/eos_fraction"] = rollout.Ended.Count(e => e) / (double)b;
        m["time/generate"] = tGenerate;
        m["time/score"] = tScore;
        m["time/update"] = tUpdate;
        m["train/learning_rate"] = Optimizer.ParamGroups[0].Lr;
        LastMetrics = m;

        var samples = new RolloutSample[b];
        for (int r = 0; r < b; r++)
            samples[r] = new RolloutSample(IRewardSource.LastUserText(rollout.Prompts[r].Messages), rollout.Texts[r], scored.RawScores[r], scored.Gold?[r], seqKl[r]);
        return new RlStepResult(m, samples);
    }

    /// <summary>What scoring a rollout gives; grids are [B, N].</summary>
    internal sealed record Scored(double[,] Mask, double[,] OldLogp, double[,] RefLogp, double[,] Values, double[,] Advantages, double[,] Returns,
        double[] RawScores, double[]? Gold, TokenRewardsResult Details);

    internal Scored Score(RolloutBatch rollout)
    {
        var mask = ResponseMask.ToGrid(rollout.ResponseMask);
        var oldLogp = ResponseMask.ToGrid(Rollouts.LogProbs(_policy, rollout, _cfg.Temperature));
        var refLogp = ResponseMask.ToGrid(Rollouts.ReferenceLogProbs(_policy, _reference, rollout, _cfg.Temperature));
        double[,] values;
        using (GradMode.NoGrad())
        {
            _critic.Eval();
            values = ResponseMask.ToGrid(Rollouts.Values(_critic, rollout).Mul(rollout.ResponseMask));
            _critic.Train();
        }
        var promptDialogues = rollout.Prompts.Select(p => p.Messages).ToList();
        var raw = _reward.ScoreDialogues(promptDialogues, rollout.Texts);
        var gold = _gold?.ScoreDialogues(promptDialogues, rollout.Texts);
        var details = TokenRewards.Compute(raw, rollout.Ended, oldLogp, refLogp, mask, Kl.Beta, _rewardOptions, _scoreMoments);
        var (advantages, returns) = Gae.Compute(details.Rewards, values, mask, _cfg.Gamma, _cfg.Lam);
        if (_cfg.WhitenAdvantages)
            advantages = Whitening.Whiten(advantages, mask);
        return new Scored(mask, oldLogp, refLogp, values, advantages, returns, raw, gold, details);
    }

    private Dictionary<string, double> Update(RolloutBatch rollout, Scored s)
    {
        int b = rollout.Count, mini = _cfg.MiniBatchSize, micro = mini / _cfg.GradientAccumulationSteps;
        var oldLogp = ResponseMask.FromGrid(s.OldLogp);
        var values = ResponseMask.FromGrid(s.Values);
        var adv = ResponseMask.FromGrid(s.Advantages);
        var ret = ResponseMask.FromGrid(s.Returns);
        var policyParams = _policy.TrainableParameters().ToList();
        var criticParams = _critic.TrainableParameters().ToList();

        var sums = new Dictionary<string, double>();
        void Add(string k, double v) => sums[k] = sums.GetValueOrDefault(k) + v;
        double ratioMax = double.NegativeInfinity;
        int micros = 0, epochs = 0, updates = 0;
        for (int epoch = 0; epoch < _cfg.PpoEpochs; epoch++)
        {
            epochs++;
            var order = Enumerable.Range(0, b).ToList();
            Rng.Shuffle(order);
            double epochKl = 0;
            int epochMicros = 0;
            for (int start = 0; start < b; start += mini)
            {
                Optimizer.ZeroGrad();
                for (int ms = start; ms < start + mini; ms += micro)
                {
                    var rows = order.GetRange(ms, micro);
                    var mb = rollout.Select(rows);
                    var (logp, entropy) = Rollouts.LogProbsAndEntropy(_policy, mb, _cfg.Temperature);
                    var pg = PolicyLoss.Compute(logp, Rollouts.Rows(oldLogp, rows), Rollouts.Rows(adv, rows), mb.ResponseMask, _cfg.ClipRange);
                    var v = Rollouts.Values(_critic, mb);
                    var vOld = Rollouts.Rows(values, rows);
                    var vl = ValueLoss.Compute(v, vOld, Rollouts.Rows(ret, rows), mb.ResponseMask, _cfg.ClipRangeValue);
                    var ent = LossAggregator.Aggregate(entropy, mb.ResponseMask, LossAggregation.TokenMean);
                    var loss = pg.Loss.Add(vl.Loss.Mul(_cfg.VfCoef));
                    if (_cfg.EntropyCoef > 0)
                        loss = loss.Sub(ent.Mul(_cfg.EntropyCoef));
                    if (_ptx is not null)
                    {
                        var ptxLoss = SftTrainer.Loss(_policy, _ptx.Collator.Collate(_ptx.Loader.NextBatch()));
                        Add("loss/ptx", ptxLoss.Item());
                        loss = loss.Add(ptxLoss.Mul(_cfg.PtxCoef));
                    }
                    loss.Mul(1f / _cfg.GradientAccumulationSteps).Backward();

                    micros++;
                    epochMicros++;
                    epochKl += pg.ApproxKl;
                    Add("policy/approxkl", pg.ApproxKl);
                    Add("policy/clipfrac", pg.ClipFraction);
                    Add("policy/ratio_mean", pg.RatioMean);
                    ratioMax = Math.Max(ratioMax, pg.RatioMax);
                    Add("policy/entropy", ent.Item());
                    Add("loss/policy", pg.Loss.Item());
                    Add("loss/value", vl.Loss.Item());
                    Add("val/clipfrac", vl.ClipFraction);
                    Add("val/vpred", Alignment.Masked.Mean(v.Detach(), mb.ResponseMask).Item());
                }
                Add("train/grad_norm_policy", _cfg.MaxGradNorm > 0 ? GradClip.ClipGradNorm(policyParams, _cfg.MaxGradNorm) : 0);
                Add("train/grad_norm_critic", _cfg.MaxGradNorm > 0 ? GradClip.ClipGradNorm(criticParams, _cfg.MaxGradNorm) : 0);
                Optimizer.Step();
                updates++;
            }
            if (_cfg.TargetKl > 0 && epochKl / epochMicros > _cfg.TargetKl)
                break;
        }
        var m = new Dictionary<string, double>();
        foreach (var (k, v) in sums)
            m[k] = v / (k.StartsWith("train/grad_norm", StringComparison.Ordinal) ? updates : micros);
        m["policy/ratio_max"] = ratioMax;
        m["policy/epochs"] = epochs;
        return m;
    }

    /// <summary>Writes β, the score normaliser, the RNG and the step count into a checkpoint's state.</summary>
    public void SaveState(TrainerState state)
    {
        state.Set("kl_beta", Kl.State.Beta);
        state.Set("rng", Rng.GetState());
        state.Set("ppo_steps", StepsDone);
        if (_scoreMoments is not null)
        {
            var ms = _scoreMoments.State;
            state.SetDoubles("score_moments", [ms.Count, ms.Mean, ms.M2]);
        }
        if (_ptx is not null)
            state.Set("ptx_data", System.Text.Json.JsonSerializer.Serialize(_ptx.Loader.GetState()));
    }

    public void LoadState(TrainerState state)
    {
        Kl.State = new KlControllerState(state.GetDouble("kl_beta"));
        Rng.SetState(state.GetWords("rng"));
        StepsDone = (int)state.GetLong("ppo_steps");
        if (_scoreMoments is not null && state.Contains("score_moments"))
        {
            var d = state.GetDoubles("score_moments");
            _scoreMoments.State = new RunningMomentsState((long)d[0], d[1], d[2]);
        }
        if (_ptx is not null && state.Contains("ptx_data"))
            _ptx.Loader.SetState(System.Text.Json.JsonSerializer.Deserialize<DataLoaderState>(state.GetString("ptx_data"))!);
    }
}
