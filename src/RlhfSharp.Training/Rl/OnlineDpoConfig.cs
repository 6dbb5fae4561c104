using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// Online DPO (<c>rlhf online-dpo</c>; Guo et al. 2024): each step samples two answers per prompt from
/// the current policy, a judge picks the better one, and the DPO loss trains on the pair against the
/// frozen reference. One step = <c>batch_size</c> prompts × 2 answers, one optimizer step. Key names
/// follow TRL's OnlineDPOConfig (TRL's <c>max_new_tokens</c> is <c>response_length</c> here).
/// </summary>
public sealed class OnlineDpoConfig : RlConfig
{
    public OnlineDpoConfig() => BatchSize = 8;

    [ConfigKey("beta", "DPO β: the strength of the pull towards the reference")]
    public float Beta { get; set; } = 0.1f;

    [ConfigKey("loss_type", "sigmoid (DPO) or ipo (IPO, length-normalised log-probs)")]
    public string LossType { get; set; } = "sigmoid";

    [ConfigKey("judge", "Who picks the better of the two answers: reward (the run's reward: reward_model and/or reward_funcs, weighted) or constitution (the checkable principles of a constitution file). Tied answers are left out of the loss")]
    public string Judge { get; set; } = "reward";

    [ConfigKey("constitution", "Constitution YAML for judge: constitution; default <data>/constitution.yaml")]
    public string? Constitution { get; set; }

    [ConfigKey("missing_eos_penalty", "Subtracted from the judge's score of an answer that did not end with EOS (0 = none)")]
    public float MissingEosPenalty { get; set; }

    internal DpoLossType ParsedLossType => LossType == "ipo" ? DpoLossType.Ipo : DpoLossType.Sigmoid;

    /// <summary>The constitution file judge: constitution reads (null when neither key nor data folder says).</summary>
    internal string? ConstitutionFile => Constitution ?? (Data is null ? null : Path.Combine(Data, "constitution.yaml"));

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (!(Beta > 0))
            yield return $"beta must be positive (TRL's default is 0.1), got {Beta}";
        if (LossType is not ("sigmoid" or "ipo"))
            yield return $"loss_type must be sigmoid or ipo, got '{LossType}'";
        if (Judge is not ("reward" or "constitution"))
            yield return $"judge must be reward (the run's reward_model/reward_funcs) or constitution, got '{Judge}'";
        if (Judge == "constitution" && ConstitutionFile is null)
            yield return "judge: constitution needs a constitution file (key 'constitution') or a data folder that holds constitution.yaml";
        if (!(MissingEosPenalty >= 0) || float.IsInfinity(MissingEosPenalty))
            yield return $"missing_eos_penalty must be a finite number >= 0, got {MissingEosPenalty}";
        if (BatchSize % GradientAccumulationSteps != 0)
            yield return $"gradient_accumulation_steps ({GradientAccumulationSteps}) must divide batch_size ({BatchSize}), the pairs of one optimizer step";
    }
}
