using RlhfSharp.Cli.Verbs;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Serving;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Text;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf serve-rm</c>: a reward model folder (from <c>rlhf rm</c>) behind OpenRLHF's remote reward
/// protocol, <c>POST /get_reward</c>, so that RL runs here (<c>reward_funcs: [remote]</c>) or
/// elsewhere can score with it. Prints the access token (unless the user gave it), then
/// "listening on http://HOST:PORT", and serves until SIGTERM or Ctrl+C.
/// </summary>
public sealed class ServeRmCommand : ConfigVerb<ServeRmConfig>
{
    public override string Name => "serve-rm";

    public override string Description => "Serve a reward model over HTTP in OpenRLHF's remote reward protocol: POST /get_reward {query, prompts, labels} -> {rewards} (127.0.0.1 by default)";

    protected override int Run(ServeRmConfig config, VerbContext context)
    {
        if (config.Threads > 0)
            Engine.Threads = config.Threads;
        using var stop = new ShutdownSignal();

        var model = Load(config);
        ChatServerOptions.TryParseHost(config.Host, out var host);
        var (token, given) = ServerSettings.ResolveToken(config.Token, ServerSettings.TokenVariable);
        var options = new RewardServerOptions
        {
            Host = host,
            AllowRemote = config.AllowRemote,
            Token = token,
            Port = config.Port,
            MaxRequestBytes = config.MaxRequestBytes,
            MaxQueries = config.MaxQueries,
            ErrorLog = context.Error,
        };
        var server = RewardServer.StartAsync(model, options, stop.Token).GetAwaiter().GetResult();
        try
        {
            ServerSettings.Announce(context.Output, context.Error, host, token, given, ServerSettings.TokenVariable);
            context.Output.WriteLine($"listening on {server.Address.GetLeftPart(UriPartial.Authority)}");
            context.Output.Flush();
            server.WaitForShutdownAsync(stop.Token).GetAwaiter().GetResult();
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        context.Error.WriteLine("stopped");
        return ExitCodes.Success;
    }

    // The reward model with its own tokenizer, truncating as the config says (0 = the model's positions).
    private static RewardModelSource Load(ServeRmConfig config)
    {
        string dir = TrainerSetup.RequireDir(config.Model!, "model");
        var tokenizer = BpeTokenizer.FromDirectory(dir);
        TokenizerModelCheck.Check(tokenizer, dir, dir);
        var scorer = PretrainedIO.LoadScorer(dir);
        int maxLength = config.MaxLength > 0 ? Math.Min(config.MaxLength, scorer.Config.MaxPositions) : scorer.Config.MaxPositions;
        int maxPrompt = config.MaxPromptLength > 0 ? config.MaxPromptLength : maxLength - 1;
        if (maxPrompt >= maxLength)
            throw new TrainingSetupException($"max_prompt_length ({maxPrompt}) must be less than max_length ({maxLength}, capped at the model's {scorer.Config.MaxPositions} positions) to leave room for the response");
        var template = TrainerSetup.Template(config.ChatTemplate, dir);
        return new RewardModelSource(scorer, tokenizer, template, maxLength, maxPrompt, config.BatchSize);
    }
}
