using System.Diagnostics;

namespace RlhfSharp.Cli.Tests;

/// <summary>Runs the built <c>rlhf</c> program as a separate process (needed to kill it for real).</summary>
internal static class RlhfProcess
{
    // tests/RlhfSharp.Cli.Tests/bin/<Configuration>/net10.0 -> src/RlhfSharp.Cli/bin/<Configuration>/net10.0/rlhf.dll
    public static string DllPath
    {
        get
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory);
            string framework = here.Name, configuration = here.Parent!.Name;
            var root = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            var dll = Path.Combine(root, "src", "RlhfSharp.Cli", "bin", configuration, framework, "rlhf.dll");
            if (!File.Exists(dll))
                throw new FileNotFoundException($"the rlhf program was not built at {dll}", dll);
            return dll;
        }
    }

    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["RLHFSHARP_THREADS"] = "1";
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Runs to completion (bounded) and returns the exit code.</summary>
    public static int Run(TimeSpan limit, params string[] args)
    {
        using var p = Start(args);
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"rlhf {string.Join(' ', args)} did not finish within {limit}");
        }
        return p.ExitCode;
    }
}
