using System.Net;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Training.Judges;

/// <summary>
/// <c>rlhf label</c>: sample responses from a policy and let a judge pick the better one (RLAIF), or
/// with <c>judge: human</c> serve a page on which people do (RLHF).
/// </summary>
public sealed class LabelConfig : IValidatableConfig
{
    [ConfigKey("data", "A data folder laid out as `rlhf data builtin` writes it: default prompts, constitution and the gold scorer")]
    public string? Data { get; set; }

    [ConfigKey("prompts_file", "Prompts to label (JSONL); default <data>/prompts_train.jsonl")]
    public string? PromptsFile { get; set; }

    [ConfigKey("model", "The policy that writes the responses (an HF model folder)")]
    public string? Model { get; set; }

    [ConfigKey("model_b", "A second policy: each pair is one response from model and one from model_b (same tokenizer); unset = both from model")]
    public string? ModelB { get; set; }

    [ConfigKey("pairs_file", "judge: human: pairs to label instead of sampling them: JSONL of {\"prompt\", \"response_a\", \"response_b\"} or preference lines")]
    public string? PairsFile { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "auto (the tokenizer's own chat_template when it has one, else chatml), tokenizer (its own, required; tokenizer:NAME for a named one), chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "auto";

    [ConfigKey("judge", "gold (the built-in task's scorer), constitution, local_lm (a language model asked A or B in both orders), http (an OpenAI-compatible server asked the same) or human (people, on a web page this command serves)")]
    public string Judge { get; set; } = "constitution";

    [ConfigKey("constitution", "Constitution YAML for judge: constitution; default <data>/constitution.yaml")]
    public string? Constitution { get; set; }

    [ConfigKey("judge_noise_tau", "judge: gold or constitution: Bradley–Terry label noise, A preferred with probability sigmoid((score_A - score_B) / tau) as the built-in task's labeller (0 = always the higher score)")]
    public double JudgeNoiseTau { get; set; }

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

    [ConfigKey("host", "judge: human: IP address the labelling page listens on (localhost = 127.0.0.1); any other address needs allow_remote and requires the access token")]
    public string Host { get; set; } = "127.0.0.1";

    [ConfigKey("allow_remote", "judge: human: allow a host that is not loopback, which exposes the page to the network (a warning is printed)")]
    public bool AllowRemote { get; set; }

    [ConfigKey("port", "judge: human: TCP port of the labelling page (0 = any free port; the bound one is printed)")]
    public int Port { get; set; } = 8700;

    [ConfigKey("require_token", "judge: human: require the access token on loopback too (always required on other addresses)")]
    public bool RequireToken { get; set; }

    [ConfigKey("access_token_env", "judge: human: environment variable holding the access token, so that it stays the same across restarts; unset = a new random token each start")]
    public string? AccessTokenEnv { get; set; }

    [ConfigKey("labellers", "judge: human: the labeller names allowed (empty = any name)")]
    public List<string> Labellers { get; set; } = [];

    [ConfigKey("overlap", "judge: human: fraction of the pairs labelled by overlap_labellers different people, to measure agreement (0..1)")]
    public double Overlap { get; set; }

    [ConfigKey("overlap_labellers", "judge: human: how many labellers label each overlapping pair")]
    public int OverlapLabellers { get; set; } = 2;

    [ConfigKey("lease_s", "judge: human: seconds a pair shown to one labeller is kept from the others")]
    public double LeaseS { get; set; } = 600;

    [ConfigKey("max_request_bytes", "judge: human: largest request body accepted (bytes); larger bodies get HTTP 413")]
    public int MaxRequestBytes { get; set; } = 64 * 1024;

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

    [ConfigKey("device", "Where models run: cpu, cuda, cuda:N, or cpu-accelerator (the GPU kernels on host threads)")]
    public string Device { get; set; } = "cpu";

    [ConfigKey("dtype", "Matrix products in fp32, or bf16 (bf16 inputs, fp32 accumulation); bf16 needs a GPU device")]
    public string Dtype { get; set; } = "fp32";

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)")]
    public int Threads { get; set; }

