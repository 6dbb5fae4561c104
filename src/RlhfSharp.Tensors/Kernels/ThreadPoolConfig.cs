namespace RlhfSharp.Tensors.Kernels;

/// <summary>
/// How many threads the kernels use. Read once from <c>RLHFSHARP_THREADS</c>, else the core count;
/// <see cref="Threads"/> changes it at run time. Kernels partition work by this number only, so a
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
        return Math.Max(1, Environment.ProcessorCount);
    }
}
