using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Trainers;

/// <summary>Reward-model training on preference pairs (<c>rlhf rm</c>).</summary>
public sealed class RewardConfig : TrainLoopConfig
{
    public RewardConfig()
    {
        MaxSteps = 200;
        LearningRate = 5e-4f;
        EvalEvery = 50;
        SaveEvery = 50;
    }

    [ConfigKey("data", "A data folder laid out as `rlhf data builtin` writes it (prefs_train.jsonl, prefs_eval.jsonl, tokenizer/)")]
    public string? Data { get; set; }

    [ConfigKey("train_file", "Training preference pairs (JSONL: prompt/chosen/rejected or the HH form); default <data>/prefs_train.jsonl")]
    public string? TrainFile { get; set; }

    [ConfigKey("eval_file", "Held-out pairs for accuracy; default <data>/prefs_eval.jsonl")]
    public string? EvalFile { get; set; }

    [ConfigKey("model", "HF model folder to start from (usually the SFT model); empty = a new model shaped by model_init")]
    public string? Model { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder, else <data>/tokenizer")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "chatml";

    [ConfigKey("model_init", "Shape of a model trained from scratch")]
    public ModelInitSection ModelInit { get; set; } = new();

    [ConfigKey("max_length", "Tokens per sequence after truncation (prompt + response)")]
    public int MaxLength { get; set; } = 64;

    [ConfigKey("max_prompt_length", "Prompt tokens kept (from the end)")]
    public int MaxPromptLength { get; set; } = 32;

    [ConfigKey("margin", "Margin m in −log σ(r_chosen − r_rejected − m) (0 = plain Bradley–Terry)")]
    public float Margin { get; set; }

    [ConfigKey("skip_bad_lines", "Count and skip malformed data lines instead of stopping")]
    public bool SkipBadLines { get; set; }

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (Data is null && TrainFile is null)
            yield return "give a data folder (data) or a train_file";
        if (MaxLength <= 1 || MaxPromptLength <= 0)
            yield return "max_length must be > 1 and max_prompt_length > 0";
        if (Margin < 0)
            yield return $"margin must be >= 0, got {Margin}";
    }
}
