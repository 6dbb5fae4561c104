using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>Reward-model training on preference pairs (<c>rlhf rm</c>).</summary>
public sealed class RewardConfig : ModelTrainConfig
{
    public RewardConfig()
    {
        MaxSteps = 200;
        LearningRate = 5e-4f;
        EvalEvery = 50;
        SaveEvery = 50;
    }

    [ConfigKey("margin", "Margin m in −log σ(r_chosen − r_rejected − m) (0 = plain Bradley–Terry)")]
    public float Margin { get; set; }

    [ConfigKey("ties_files", "Pairs a labeller found equally good ({\"prompt\", \"response_a\", \"response_b\"} lines, the ties.jsonl of `rlhf label`), mixed into training with the Bradley–Terry label 1/2, which pulls their two rewards together")]
    public List<string> TiesFiles { get; set; } = [];

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (Margin < 0)
            yield return $"margin must be >= 0, got {Margin}";
    }
}
