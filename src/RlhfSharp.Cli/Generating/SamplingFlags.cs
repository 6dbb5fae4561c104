using System.CommandLine;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Generating;

/// <summary>
/// The options <c>rlhf generate</c> and <c>rlhf chat</c> share: the model, its tokenizer and chat
/// template, where it runs, and how tokens are drawn. Names and defaults follow the config keys of
/// the other verbs (<c>max_new_tokens</c>, <c>temperature</c>, <c>top_p</c>, <c>seed</c>, <c>device</c>).
/// </summary>
internal sealed class SamplingFlags
{
    public Option<string> Model { get; } = Required(Flags.Create<string>("model", "The model: an HF model folder (config.json, model.safetensors and its tokenizer)", "DIR"));

    public Option<string> Tokenizer { get; } = Flags.Create<string>("tokenizer", "Tokenizer folder [default: the model folder]", "DIR");

    public Option<string> ChatTemplate { get; } = Flags.Create<string>("chat_template", $"Chat template: {ChatTemplateChoice.Help} [default: {ChatTemplateChoice.DefaultName}]", "NAME");

    public Option<int> MaxNewTokens { get; } = Flags.Create("max_new_tokens", "Most tokens to generate (capped by the room the model's positions leave)", 128, "INT");

    public Option<float> Temperature { get; } = Flags.Create("temperature", "Softmax temperature; 0 = greedy (always the most likely token)", 1f, "FLOAT");

    public Option<int> TopK { get; } = Flags.Create("top_k", "Draw only from the k most likely tokens (0 = off)", 0, "INT");

    public Option<float> TopP { get; } = Flags.Create("top_p", "Draw only from the smallest set of tokens whose probability reaches p (1 = off)", 1f, "FLOAT");

    public Option<long> Seed { get; } = Flags.Create("seed", "Seed of the sampler: the same seed, model and prompt give the same tokens", 1L, "INT");

    public Option<string[]> Stop { get; } = Flags.Create<string[]>("stop", "A string that ends the reply, left out of it (repeatable: --stop A --stop B)", "TEXT");

    public Option<string> Device { get; } = Flags.Create("device", "Where the model runs: cpu, cuda, cuda:N, or cpu-accelerator", "cpu", "DEVICE");

    public Option<string> Dtype { get; } = Flags.Create("dtype", "Matrix products in fp32, or bf16 (needs a GPU device)", "fp32", "DTYPE");

    public Option<int> Threads { get; } = Flags.Create("threads", "Kernel threads (0 = RLHFSHARP_THREADS or all cores)", 0, "INT");

    public SamplingFlags()
    {
        Stop.AllowMultipleArgumentsPerToken = false;
        Check(Temperature, t => t >= 0 && float.IsFinite(t) ? null : $"--temperature must be 0 (greedy) or positive, got {t}");
        Check(TopK, k => k >= 0 ? null : $"--top_k must be 0 (off) or positive, got {k}");
        Check(TopP, p => p > 0 && p <= 1 ? null : $"--top_p must be in (0, 1], got {p}");
        Check(MaxNewTokens, n => n >= 1 ? null : $"--max_new_tokens must be at least 1, got {n}");
        Check(Threads, n => n >= 0 ? null : $"--threads must be >= 0, got {n}");
        Check(Stop, s => s is null || s.All(x => x.Length > 0) ? null : "--stop must not be empty");
    }

    // Adds a check of the option's value; a value that does not parse is reported by the parser itself.
    private static void Check<T>(Option<T> option, Func<T?, string?> problem)
    {
        option.Validators.Add(r =>
        {
            T? value;
            try
            {
                value = r.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }
            if (problem(value) is { } message)
                r.AddError(message);
        });
    }

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Model, Tokenizer, ChatTemplate, MaxNewTokens, Temperature, TopK, TopP, Seed, Stop, Device, Dtype, Threads })
            command.Add(option);
    }

    /// <summary>The sampling settings as given.</summary>
    public Sampling Read(ParseResult parse) => new(
        parse.GetValue(MaxNewTokens),
        parse.GetValue(Temperature),
        parse.GetValue(TopK),
        parse.GetValue(TopP),
        parse.GetValue(Seed),
        parse.GetValue(Stop) ?? []);

    /// <summary>Loads the model the flags name, on the device they name.</summary>
    public LocalModel Load(ParseResult parse)
    {
        if (parse.GetValue(Threads) is > 0 and var threads)
            Tensors.Kernels.Engine.Threads = threads;
        string device = parse.GetValue(Device)!, dtype = parse.GetValue(Dtype)!;
        foreach (var problem in Training.Foundation.TrainerSetup.DeviceErrors(device, dtype))
            throw new InputException(problem);
        return LocalModel.Load(parse.GetValue(Model)!, parse.GetValue(Tokenizer), parse.GetValue(ChatTemplate), device, dtype);
    }

    private static Option<string> Required(Option<string> option)
    {
        option.Required = true;
        return option;
    }
}
