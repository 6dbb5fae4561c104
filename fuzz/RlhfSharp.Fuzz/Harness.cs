using RlhfSharp.Serving;

namespace RlhfSharp.Fuzz;

/// <summary>What a target made of an input that did not crash it.</summary>
public enum Outcome
{
    /// <summary>The parser accepted the input.</summary>
    Accepted,

    /// <summary>The parser refused the input with an error a user can act on.</summary>
    Rejected,
}

/// <summary>A target used more memory on one input than any small file could justify.</summary>
public sealed class RunawayAllocationException(string message) : Exception(message);

/// <summary>
/// Runs one input through one target. Errors a user can cause (<see cref="IUserError"/>, and the
/// servers' 4xx <see cref="ApiError"/> answers) are the expected way to refuse bad input; every
/// other exception escapes, and so does a <see cref="RunawayAllocationException"/> when the input
/// made the parser allocate more than <see cref="AllocationLimitBytes"/>: under the fuzzer both are
/// crashes. Hangs are the fuzzer's timeout (and the replay test's).
/// </summary>
public static class Harness
{
    /// <summary>
    /// Bytes one input may make a target allocate. The largest seed needs a few megabytes; inputs
    /// are at most a megabyte, so a parser that allocates this much is sizing something from a
    /// number in the input instead of from the input's length.
    /// </summary>
    public const long AllocationLimitBytes = 512L << 20;

    public static Outcome Run(FuzzTarget target, byte[] input, Scratch scratch) => Run(target, input, scratch, out _);

    /// <summary>Runs one input; <paramref name="refusal"/> is the parser's message when it refused it.</summary>
    public static Outcome Run(FuzzTarget target, byte[] input, Scratch scratch, out string? refusal)
    {
        refusal = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Outcome outcome;
        try
        {
            target.Parse(input, scratch);
            outcome = Outcome.Accepted;
        }
        catch (Exception e) when (IsExpected(e))
        {
            outcome = Outcome.Rejected;
            refusal = e.Message;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > AllocationLimitBytes)
            throw new RunawayAllocationException($"{target.Name}: a {input.Length}-byte input made the parser allocate {allocated >> 20} MiB (limit {AllocationLimitBytes >> 20} MiB)");
        return outcome;
    }

    /// <summary>Whether <paramref name="e"/> is how a parser should refuse bad input.</summary>
    public static bool IsExpected(Exception e) => e is IUserError || e is ApiError { Status: >= 400 and < 500 };
}