    public IEnumerable<string> Validate()
    {
        foreach (var e in Foundation.TrainerSetup.DeviceErrors(Device, Dtype))
            yield return e;
        bool human = Judge == "human";
        if (PairsFile is not null && !human)
            yield return "pairs_file is read by judge: human only; the other judges label pairs they sample from model";
        if (PairsFile is null)
        {
            if (Model is null)
                yield return human
                    ? "judge: human needs pairs to show: a pairs_file, or a model (and optionally model_b) to sample them from"
                    : "model is required: the policy whose responses are labelled";
            if (Data is null && PromptsFile is null)
                yield return "give a data folder (data) or a prompts_file";
        }
        if (Judge is not ("gold" or "constitution" or "local_lm" or "http" or "human"))
            yield return $"judge must be gold, constitution, local_lm, http or human, got '{Judge}'";
        if (Judge == "local_lm" && JudgeModel is null)
            yield return "judge: local_lm needs judge_model, the folder of the judging language model";
        if (Judge == "http" && (string.IsNullOrWhiteSpace(JudgeUrl) || string.IsNullOrWhiteSpace(JudgeModel)))
            yield return "judge: http needs judge_url (the server's base URL) and judge_model (the model name the server knows)";
        if (!(JudgeTimeoutS > 0) || JudgeMaxRetries < 0)
            yield return $"judge_timeout_s must be positive and judge_max_retries >= 0, got {JudgeTimeoutS} and {JudgeMaxRetries}";
        if (!(JudgeNoiseTau >= 0) || double.IsInfinity(JudgeNoiseTau))
            yield return $"judge_noise_tau must be a finite number >= 0 (0 = noise-free), got {JudgeNoiseTau}";
        if (JudgeNoiseTau > 0 && Judge is not ("gold" or "constitution"))
            yield return $"judge_noise_tau applies to the scoring judges (gold, constitution), not to judge: {Judge}";
        if (SamplesPerPrompt < 2 || SamplesPerPrompt % 2 != 0)
            yield return $"samples_per_prompt must be an even number >= 2, got {SamplesPerPrompt}";
        if (human)
        {
            bool localhost = string.Equals(Host?.Trim(), "localhost", StringComparison.OrdinalIgnoreCase);
            if (!(localhost || IPAddress.TryParse(Host?.Trim(), out _)))
                yield return $"host must be an IP address or localhost, got '{Host}'";
            else if (!localhost && !IPAddress.IsLoopback(IPAddress.Parse(Host!.Trim())) && !AllowRemote)
                yield return $"host {Host!.Trim()} is not a loopback address: the labelling page would answer anyone who can reach this machine. " +
                    "Use 127.0.0.1 (the default), or pass --allow_remote (allow_remote: true) to listen there on purpose.";
            if (Port is < 0 or > IPEndPoint.MaxPort)
                yield return $"port must be in 0..{IPEndPoint.MaxPort}, got {Port}";
            if (!(Overlap is >= 0 and <= 1))
                yield return $"overlap must be a fraction in [0, 1], got {Overlap}";
            if (OverlapLabellers < 2)
                yield return $"overlap_labellers must be at least 2, got {OverlapLabellers}";
            if (!(LeaseS > 0))
                yield return $"lease_s must be positive, got {LeaseS}";
            if (MaxRequestBytes < 1024)
                yield return $"max_request_bytes must be at least 1024, got {MaxRequestBytes}";
            foreach (var name in Labellers.Where(n => !LabellerNames.IsValid(n)))
                yield return $"labellers: '{name}' is not a valid name; {LabellerNames.Rule}";
        }
        if (MaxPrompts < 0 || !(Temperature > 0) || MaxNewTokens <= 0 || MaxPromptLength <= 0 || BatchSize <= 0 || Threads < 0)
            yield return "max_prompts and threads must be >= 0; temperature, max_new_tokens, max_prompt_length and batch_size positive";
    }
}
