using System.Net;
using RlhfSharp.Serving;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Reporting;

/// <summary><c>rlhf dashboard RUN_DIR</c>: the run's report on a local web page that follows the metrics files.</summary>
public sealed class DashboardConfig : IValidatableConfig
{
    [ConfigKey("run_dir", "A run folder: a pipeline folder (stages as subfolders) or one stage's run folder; it may still be running")]
    public string? RunDir { get; set; }

    [ConfigKey("host", "IP address to listen on (localhost = 127.0.0.1); any other address (0.0.0.0 = every interface) needs allow_remote")]
    public string Host { get; set; } = "127.0.0.1";

    [ConfigKey("allow_remote", "Allow a host that is not loopback, which exposes the dashboard to the network (a warning is printed)")]
    public bool AllowRemote { get; set; }

    [ConfigKey("token", "Access token of the page (open the printed link, which ends in ?token=) and of Authorization: Bearer; unset = $RLHFSHARP_TOKEN, else a random one printed at start")]
    public string? Token { get; set; }

    [ConfigKey("port", "TCP port (0 = any free port; the bound one is printed)")]
    public int Port { get; set; } = 8050;

    [ConfigKey("refresh_ms", "How often the page asks whether the files changed (milliseconds)")]
    public int RefreshMs { get; set; } = 1000;

    [ConfigKey("samples", "Held-out prompts shown with every policy's response side by side (0 = none)")]
    public int Samples { get; set; } = 12;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(RunDir))
            yield return "run_dir is required: rlhf dashboard RUN_DIR";
        foreach (var e in ServerSettings.Errors(Host, AllowRemote, Token))
            yield return e;
        if (Port is < 0 or > IPEndPoint.MaxPort)
            yield return $"port must be in 0..{IPEndPoint.MaxPort}, got {Port}";
        if (RefreshMs < 100)
            yield return $"refresh_ms must be at least 100, got {RefreshMs}";
        if (Samples < 0)
            yield return $"samples must be >= 0, got {Samples}";
    }
}
