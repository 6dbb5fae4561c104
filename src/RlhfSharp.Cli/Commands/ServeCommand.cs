using RlhfSharp.Cli.Verbs;
using RlhfSharp.Serving;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf serve</c>: a model folder behind an OpenAI-compatible <c>/v1/chat/completions</c>.
/// Prints the access token clients must send (unless the user gave it), then "listening on
/// http://HOST:PORT" (the bound port) once it answers, and serves until SIGTERM or Ctrl+C, which
/// stop it cleanly.
/// </summary>
public sealed class ServeCommand : ConfigVerb<ServeConfig>
{
    public override string Name => "serve";

    public override string Description => "Serve a model over HTTP with an OpenAI-compatible /v1/chat/completions and /v1/models (127.0.0.1 by default)";

    protected override int Run(ServeConfig config, VerbContext context)
    {
        if (config.Threads > 0)
            Engine.Threads = config.Threads;
        using var stop = new ShutdownSignal();

        var model = ChatModel.Load(config.Model!, config.Tokenizer, config.ChatTemplate, config.ModelName, config.Device, config.Dtype);
        ChatServerOptions.TryParseHost(config.Host, out var host);
        var (token, given) = ServerSettings.ResolveToken(config.Token, ServerSettings.TokenVariable);
        var options = new ChatServerOptions
        {
            Host = host,
            AllowRemote = config.AllowRemote,
            Token = token,
            Port = config.Port,
            MaxBatch = config.MaxBatch,
            MaxRequestBytes = config.MaxRequestBytes,
            DefaultMaxTokens = config.DefaultMaxTokens,
            Seed = (ulong)config.Seed,
            BatchLog = config.LogBatches ? context.Error : null,
            ErrorLog = context.Error,
        };
        var server = ChatServer.StartAsync(model, options, stop.Token).GetAwaiter().GetResult();
        try
        {
            ServerSettings.Announce(context.Output, context.Error, host, token, given, ServerSettings.TokenVariable);
            context.Output.WriteLine($"listening on {server.Address.GetLeftPart(UriPartial.Authority)}");
            context.Output.Flush();
            server.WaitForShutdownAsync(stop.Token).GetAwaiter().GetResult();
        }
        finally
        {
            server.StopAsync().GetAwaiter().GetResult();
        }
        context.Error.WriteLine("stopped");
        return ExitCodes.Success;
    }
}
