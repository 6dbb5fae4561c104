using System.Diagnostics;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// Runs the <c>rlhf</c> program and keeps its standard output byte for byte (line breaks included),
/// for verbs whose output must be exact.
/// </summary>
internal static class ExactRun
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(RlhfProcess.DllPath);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["RLHFSHARP_THREADS"] = "1";
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(RlhfProcess.Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rlhf {string.Join(' ', args)} did not finish within {RlhfProcess.Limit}");
        }
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}
