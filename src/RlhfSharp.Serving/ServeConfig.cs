using System.Net;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Serving;

/// <summary><c>rlhf serve</c>: a model folder behind an OpenAI-compatible chat completions endpoint.</summary>
public sealed class ServeConfig : IValidatableConfig
{
    [ConfigKey("model", "The model to serve (an HF model folder)")]
    public string? Model { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "auto (the tokenizer's own chat_template when it has one, else chatml), tokenizer (its own, required; tokenizer:NAME for a named one), chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "auto";

    [ConfigKey("model_name", "The name /v1/models reports and requests may ask for; default the model folder's name")]
    public string? ModelName { get; set; }

    [ConfigKey("host", "IP address to listen on (localhost = 127.0.0.1); any other address (0.0.0.0 = every interface) needs allow_remote")]
    public string Host { get; set; } = "127.0.0.1";

    [ConfigKey("allow_remote", "Allow a host that is not loopback, which exposes the server to the network (a warning is printed)")]
    public bool AllowRemote { get; set; }

    [ConfigKey("token", "Access token clients send as Authorization: Bearer (an OpenAI client's API key); unset = $RLHFSHARP_TOKEN, else a random one printed at start")]
    public string? Token { get; set; }

    [ConfigKey("port", "TCP port (0 = any free port; the bound one is printed)")]
    public int Port { get; set; } = 8000;

    [ConfigKey("max_batch", "Most requests generated together in one batch")]
    public int MaxBatch { get; set; } = 16;

    [ConfigKey("max_request_bytes", "Largest request body accepted (bytes); larger bodies get HTTP 413")]
    public int MaxRequestBytes { get; set; } = 64 * 1024;

    [ConfigKey("default_max_tokens", "Response tokens when a request gives no max_tokens (capped by the context left)")]
    public int DefaultMaxTokens { get; set; } = 256;

    [ConfigKey("seed", "Seed of sampled requests that bring no seed of their own")]
    public int Seed { get; set; } = 1;

    [ConfigKey("log_batches", "Write one line per generated batch to standard error")]
    public bool LogBatches { get; set; }

    [ConfigKey("device", "Where models run: cpu, cuda, cuda:N, or cpu-accelerator (the GPU kernels on host threads)")]
    public string Device { get; set; } = "cpu";

    [ConfigKey("dtype", "Matrix products in fp32, or bf16 (bf16 inputs, fp32 accumulation); bf16 needs a GPU device")]
    public string Dtype { get; set; } = "fp32";

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)")]
    public int Threads { get; set; }

    public IEnumerable<string> Validate()
    {
        foreach (var e in Training.Foundation.TrainerSetup.DeviceErrors(Device, Dtype))
            yield return e;
        if (Model is null)
            yield return "model is required: the HF model folder to serve";
        foreach (var e in ServerSettings.Errors(Host, AllowRemote, Token))
            yield return e;
        if (Port is < 0 or > IPEndPoint.MaxPort)
            yield return $"port must be in 0..{IPEndPoint.MaxPort}, got {Port}";
        if (!ChatTemplateChoice.Names.Contains(ChatTemplate, StringComparer.OrdinalIgnoreCase)
            && !ChatTemplate.StartsWith(ChatTemplateChoice.TokenizerName + ":", StringComparison.OrdinalIgnoreCase))
            yield return $"chat_template must be {ChatTemplateChoice.Help}; got '{ChatTemplate}'";
        if (MaxBatch < 1 || MaxRequestBytes < 1 || DefaultMaxTokens < 1)
            yield return "max_batch, max_request_bytes and default_max_tokens must be positive";
        if (Threads < 0)
            yield return $"threads must be >= 0, got {Threads}";
        if (ModelName is { } name && string.IsNullOrWhiteSpace(name))
            yield return "model_name must not be blank";
    }
}
