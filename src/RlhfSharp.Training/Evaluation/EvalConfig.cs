using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Evaluation;

/// <summary>
/// <c>rlhf eval</c>: several models answer the same held-out prompts; a judge (the gold scorer, or a
/// reward model) scores every answer; the result is each model's mean score and the pairwise win
/// rates. The defaults are those of <c>rlhf pipeline</c>'s comparison, so the same models, prompts
/// and seed give the same numbers.
/// </summary>
public sealed class EvalConfig : IValidatableConfig
{
    [ConfigKey("models", "Model folders to compare, comma-separated (A,B,C); NAME=DIR gives one a name (default: the shortest distinct end of its path)")]
    public List<string> Models { get; set; } = [];

    [ConfigKey("data", "Data folder: prompts_eval.jsonl, and the gold scorer when it is the built-in task")]
    public string? Data { get; set; }

    [ConfigKey("prompts_file", "Prompt JSONL to answer instead of the data folder's prompts_eval.jsonl")]
    public string? PromptsFile { get; set; }

    [ConfigKey("eval_prompts", "Prompts answered (the first N; 0 = all)")]
    public int EvalPrompts { get; set; }

    [ConfigKey("reward_model", "A reward model folder that judges instead of the gold scorer (needed when the data has none)")]
    public string? RewardModel { get; set; }

    [ConfigKey("temperature", "Sampling temperature of the answers (0 = greedy)")]
    public float Temperature { get; set; } = 1f;

    [ConfigKey("max_new_tokens", "Most tokens in an answer")]
    public int MaxNewTokens { get; set; } = PolicyComparison.MaxNewTokens;

    [ConfigKey("max_prompt_length", "Prompt tokens kept (longer prompts lose their start)")]
    public int MaxPromptLength { get; set; } = PolicyComparison.MaxPromptLength;

    [ConfigKey("chat_template", "auto (the tokenizer's own chat_template when it has one, else chatml), tokenizer (its own, required; tokenizer:NAME for a named one), chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "auto";

    [ConfigKey("samples_per_prompt", "Sampled answers per prompt and model (temperature > 0): more answers, a less noisy win rate; the default is the pipeline's")]
    public int SamplesPerPrompt { get; set; } = PipelineDefaults.EvalSamples;

    [ConfigKey("seed", "Seed of the sampled answers (every model draws from the same stream)")]
    public int Seed { get; set; } = 1;

    [ConfigKey("device", "Where models run: cpu, cuda, cuda:N, or cpu-accelerator (the GPU kernels on host threads)")]
    public string Device { get; set; } = "cpu";

    [ConfigKey("dtype", "Matrix products in fp32, or bf16 (bf16 inputs, fp32 accumulation); bf16 needs a GPU device")]
    public string Dtype { get; set; } = "fp32";

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)")]
    public int Threads { get; set; }

    /// <summary>The models as (name, folder), from comma-separated items and NAME=DIR pairs.</summary>
    public List<(string? Name, string Dir)> ModelList() =>
        [.. Models.SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(m => m.IndexOf('=') is var eq && eq > 0 ? ((string?)m[..eq].Trim(), m[(eq + 1)..].Trim()) : (null, m))];

    public IEnumerable<string> Validate()
    {
        foreach (var e in Foundation.TrainerSetup.DeviceErrors(Device, Dtype))
            yield return e;
        if (ModelList().Count == 0)
            yield return "models is required: the model folders to compare, --models A,B";
        foreach (var (name, dir) in ModelList())
        {
            if (dir.Length == 0)
                yield return $"models: '{name}=' names no folder";
        }
        if (Data is null && PromptsFile is null)
            yield return "give data (a data folder with prompts_eval.jsonl) or prompts_file";
        if (EvalPrompts < 0 || Threads < 0)
            yield return "eval_prompts and threads must be >= 0";
        if (SamplesPerPrompt < 1)
            yield return $"samples_per_prompt must be at least 1, got {SamplesPerPrompt}";
        if (!(Temperature >= 0))
            yield return $"temperature must be >= 0, got {Temperature}";
        if (MaxNewTokens < 1 || MaxPromptLength < 1)
            yield return "max_new_tokens and max_prompt_length must be positive";
    }
}
