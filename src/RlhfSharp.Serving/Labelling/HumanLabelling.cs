using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Serving.Labelling;

/// <summary>
/// <c>rlhf label --judge human</c>: resolves the pairs, opens (or resumes) the labelling files,
/// serves the page until stopped and summarises what was labelled. Before the "listening on"
/// line it prints the pairs, the labels already saved, what a crash left to repair, and the access
/// token and link when one is required.
/// </summary>
public static class HumanLabelling
{
    /// <summary>The preference file for <c>--out</c>: the path itself when it ends in .jsonl, else <c>prefs_train.jsonl</c> inside that folder.</summary>
    public static string PreferencePath(string outPath) =>
        outPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? outPath : Path.Combine(outPath, Labeller.OutputFileName);

    public static async Task<JsonObject> RunAsync(LabelConfig cfg, string preferencePath, TextWriter output, TextWriter error, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var pairs = PairSource.Resolve(cfg, preferencePath, error);
        using var store = LabelStore.Open(preferencePath);
        foreach (var repair in store.Repairs)
            error.WriteLine($"repaired: {repair}");
        var session = new LabellingSession(pairs.Items, store, new LabellingOptions
        {
            Overlap = cfg.Overlap,
            OverlapLabellers = cfg.OverlapLabellers,
            Lease = TimeSpan.FromSeconds(cfg.LeaseS),
            Seed = cfg.Seed,
            Labellers = cfg.Labellers,
        });
        var host = string.Equals(cfg.Host.Trim(), "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(cfg.Host.Trim());
        string? token = cfg.RequireToken || !IPAddress.IsLoopback(host) ? AccessToken.Resolve(cfg.AccessTokenEnv) : null;
        int before = store.Records().Count;

        output.WriteLine($"pairs: {pairs.Items.Count} from {pairs.Source}" + (pairs.Duplicates > 0 ? $" ({pairs.Duplicates} repeated pairs shown once)" : ""));
        var start = session.ProgressOf("");
        output.WriteLine($"labels: {store.PreferencePath} (ties, both bad and skips: {store.NoPreferencePath})");
        if (before > 0)
            output.WriteLine($"resuming: {before} labels already saved, {start.ItemsDone}/{start.Items} pairs done" + (session.OtherLabels > 0 ? $"; {session.OtherLabels} labels are for pairs not in this session" : ""));
        if (cfg.Overlap > 0)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"overlap: {LabellingSession.OverlapIndices(pairs.Items, cfg.Overlap, cfg.Seed).Count} pairs go to {cfg.OverlapLabellers} labellers each"));

        var server = await LabelServer.StartAsync(session, new LabelServerOptions
        {
            Host = host,
            Port = cfg.Port,
            MaxRequestBytes = cfg.MaxRequestBytes,
            Token = token,
            AllowRemote = cfg.AllowRemote,
            ErrorLog = error,
        }, stop).ConfigureAwait(false);
        try
        {
            string address = server.Address.GetLeftPart(UriPartial.Authority);
            if (!IPAddress.IsLoopback(host))
                error.WriteLine(ServerAccess.RemoteWarning(host));
            if (token is not null)
            {
                output.WriteLine($"access token: {token}");
                output.WriteLine($"open {address}/?labeller=YOUR_NAME&token={token}");
            }
            else
            {
                output.WriteLine($"open {address}/?labeller=YOUR_NAME");
            }
            output.WriteLine($"listening on {address}");
            output.Flush();
            await server.WaitForShutdownAsync(stop).ConfigureAwait(false);
        }
        finally
        {
            await server.StopAsync().ConfigureAwait(false);
        }

        var records = store.Records();
        var end = session.ProgressOf("");
        return new JsonObject
        {
            ["stage"] = "label",
            ["judge"] = LabelLine.JudgeName,
            ["pairs"] = pairs.Items.Count,
            ["pairs_done"] = end.ItemsDone,
            ["labels"] = records.Count,
            ["labels_this_run"] = records.Count - before,
            ["preferences"] = records.Count(r => r.Kind == LabelFileKind.Preference),
            ["labellers"] = records.Select(r => r.Labeller).Distinct().Count(),
            ["file"] = store.PreferencePath,
        };
    }
}
