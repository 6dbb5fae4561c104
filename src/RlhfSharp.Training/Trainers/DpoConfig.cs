using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>Direct preference optimisation on preference pairs (<c>rlhf dpo</c>); TRL's DPOConfig names.</summary>
public sealed class DpoConfig : ModelTrainConfig
{
    public DpoConfig()
    {
        MaxSteps = 200;
        LearningRate = 1e-4f;
        EvalEvery = 50;
        SaveEvery = 50;
    }

    [ConfigKey("ref_model", "Frozen reference policy; default the starting model")]
    public string? RefModel { get; set; }

    [ConfigKey("beta", "β: strength of the implicit KL constraint (sigmoid) or 1/(2β) target margin (ipo)")]
    public float Beta { get; set; } = 0.1f;

    [ConfigKey("loss_type", "sigmoid (DPO), ipo (IPO, length-normalised log-probs)")]
    public string LossType { get; set; } = "sigmoid";

    [ConfigKey("label_smoothing", "Conservative DPO: assumed probability ε that a label is flipped (sigmoid only)")]
    public float LabelSmoothing { get; set; }

    [ConfigKey("rpo_alpha", "Weight of the chosen responses' NLL added to the loss (RPO, Pang et al. 2024; 0 = off)")]
    public float RpoAlpha { get; set; }

    [ConfigKey("eval_prompts_file", "Held-out prompts for generation and gold scoring; default <data>/prompts_eval.jsonl")]
    public string? EvalPromptsFile { get; set; }

    [ConfigKey("eval_prompts", "Held-out prompts answered at each evaluation (0 = all)")]
    public int EvalPrompts { get; set; }

    [ConfigKey("max_new_tokens", "Longest generated response at evaluation")]
    public int MaxNewTokens { get; set; } = 24;

    [ConfigKey("eval_temperature", "Sampling temperature at evaluation (0 = greedy); 1 compares the policies as they are sampled")]
    public float EvalTemperature { get; set; } = 1f;

    [ConfigKey("eval_samples", "Responses per held-out prompt at evaluation (sampled evaluation only): more samples, a less noisy win rate")]
    public int EvalSamples { get; set; } = 1;

    internal DpoLossType ParsedLossType => LossType == "ipo" ? DpoLossType.Ipo : DpoLossType.Sigmoid;

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (Model is null)
            yield return "model is required: the SFT model folder DPO starts from";
        if (!(Beta > 0))
            yield return $"beta must be positive, got {Beta}";
        if (LossType is not ("sigmoid" or "ipo"))
            yield return $"loss_type must be sigmoid or ipo, got '{LossType}'";
        if (LabelSmoothing is < 0 or >= 0.5f)
            yield return $"label_smoothing must be in [0, 0.5), got {LabelSmoothing}";
        if (RpoAlpha < 0)
            yield return $"rpo_alpha must be >= 0, got {RpoAlpha}";
        if (LabelSmoothing > 0 && LossType == "ipo")
            yield return "label_smoothing applies to the sigmoid loss only";
        if (EvalPrompts < 0 || MaxNewTokens <= 0 || EvalTemperature < 0 || EvalSamples <= 0)
            yield return "eval_prompts must be >= 0, max_new_tokens > 0, eval_temperature >= 0, eval_samples > 0";
    }
}
