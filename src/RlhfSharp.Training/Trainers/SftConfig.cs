using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Trainers;

/// <summary>Supervised fine-tuning on demonstrations (<c>rlhf sft</c>).</summary>
public sealed class SftConfig : TrainLoopConfig
{
    [ConfigKey("data", "A data folder laid out as `rlhf data builtin` writes it (sft_train.jsonl, sft_eval.jsonl, prompts_eval.jsonl, tokenizer/)")]
    public string? Data { get; set; }

    [ConfigKey("train_file", "Training demonstrations (JSONL: prompt/completion or messages); default <data>/sft_train.jsonl")]
    public string? TrainFile { get; set; }

    [ConfigKey("eval_file", "Held-out demonstrations for eval loss; default <data>/sft_eval.jsonl")]
    public string? EvalFile { get; set; }

    [ConfigKey("eval_prompts_file", "Held-out prompts for generation and gold scoring; default <data>/prompts_eval.jsonl")]
    public string? EvalPromptsFile { get; set; }

    [ConfigKey("model", "HF model folder to start from; empty = a new model shaped by model_init")]
    public string? Model { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder, else <data>/tokenizer")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "chatml";

    [ConfigKey("model_init", "Shape of a model trained from scratch")]
    public ModelInitSection ModelInit { get; set; } = new();

    [ConfigKey("max_length", "Tokens per example after truncation (prompt + completion)")]
    public int MaxLength { get; set; } = 64;

    [ConfigKey("max_prompt_length", "Prompt tokens kept (from the end)")]
    public int MaxPromptLength { get; set; } = 32;

    [ConfigKey("truncation", "Truncate long examples (false: a long example is an error)")]
    public bool Truncation { get; set; } = true;

    [ConfigKey("completion_only_loss", "Train on completion tokens only (false: the whole sequence)")]
    public bool CompletionOnlyLoss { get; set; } = true;

    [ConfigKey("skip_bad_lines", "Count and skip malformed data lines instead of stopping")]
    public bool SkipBadLines { get; set; }

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
        if (Data is null && TrainFile is null)
            yield return "give a data folder (data) or a train_file";
        if (MaxLength <= 1 || MaxPromptLength <= 0)
            yield return "max_length must be > 1 and max_prompt_length > 0";
        if (EvalPrompts < 0 || MaxNewTokens <= 0 || EvalTemperature < 0)
            yield return "eval_prompts must be >= 0, max_new_tokens > 0, eval_temperature >= 0";
    }
}
