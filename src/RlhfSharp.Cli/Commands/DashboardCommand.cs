using RlhfSharp.Cli.Reporting;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Serving;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf dashboard RUN_DIR</c>: serves the run's report on 127.0.0.1 (unless --host says otherwise)
/// and keeps its charts current while the run writes metrics.jsonl. Prints the access token and the
/// link that carries it, then "listening on http://HOST:PORT" (the bound port) once it answers;
/// SIGTERM or Ctrl+C stop it.
/// </summary>
public sealed class DashboardCommand : ConfigVerb<DashboardConfig>
{
    public override string Name => "dashboard";

    public override string Description => "Serve a run folder's report on a local web page whose charts follow the run while it trains (127.0.0.1 by default)";

    protected override string? PositionalKey => "run_dir";

    protected override string PositionalName => "RUN_DIR";

    protected override int Run(DashboardConfig config, VerbContext context)
    {
        using var stop = new ShutdownSignal();

        ChatServerOptions.TryParseHost(config.Host, out var host);
        var (token, given) = ServerSettings.ResolveToken(config.Token, ServerSettings.TokenVariable);
        var access = new ServerAccess
        {
            Host = host,
            AllowRemote = config.AllowRemote,
            Token = token,
            Cookie = DashboardServer.CookiePrefix,
            TokenHint = "printed by `rlhf dashboard` at start, or the one given with --token or $" + ServerSettings.TokenVariable,
        };
        var options = new ReportOptions { Samples = config.Samples, RefreshMs = config.RefreshMs };
        var server = DashboardServer.StartAsync(config.RunDir!, access, config.Port, options, stop.Token).GetAwaiter().GetResult();
        try
        {
            string address = server.Address.GetLeftPart(UriPartial.Authority);
            ServerSettings.Announce(context.Output, context.Error, host, token, given, ServerSettings.TokenVariable);
            context.Output.WriteLine($"open {address}/?token={(given ? "TOKEN" : token)}");
            context.Output.WriteLine($"listening on {address}");
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
}
