namespace RlhfSharp.Alignment.Ppo;

/// <summary>
/// Running mean and standard deviation of every number seen so far, merged batch by batch with
/// the parallel update of Chan, Golub &amp; LeVeque (1979), Welford's update for one element.
/// Used to normalise reward-model scores across PPO steps (TRL's <c>RunningMoments</c>).
/// </summary>
public sealed class RunningMoments
{
    /// <summary>How many numbers have been seen.</summary>
    public long Count { get; private set; }

    /// <summary>Their mean (0 before any).</summary>
    public double Mean { get; private set; }

    /// <summary>Σ (x − mean)² over everything seen (Welford's M2).</summary>
    public double M2 { get; private set; }

    /// <summary>Sample variance M2 / (n − 1) (unbiased); 0 while fewer than two numbers were seen.</summary>
    public double Variance => Count < 2 ? 0 : M2 / (Count - 1);

    /// <summary>√Variance.</summary>
    public double Std => Math.Sqrt(Variance);

    /// <summary>Merges a batch (Chan et al. 1979): δ = m_b − m_a, m = m_a + δ·n_b/n, M2 = M2_a + M2_b + δ²·n_a·n_b/n.</summary>
    public void Update(ReadOnlySpan<double> xs)
    {
        if (xs.IsEmpty)
            return;
        double batchMean = 0;
        foreach (double x in xs)
            batchMean += x;
        batchMean /= xs.Length;
        double batchM2 = 0;
        foreach (double x in xs)
            batchM2 += (x - batchMean) * (x - batchMean);
        if (double.IsNaN(batchMean) || double.IsInfinity(batchMean))
            throw new ArgumentException("RunningMoments.Update: the batch holds NaN or infinite values", nameof(xs));

        long n = Count + xs.Length;
        double delta = batchMean - Mean;
        Mean += delta * xs.Length / n;
        M2 += batchM2 + (delta * delta * Count * xs.Length / n);
        Count = n;
    }

    /// <summary>(x − mean)/(std + eps) when shiftMean, else x/(std + eps) (TRL's score norm / score scaling).</summary>
    public double Normalize(double x, bool shiftMean = true, double eps = 1e-8) =>
        ((shiftMean ? x - Mean : x) / (Std + eps));

    /// <summary>The state a checkpoint saves and restores.</summary>
    public RunningMomentsState State
    {
        get => new(Count, Mean, M2);
        set
        {
            if (value.Count < 0 || value.M2 < 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, "RunningMoments.State: count and M2 must be >= 0");
            (Count, Mean, M2) = (value.Count, value.Mean, value.M2);
        }
    }
}

/// <summary>What <see cref="RunningMoments"/> checkpoints.</summary>
public sealed record RunningMomentsState(long Count, double Mean, double M2);
