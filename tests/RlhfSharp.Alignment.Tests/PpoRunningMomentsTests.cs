using RlhfSharp.Alignment.Ppo;

namespace RlhfSharp.Alignment.Tests;

public class PpoRunningMomentsTests
{
    [Fact]
    public void ChanMergeMatchesHandWorkedNumbers()
    {
        // Batch (1, 2, 3, 4): mean 2.5, M2 = 2.25 + 0.25 + 0.25 + 2.25 = 5. Batch (10): mean 10, M2 0.
        // Merge: n = 5, δ = 7.5, mean = 2.5 + 7.5·1/5 = 4, M2 = 5 + 0 + 7.5²·4·1/5 = 5 + 45 = 50.
        // Directly over (1, 2, 3, 4, 10): mean 4, Σ(x − 4)² = 9 + 4 + 1 + 0 + 36 = 50, var 50/4 = 12.5.
        var m = new RunningMoments();
        m.Update([1, 2, 3, 4]);
        m.Update([10]);
        Assert.Equal(5, m.Count);
        Assert.Equal(4, m.Mean, 12);
        Assert.Equal(50, m.M2, 12);
        Assert.Equal(12.5, m.Variance, 12);
        Assert.Equal(Math.Sqrt(12.5), m.Std, 12);
    }

    [Fact]
    public void ManyUnevenBatchesMatchADirectComputation()
    {
        var rng = new Random(7);
        var all = new List<double>();
        var m = new RunningMoments();
        foreach (int size in new[] { 1, 3, 17, 2, 129, 1, 5 })
        {
            var batch = Enumerable.Range(0, size).Select(_ => (rng.NextDouble() * 20) - 5).ToArray();
            m.Update(batch);
            all.AddRange(batch);
        }
        double mean = all.Average();
        double variance = all.Sum(x => (x - mean) * (x - mean)) / (all.Count - 1);
        Assert.Equal(all.Count, m.Count);
        Assert.Equal(mean, m.Mean, 10);
        Assert.Equal(variance, m.Variance, 10);
    }

    [Fact]
    public void StateRoundTripsThroughACheckpoint()
    {
        var a = new RunningMoments();
        a.Update([1, 2, 3]);
        var b = new RunningMoments { State = a.State };
        a.Update([4, 8]);
        b.Update([4, 8]);
        Assert.Equal(a.State, b.State);
    }
}
