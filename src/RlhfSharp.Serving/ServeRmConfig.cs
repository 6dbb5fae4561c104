using System.Net;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Serving;

/// <summary><c>rlhf serve-rm</c>: a reward model folder behind OpenRLHF's remote reward protocol.</summary>
public sealed class ServeRmConfig : IValidatableConfig
{
    [ConfigKey("model", "The reward model to serve (a folder written by `rlhf rm`, with its tokenizer)")]
    public string? Model { get; set; }

    [ConfigKey("chat_template", "The template the clients render prompts with, whose end-of-turn marker follows each response: auto (the tokenizer's own chat_template when it has one, else chatml), tokenizer, tokenizer:NAME, chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "auto";

    [ConfigKey("max_length", "Most tokens scored per (prompt, response), as the RL trainers' max_prompt_length + response_length + 8 (0 = the model's positions)")]
    public int MaxLength { get; set; }

    [ConfigKey("max_prompt_length", "Prompt tokens kept, from the end (0 = max_length - 1); set it to the RL run's max_prompt_length to score as its reward_model does")]
    public int MaxPromptLength { get; set; }

    [ConfigKey("batch_size", "(prompt, response) pairs scored together in one forward pass")]
    public int BatchSize { get; set; } = 64;

    [ConfigKey("max_queries", "Most queries one request may hold (more is refused with 400)")]
    public int MaxQueries { get; set; } = 1024;

    [ConfigKey("max_request_bytes", "Largest request body accepted (bytes); larger bodies get HTTP 413")]
    public int MaxRequestBytes { get; set; } = 8 * 1024 * 1024;

    [ConfigKey("host", "IP address to listen on (localhost = 127.0.0.1); any other address (0.0.0.0 = every interface) needs allow_remote")]
    public string Host { get; set; } = "127.0.0.1";

    [ConfigKey("allow_remote", "Allow a host that is not loopback, which exposes the server to the network (a warning is printed)")]
    public bool AllowRemote { get; set; }

    [ConfigKey("token", "Access token clients send as Authorization: Bearer; unset = $RLHFSHARP_TOKEN, else a random one printed at start")]
    public string? Token { get; set; }

    [ConfigKey("port", "TCP port (0 = any free port; the bound one is printed)")]
    public int Port { get; set; } = 5000;

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)")]
    public int Threads { get; set; }

    public IEnumerable<string> Validate()
    {
        if (Model is null)
            yield return "model is required: the reward model folder (from `rlhf rm`) to serve";
        foreach (var e in ServerSettings.Errors(Host, AllowRemote, Token))
            yield return e;
        if (Port is < 0 or > IPEndPoint.MaxPort)
            yield return $"port must be in 0..{IPEndPoint.MaxPort}, got {Port}";
        if (!ChatTemplateChoice.Names.Contains(ChatTemplate, StringComparer.OrdinalIgnoreCase)
            && !ChatTemplate.StartsWith(ChatTemplateChoice.TokenizerName + ":", StringComparison.OrdinalIgnoreCase))
            yield return $"chat_template must be {ChatTemplateChoice.Help}; got '{ChatTemplate}'";
        if (MaxLength < 0 || MaxPromptLength < 0)
            yield return "max_length and max_prompt_length must be >= 0 (0 = the default)";
        if (BatchSize < 1 || MaxQueries < 1 || MaxRequestBytes < 1)
            yield return "batch_size, max_queries and max_request_bytes must be positive";
        if (Threads < 0)
            yield return $"threads must be >= 0, got {Threads}";
    }
}
