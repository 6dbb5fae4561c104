using RlhfSharp.Training.Pipeline;

namespace RlhfSharp.Training.Tests;

/// <summary>The pipeline's spread over seeds, with numbers worked out by hand.</summary>
public sealed class SeedSpreadTests
{
    [Fact]
    public void MeanAndSampleStandardDeviation()
    {
        // 0.6, 0.7, 0.8: mean 0.7; squared deviations 0.01 + 0 + 0.01 = 0.02, over n − 1 = 2 is 0.01, std 0.1.
        var s = SeedStat.Of([0.6, 0.7, 0.8]);
        Assert.Equal(0.7, s.Mean, 12);
        Assert.Equal(0.1, s.Std, 12);
        Assert.Equal("0.700 ± 0.100 (0.600, 0.700, 0.800)", s.Format("F3"));
    }

    [Fact]
    public void OneSeedHasNoStandardDeviation()
    {
        var s = SeedStat.Of([0.25]);
        Assert.True(double.IsNaN(s.Std));
        Assert.Equal("0.25 ± — (0.25)", s.Format("F2"));
        Assert.Null(s.ToJson()["std"]);
        Assert.Throws<ArgumentException>(() => SeedStat.Of([]));
    }

    [Fact]
    public void EachStageGathersItsSeedsRows()
    {
        PolicyRow Row(string name, double? gold, double? win, double kl) => new(name, gold, win, kl, 5, null);
        var rows = new[] { Row("sft", 0.1, null, 0), Row("ppo-seed1", 0.5, 0.6, 2), Row("ppo-seed2", 0.3, 0.8, 4), Row("dpo-seed1", null, null, 1), Row("dpo-seed2", null, null, 3) };
        var spread = SeedSpread.Of(rows, ["ppo", "dpo"], [1, 2], (stage, seed) => $"{stage}-seed{seed}");
        Assert.Equal(0.7, spread[0].WinRateVsSft!.Mean, 12);
        Assert.Equal(Math.Sqrt(0.02), spread[0].WinRateVsSft!.Std, 12); // (0.1² + 0.1²) / 1
        Assert.Equal(0.4, spread[0].Gold!.Mean, 12);
        Assert.Equal(3, spread[0].KlToSft.Mean, 12);
        Assert.Null(spread[1].Gold); // no gold scorer: no gold spread, not a mean of nothing
        Assert.Contains("| ppo | 0.400 ± 0.141 (0.500, 0.300) | 0.700 ± 0.141 (0.600, 0.800) | 3.00 ± 1.41 (2.00, 4.00) |", SeedSpread.Table(spread));
        Assert.Throws<InvalidOperationException>(() => SeedSpread.Of(rows, ["grpo"], [1], (stage, seed) => $"{stage}-seed{seed}"));
    }
}
