using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Trainers;

/// <summary>SimPO on preference pairs (<c>rlhf simpo</c>); the names of TRL's CPOConfig with loss_type simpo. No reference model.</summary>
public sealed class SimpoConfig : PreferenceTrainConfig
{
    [ConfigKey("beta", "β: scale of the length-normalised log-prob reward (the SimPO paper uses 2 to 10)")]
    public float Beta { get; set; } = 2f;

    [ConfigKey("simpo_gamma", "γ: target reward margin, in reward units, the chosen reward must beat the rejected one by")]
    public float SimpoGamma { get; set; } = 0.5f;

    [ConfigKey("cpo_alpha", "Weight of the chosen responses' token-mean NLL added to the loss (CPO-SimPO; 0 = pure SimPO)")]
    public float CpoAlpha { get; set; }

    [ConfigKey("label_smoothing", "Assumed probability that a pair's label is flipped, in [0, 0.5)")]
    public float LabelSmoothing { get; set; }

    protected override string Verb => "simpo";

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (!(Beta > 0) || float.IsInfinity(Beta))
            yield return $"beta must be a positive finite number, got {Beta}";
        if (!(SimpoGamma >= 0) || float.IsInfinity(SimpoGamma))
            yield return $"simpo_gamma must be a finite number >= 0, got {SimpoGamma}";
        if (!(CpoAlpha >= 0) || float.IsInfinity(CpoAlpha))
            yield return $"cpo_alpha must be a finite number >= 0, got {CpoAlpha}";
        if (LabelSmoothing is < 0 or >= 0.5f || float.IsNaN(LabelSmoothing))
            yield return $"label_smoothing must be in [0, 0.5), got {LabelSmoothing}";
    }
}
