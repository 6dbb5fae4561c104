using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RlhfSharp.Bench;

/// <summary>A peer printed something the benchmark cannot read; the message names the script and the line.</summary>
public sealed class PeerOutputException(string message) : Exception(message);

/// <summary>One peer measurement: best and median wall time, and which BLAS the peer ran on.</summary>
public readonly record struct PeerResult(double BestMs, double MedianMs, string Blas);

/// <summary>
/// Runs the PyTorch peer scripts in bench/peers with Debian's Python (the one with python3-torch),
/// one process per case so each peer run sits next to ours in time and sees the same machine load.
/// </summary>
public static class TorchPeer
{
    // Debian's interpreter: python3-torch installs into it, and another python3 may come first on PATH.
    public const string Python = "/usr/bin/python3";

    // bench/peers, found by walking up from the program and from the working directory.
    public static string PeersDirectory()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "bench", "peers");
                if (File.Exists(Path.Combine(candidate, "torch_gemm.py")))
                    return candidate;
            }
        }
        throw new BenchUsageException("cannot find bench/peers/torch_gemm.py above the program or the working directory; run from the repository");
    }

    // Throws with the install command when the peer cannot import torch; `who` names what needs it.
    public static void EnsureAvailable(string who = "--vs-torch")
    {
        string install = Path.Combine(PeersDirectory(), "install.sh");
        var (code, _, err) = Exec(Python, ["-c", "import torch"], new Dictionary<string, string>());
        if (code != 0)
        {
            throw new BenchUsageException(
                $"{who} needs PyTorch for {Python} (import failed: {err.Trim()}); install it with: sudo sh {install}");
        }
    }

    // C[m,n] = op(A)·op(B) in torch with `threads` threads.
    public static PeerResult RunGemm(int m, int n, int k, string trans, int threads)
    {
        string script = Path.Combine(PeersDirectory(), "torch_gemm.py");
        string[] args =
        [
            script,
            "--m", m.ToString(CultureInfo.InvariantCulture),
            "--n", n.ToString(CultureInfo.InvariantCulture),
            "--k", k.ToString(CultureInfo.InvariantCulture),
            "--trans", trans,
            "--threads", threads.ToString(CultureInfo.InvariantCulture),
        ];
        var line = RunScript(args, threads).Single();
        return new PeerResult(
            line.GetProperty("ms").GetDouble(),
            line.GetProperty("ms_median").GetDouble(),
            line.TryGetProperty("blas", out var blas) ? blas.GetString() ?? "unknown" : "unknown");
    }

    // Runs a peer script and returns its JSON lines; the thread count goes in through the
    // environment as well, since BLAS libraries read it when they load.
    public static List<JsonElement> RunScript(string[] args, int threads)
    {
        string t = threads.ToString(CultureInfo.InvariantCulture);
        var env = new Dictionary<string, string>
        {
            ["OPENBLAS_NUM_THREADS"] = t,
            ["OMP_NUM_THREADS"] = t,
            ["MKL_NUM_THREADS"] = t,
            // torch's OpenMP threads and Debian's pthread OpenBLAS threads otherwise busy-wait
            // against each other: with two of each on two cores a training step ran ~3x slower.
            // Passive waiting is the peer at its best.
            ["OMP_WAIT_POLICY"] = "PASSIVE",
        };
        var (code, stdout, stderr) = Exec(Python, args, env);
        if (code != 0)
            throw new InvalidOperationException($"peer {string.Join(' ', args)} exited with {code}: {stderr.Trim()}");
        return JsonLines(stdout, Path.GetFileName(args[0]));
    }

    /// <summary>
    /// The JSON objects of a peer's output, one per line; a line that is not a JSON object is a
    /// <see cref="PeerOutputException"/> naming <paramref name="who"/>, the line number and its text.
    /// </summary>
    public static List<JsonElement> JsonLines(string stdout, string who)
    {
        var lines = new List<JsonElement>();
        var raw = stdout.Split('\n');
        for (int i = 0; i < raw.Length; i++)
        {
            string text = raw[i].Trim();
            if (text.Length == 0)
                continue;
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new PeerOutputException($"{who}: output line {i + 1} is a JSON {doc.RootElement.ValueKind}, expected one JSON object per line: {Shorten(text)}");
                lines.Add(doc.RootElement.Clone());
            }
            catch (JsonException e)
            {
                throw new PeerOutputException($"{who}: output line {i + 1} is not JSON ({e.Message}); expected one JSON object per line: {Shorten(text)}");
            }
        }
        return lines;
    }

    /// <summary>
    /// The per-run times of a peer's JSON line (<c>"times_ms": [..]</c>, positive numbers); a
    /// missing or malformed array is a <see cref="PeerOutputException"/> naming <paramref name="who"/>.
    /// </summary>
    public static double[] Times(JsonElement line, string who)
    {
        if (!line.TryGetProperty("times_ms", out var arr) || arr.ValueKind != JsonValueKind.Array)
            throw new PeerOutputException($"{who}: the output line has no \"times_ms\" array of run times: {Shorten(line.GetRawText())}");
        var times = new double[arr.GetArrayLength()];
        int i = 0;
        foreach (var t in arr.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Number || !(t.GetDouble() > 0))
                throw new PeerOutputException($"{who}: \"times_ms\"[{i}] is {t.GetRawText()}, expected a positive number of milliseconds");
            times[i++] = t.GetDouble();
        }
        if (times.Length == 0)
            throw new PeerOutputException($"{who}: \"times_ms\" is empty; the peer timed no runs");
        return times;
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";

    internal static (int Code, string Stdout, string Stderr) Exec(string file, string[] args, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        // A foreign interpreter's settings must not leak into Debian's Python.
        psi.Environment.Remove("PYTHONPATH");
        psi.Environment.Remove("PYTHONHOME");
        // An inherited OpenBLAS core type may be wrong for this CPU (a shell configured for another
        // machine); openblas_env.py names the right one from the CPU flags when none is set.
        psi.Environment.Remove("OPENBLAS_CORETYPE");
        foreach (var (key, value) in env)
            psi.Environment[key] = value;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var errTask = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, errTask.Result);
    }
}
