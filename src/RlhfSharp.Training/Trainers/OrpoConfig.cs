using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Trainers;

/// <summary>Odds-ratio preference optimisation on preference pairs (<c>rlhf orpo</c>); TRL's ORPOConfig names. No reference model.</summary>
public sealed class OrpoConfig : PreferenceTrainConfig
{
    [ConfigKey("beta", "λ: weight of the odds-ratio term added to the chosen responses' NLL (TRL's default 0.1)")]
    public float Beta { get; set; } = 0.1f;

    protected override string Verb => "orpo";

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (!(Beta > 0) || float.IsInfinity(Beta))
            yield return $"beta must be a positive finite number (ORPO's λ), got {Beta}";
    }
}
