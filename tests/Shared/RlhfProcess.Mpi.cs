using System.Diagnostics;

namespace RlhfSharp.TestSupport;

/// <summary>
/// Data-parallel runs: <c>mpirun -np N dotnet rlhf.dll ARGS</c> on this machine (Open MPI,
/// installed by scripts/mpi-setup.sh when missing), and the process of one rank by its number.
/// </summary>
public sealed partial class RlhfProcess
{
    /// <summary>Starts <c>rlhf ARGS</c> on <paramref name="ranks"/> ranks without waiting.</summary>
    public static RlhfProcess LaunchRanks(int ranks, params string[] args)
    {
        EnsureOpenMpi();
        return Start("mpirun",
        [
            "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
            "--mca", "btl_vader_single_copy_mechanism", "none",
            "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "dotnet", DllPath, .. args,
        ]);
    }

    /// <summary>Runs <c>rlhf ARGS</c> on <paramref name="ranks"/> ranks to completion within <paramref name="limit"/>.</summary>
    public static (int Code, string Out, string Err) RunRanks(int ranks, TimeSpan limit, params string[] args)
    {
        using var p = LaunchRanks(ranks, args);
        if (!p.WaitForExit(limit))
            throw new TimeoutException($"mpirun -np {ranks} rlhf {string.Join(' ', args)} did not finish within {limit}; stderr:\n{p.Stderr}");
        return (p.ExitCode, p.Stdout, p.Stderr);
    }

    /// <summary>The process id of rank <paramref name="rank"/> of a run started by <see cref="LaunchRanks"/>, once it has started.</summary>
    public int RankProcessId(int rank, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        string want = $"OMPI_COMM_WORLD_RANK={rank}";
        while (DateTime.UtcNow < deadline)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid))
                    continue;
                try
                {
                    if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("rlhf.dll", StringComparison.Ordinal))
                        continue;
                    if (Parent(pid) != Id)
                        continue;
                    if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(want))
                        return pid;
                }
                catch (IOException)
                {
                    // the process ended meanwhile
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"rank {rank} of the mpirun run did not appear within {limit}");
    }

    private static int Parent(int pid)
    {
        // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs scripts/mpi-setup.sh once per machine when mpirun is missing.</summary>
    public static void EnsureOpenMpi() =>
        SetupScript.Ensure(() => OnPath("mpirun"), Path.Combine("scripts", "mpi-setup.sh"), "the data-parallel tests need Open MPI");

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, program)));
}
