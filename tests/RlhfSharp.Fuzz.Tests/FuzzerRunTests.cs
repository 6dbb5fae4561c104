using System.Diagnostics;

namespace RlhfSharp.Fuzz.Tests;

/// <summary>
/// Every target under the real fuzzer (scripts/fuzz.sh: AFL++ over the SharpFuzz-instrumented
/// assemblies) for a few seconds: the fuzzer must run each one and find no crash and no hang.
/// AFL++ and the instrumentation tool are installed by scripts/fuzz-setup.sh when missing.
/// </summary>
public class FuzzerRunTests
{
    private const int SecondsPerTarget = 2;

    [Fact]
    public async Task EveryTargetSurvivesAShortFuzzingRun()
    {
        SetupScript.Ensure(() => OnPath("afl-fuzz"), Path.Combine("scripts", "fuzz-setup.sh"), "the fuzzing test needs AFL++");
        string root = SetupScript.RepoRoot();
        string outDir = Path.Combine(Path.GetTempPath(), $"rlhf-fuzz-test-{Guid.NewGuid():N}");
        try
        {
            var psi = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "fuzz.sh"), "all", SecondsPerTarget.ToString(), outDir])
            {
                WorkingDirectory = root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            psi.Environment["FUZZ_JOBS"] = "2";
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            try
            {
                await p.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"scripts/fuzz.sh did not finish in 10 minutes.\n{await stdout}\n{await stderr}");
            }
            string output = $"{await stdout}\n{await stderr}";
            Assert.True(p.ExitCode == 0, $"scripts/fuzz.sh exited {p.ExitCode} (1: a crash or hang was found; 3: AFL could not run):\n{output}");

            var rows = File.ReadAllLines(Path.Combine(outDir, "summary.tsv")).Skip(1).Select(l => l.Split('\t')).ToDictionary(r => r[0]);
            foreach (var target in Targets.All)
            {
                Assert.True(rows.TryGetValue(target.Name, out var row), $"the fuzz summary has no row for {target.Name}:\n{output}");
                Assert.True(long.Parse(row[2]) > 0, $"{target.Name}: the fuzzer ran no inputs:\n{output}");
                Assert.True(long.Parse(row[3]) > 0, $"{target.Name}: the fuzzer saw no coverage (is the target instrumented?):\n{output}");
                Assert.Equal(("0", "0"), (row[5], row[6]));
            }
        }
        finally
        {
            if (Directory.Exists(outDir))
                Directory.Delete(outDir, recursive: true);
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));
}
