using System.Diagnostics;

namespace RlhfSharp.Bench;

/// <summary>Wall-clock times of repeated runs of one action, in milliseconds.</summary>
public readonly record struct Timings(double BestMs, double MedianMs, int Runs)
{
    // Warms up (at least 2 runs and ~0.2 s), then times runs until `minRuns` and ~`targetSeconds`
    // have passed (at most `maxRuns`). Best = fastest run, the least disturbed by other load.
    public static Timings Measure(Action action, int minRuns = 5, int maxRuns = 50, double targetSeconds = 1.0)
    {
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 2 || sw.Elapsed.TotalSeconds < 0.2; i++)
            action();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < minRuns || (times.Count < maxRuns && total.Elapsed.TotalSeconds < targetSeconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        return new Timings(times[0], times[times.Count / 2], times.Count);
    }
}
