using RlhfSharp.Alignment.Kl;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// PPO with a learned critic (<c>rlhf ppo</c>), step 3 of Ouyang et al. 2022. One step = one
/// rollout batch of <c>batch_size</c> prompts, scored, then <c>ppo_epochs</c> passes over it in
/// minibatches. Key names follow TRL's PPOConfig where it has one.
/// </summary>
public sealed class PpoConfig : RlConfig
{
    public PpoConfig() => BatchSize = 64;

    [ConfigKey("mini_batch_size", "Rollouts per optimizer step inside a PPO epoch (split further by gradient_accumulation_steps)")]
    public int MiniBatchSize { get; set; } = 16;

    [ConfigKey("ppo_epochs", "Passes over each rollout batch")]
    public int PpoEpochs { get; set; } = 4;

    [ConfigKey("cliprange", "Policy ratio clip ε")]
    public float ClipRange { get; set; } = 0.2f;

    [ConfigKey("cliprange_value", "Value clip around the rollout's values")]
    public float ClipRangeValue { get; set; } = 0.2f;

    [ConfigKey("vf_coef", "Weight of the value loss")]
    public float VfCoef { get; set; } = 0.1f;

    [ConfigKey("critic_learning_rate", "Critic learning rate (0 = learning_rate)")]
    public float CriticLearningRate { get; set; }

    [ConfigKey("gamma", "Discount γ of GAE")]
    public float Gamma { get; set; } = 1f;

    [ConfigKey("lam", "λ of GAE")]
    public float Lam { get; set; } = 0.95f;

    [ConfigKey("whiten_advantages", "Normalise advantages over the batch's real tokens")]
    public bool WhitenAdvantages { get; set; } = true;

    [ConfigKey("init_kl_coef", "Starting KL coefficient β")]
    public float InitKlCoef { get; set; } = 0.1f;

    [ConfigKey("adaptive_kl", "Move β towards kl_target (Ziegler et al. 2019); false keeps β fixed")]
    public bool AdaptiveKl { get; set; } = true;

    [ConfigKey("kl_target", "Target KL per response (nats, summed over tokens) of the adaptive controller")]
    public float KlTarget { get; set; } = 1f;

    [ConfigKey("kl_horizon", "Samples over which β may change by at most 20%")]
    public float KlHorizon { get; set; } = 10000f;

    [ConfigKey("kl_estimator", "Per-token KL in the reward, steered by the controller and logged as objective/kl: k1 (log ratio, as TRL), k2 or k3")]
    public string KlEstimator { get; set; } = "k1";

    [ConfigKey("entropy_coef", "Weight of the entropy bonus (0 = off)")]
    public float EntropyCoef { get; set; }

    [ConfigKey("target_kl", "Stop a step's remaining PPO epochs when the epoch's approx KL passes this (0 = never)")]
    public float TargetKl { get; set; }

    [ConfigKey("missing_eos_penalty", "Subtracted from the score of a response that never generated EOS (0 = none)")]
    public float MissingEosPenalty { get; set; }

    [ConfigKey("score_clip", "Clip scores to ±this after normalisation (0 = off)")]
    public float ScoreClip { get; set; }

    [ConfigKey("normalize_scores", "Divide scores by their running std after subtracting the running mean")]
    public bool NormalizeScores { get; set; }

    [ConfigKey("ptx_coef", "Weight of the pre-training (SFT) loss mixed into each update, PPO-ptx (0 = off)")]
    public float PtxCoef { get; set; }

    [ConfigKey("ptx_file", "Demonstrations for the ptx loss; default <data>/sft_train.jsonl")]
    public string? PtxFile { get; set; }

    [ConfigKey("ptx_max_length", "Tokens per ptx sequence")]
    public int PtxMaxLength { get; set; } = 64;

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (PtxMaxLength <= 1)
            yield return "ptx_max_length must be > 1";
        if (MiniBatchSize <= 0 || BatchSize % MiniBatchSize != 0)
            yield return $"mini_batch_size ({MiniBatchSize}) must be positive and divide batch_size ({BatchSize})";
        if (MiniBatchSize % GradientAccumulationSteps != 0)
            yield return $"gradient_accumulation_steps ({GradientAccumulationSteps}) must divide mini_batch_size ({MiniBatchSize})";
        if (PpoEpochs <= 0)
            yield return $"ppo_epochs must be positive, got {PpoEpochs}";
        if (!(ClipRange > 0 && ClipRange < 1) || !(ClipRangeValue > 0))
            yield return "cliprange must be in (0, 1) and cliprange_value positive";
        if (VfCoef < 0 || CriticLearningRate < 0 || EntropyCoef < 0 || TargetKl < 0 || MissingEosPenalty < 0 || ScoreClip < 0 || PtxCoef < 0)
            yield return "vf_coef, critic_learning_rate, entropy_coef, target_kl, missing_eos_penalty, score_clip and ptx_coef must be >= 0";
        if (Gamma is < 0 or > 1 || Lam is < 0 or > 1)
            yield return "gamma and lam must be in [0, 1]";
        if (InitKlCoef < 0 || !(KlTarget > 0) || !(KlHorizon > 0))
            yield return "init_kl_coef must be >= 0, kl_target and kl_horizon positive";
        if (!KlEstimators.Names.Contains(KlEstimator))
            yield return $"kl_estimator: unknown KL estimator '{KlEstimator}'; valid: {string.Join(", ", KlEstimators.Names)}";
    }
}
