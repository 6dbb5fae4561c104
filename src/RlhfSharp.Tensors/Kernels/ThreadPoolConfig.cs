namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// How many threads the kernels use. Read once from <c>RLHFSHARP_THREADS</c>, else the core count
/// (shared out among the ranks of an MPI job on this machine, so two ranks on eight cores take
/// four each); <see cref="Threads"/> changes it at run time. Kernels partition work by this number only, so a
/// fixed thread count gives bit-identical results run to run.
/// </summary>
public static class Engine
{
    private static int _threads = ReadDefault();

    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "thread count must be at least 1");
            _threads = value;
        }
    }

    private static int ReadDefault()
    {
        var env = Environment.GetEnvironmentVariable("RLHFSHARP_THREADS");
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (int.TryParse(env, out var n) && n >= 1)
                return n;
            throw new InvalidOperationException(
                $"RLHFSHARP_THREADS='{env}' is not a positive integer; set it to the number of threads to use, e.g. 2");
        }
        return Math.Max(1, Environment.ProcessorCount / LocalRanks());
    }

    // Ranks of an MPI job on this machine (Open MPI tells each process), 1 outside one.
    private static int LocalRanks() =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int n) && n > 1 ? n : 1;
}
