using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>Supervised fine-tuning on demonstrations (<c>rlhf sft</c>).</summary>
public sealed class SftConfig : ModelTrainConfig
{
    [ConfigKey("eval_prompts_file", "Held-out prompts for generation and gold scoring; default <data>/prompts_eval.jsonl")]
    public string? EvalPromptsFile { get; set; }

    [ConfigKey("truncation", "Truncate long examples (false: a long example is an error)")]
    public bool Truncation { get; set; } = true;

    [ConfigKey("completion_only_loss", "Train on completion tokens only (false: the whole sequence)")]
    public bool CompletionOnlyLoss { get; set; } = true;

    [ConfigKey("eval_prompts", "Held-out prompts answered at each evaluation (0 = all)")]
    public int EvalPrompts { get; set; } = 100;

    [ConfigKey("max_new_tokens", "Longest generated response at evaluation")]
    public int MaxNewTokens { get; set; } = 24;

    [ConfigKey("eval_temperature", "Sampling temperature at evaluation (0 = greedy)")]
    public float EvalTemperature { get; set; }

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (EvalPrompts < 0 || MaxNewTokens <= 0 || EvalTemperature < 0)
            yield return "eval_prompts must be >= 0, max_new_tokens > 0, eval_temperature >= 0";
    }
}
