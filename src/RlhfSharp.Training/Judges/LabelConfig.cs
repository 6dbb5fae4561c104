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

    [ConfigKey("judge", "gold (the built-in task's scorer), constitution, local_lm (a language model asked A or B in both orders) or http (an OpenAI-compatible server asked the same)")]
    public string Judge { get; set; } = "constitution";

    [ConfigKey("constitution", "Constitution YAML for judge: constitution; default <data>/constitution.yaml")]
    public string? Constitution { get; set; }

    [ConfigKey("judge_model", "judge: local_lm: the judging model's folder (with its tokenizer); judge: http: the model name sent to the server")]
    public string? JudgeModel { get; set; }

    [ConfigKey("judge_url", "judge: http: the server's base URL, e.g. http://127.0.0.1:8000/v1")]
    public string? JudgeUrl { get; set; }

    [ConfigKey("judge_api_key_env", "judge: http: environment variable holding the API key (sent as a Bearer token, never logged); unset = no key")]
    public string? JudgeApiKeyEnv { get; set; }

    [ConfigKey("judge_timeout_s", "judge: http: seconds allowed per request")]
    public double JudgeTimeoutS { get; set; } = 30;

    [ConfigKey("judge_max_retries", "judge: http: retries of a request that failed transiently (unreachable, timeout, HTTP 5xx or 429)")]
    public int JudgeMaxRetries { get; set; } = 3;

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
        if (Judge is not ("gold" or "constitution" or "local_lm" or "http"))
            yield return $"judge must be gold, constitution, local_lm or http, got '{Judge}'";
        if (Judge == "local_lm" && JudgeModel is null)
            yield return "judge: local_lm needs judge_model, the folder of the judging language model";
        if (Judge == "http" && (string.IsNullOrWhiteSpace(JudgeUrl) || string.IsNullOrWhiteSpace(JudgeModel)))
            yield return "judge: http needs judge_url (the server's base URL) and judge_model (the model name the server knows)";
        if (!(JudgeTimeoutS > 0) || JudgeMaxRetries < 0)
            yield return $"judge_timeout_s must be positive and judge_max_retries >= 0, got {JudgeTimeoutS} and {JudgeMaxRetries}";
        if (SamplesPerPrompt < 2 || SamplesPerPrompt % 2 != 0)
            yield return $"samples_per_prompt must be an even number >= 2, got {SamplesPerPrompt}";
        if (MaxPrompts < 0 || !(Temperature > 0) || MaxNewTokens <= 0 || MaxPromptLength <= 0 || BatchSize <= 0 || Threads < 0)
            yield return "max_prompts and threads must be >= 0; temperature, max_new_tokens, max_prompt_length and batch_size positive";
    }
}
