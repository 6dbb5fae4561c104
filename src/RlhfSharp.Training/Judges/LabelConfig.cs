using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Judges;

/// <summary><c>rlhf label</c>: sample responses from a policy and let a judge pick the better one (RLAIF).</summary>
public sealed class LabelConfig : IValidatableConfig
{
    [ConfigKey("data", "A data folder laid out as `rlhf data builtin` writes it: default prompts, constitution and the gold scorer")]
    public string? Data { get; set; }

    [ConfigKey("prompts_file", "Prompts to label (JSONL); default <data>/prompts_train.jsonl")]
    public string? PromptsFile { get; set; }

    [ConfigKey("model", "The policy that writes the responses (an HF model folder)")]
    public string? Model { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "chatml";

    [ConfigKey("judge", "gold (the built-in task's scorer), constitution, or local_lm (a language model asked A or B in both orders)")]
    public string Judge { get; set; } = "constitution";

    [ConfigKey("constitution", "Constitution YAML for judge: constitution; default <data>/constitution.yaml")]
    public string? Constitution { get; set; }

    [ConfigKey("judge_model", "Model folder of the local_lm judge (with its tokenizer)")]
    public string? JudgeModel { get; set; }

    [ConfigKey("samples_per_prompt", "Responses sampled per prompt, judged in pairs (an even number)")]
    public int SamplesPerPrompt { get; set; } = 2;

    [ConfigKey("max_prompts", "Prompts to label (0 = all)")]
    public int MaxPrompts { get; set; }

    [ConfigKey("temperature", "Sampling temperature of the responses")]
    public float Temperature { get; set; } = 1f;

    [ConfigKey("max_new_tokens", "Longest response")]
    public int MaxNewTokens { get; set; } = 24;

    [ConfigKey("max_prompt_length", "Prompt tokens kept (from the end)")]
    public int MaxPromptLength { get; set; } = 32;

    [ConfigKey("batch_size", "Prompts per generation batch")]
    public int BatchSize { get; set; } = 64;

    [ConfigKey("seed", "Seed of the sampling")]
    public int Seed { get; set; } = 1;

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)")]
    public int Threads { get; set; }

    public IEnumerable<string> Validate()
    {
        if (Model is null)
            yield return "model is required: the policy whose responses are labelled";
        if (Data is null && PromptsFile is null)
            yield return "give a data folder (data) or a prompts_file";
        if (Judge is not ("gold" or "constitution" or "local_lm"))
            yield return $"judge must be gold, constitution or local_lm, got '{Judge}'";
        if (Judge == "local_lm" && JudgeModel is null)
            yield return "judge: local_lm needs judge_model, the folder of the judging language model";
        if (SamplesPerPrompt < 2 || SamplesPerPrompt % 2 != 0)
            yield return $"samples_per_prompt must be an even number >= 2, got {SamplesPerPrompt}";
        if (MaxPrompts < 0 || !(Temperature > 0) || MaxNewTokens <= 0 || MaxPromptLength <= 0 || BatchSize <= 0 || Threads < 0)
            yield return "max_prompts and threads must be >= 0; temperature, max_new_tokens, max_prompt_length and batch_size positive";
    }
}
