using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// The keys the offline preference trainers (KTO, ORPO, SimPO) share: a starting model and the
/// held-out generation that gives eval/gold_score and eval/win_rate_vs_ref against it.
/// </summary>
public abstract class PreferenceTrainConfig : ModelTrainConfig
{
    protected PreferenceTrainConfig()
    {
        MaxSteps = 200;
        LearningRate = 1e-4f;
        EvalEvery = 50;
        SaveEvery = 50;
    }

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

    /// <summary>The verb's name, for messages (<c>kto</c>, <c>orpo</c>, <c>simpo</c>).</summary>
    protected abstract string Verb { get; }

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (Model is null)
            yield return $"model is required: the SFT model folder {Verb} starts from";
        if (EvalPrompts < 0 || MaxNewTokens <= 0 || EvalTemperature < 0 || EvalSamples <= 0)
            yield return "eval_prompts must be >= 0, max_new_tokens > 0, eval_temperature >= 0, eval_samples > 0";
    }
}
