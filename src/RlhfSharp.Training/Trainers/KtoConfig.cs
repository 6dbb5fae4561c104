using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Trainers;

/// <summary>Kahneman–Tversky optimisation on unpaired labelled completions (<c>rlhf kto</c>); TRL's KTOConfig names.</summary>
public sealed class KtoConfig : PreferenceTrainConfig
{
    [ConfigKey("ref_model", "Frozen reference policy; default the starting model")]
    public string? RefModel { get; set; }

    [ConfigKey("beta", "β: how far the policy may move from the reference (scale of the implicit reward β·log π/π_ref)")]
    public float Beta { get; set; } = 0.1f;

    [ConfigKey("desirable_weight", "λ_D: weight of a desirable example's loss (raise it when desirable examples are fewer)")]
    public float DesirableWeight { get; set; } = 1f;

    [ConfigKey("undesirable_weight", "λ_U: weight of an undesirable example's loss")]
    public float UndesirableWeight { get; set; } = 1f;

    protected override string Verb => "kto";

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (!(Beta > 0) || float.IsInfinity(Beta))
            yield return $"beta must be a positive finite number, got {Beta}";
        if (!(DesirableWeight > 0) || float.IsInfinity(DesirableWeight))
            yield return $"desirable_weight must be a positive finite number, got {DesirableWeight}";
        if (!(UndesirableWeight > 0) || float.IsInfinity(UndesirableWeight))
            yield return $"undesirable_weight must be a positive finite number, got {UndesirableWeight}";
    }
}
