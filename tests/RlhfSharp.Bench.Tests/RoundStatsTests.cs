namespace RlhfSharp.Bench.Tests;

/// <summary>How rounds become the reported min / median / max and speed ratios.</summary>
public sealed class RoundStatsTests
{
    [Fact]
    public void TheSpreadOfAnOddCountIsItsSmallestMiddleAndLargestWhateverTheOrder()
    {
        var s = Spread.Of([30.0, 10.0, 50.0, 20.0, 40.0]);
        Assert.Equal(new Spread(10, 30, 50), s);
    }

    [Fact]
    public void TheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo()
    {
        Assert.Equal(25.0, Spread.Of([40.0, 10.0, 20.0, 30.0]).Median);
        Assert.Equal(new Spread(7, 7, 7), Spread.Of([7.0]));
    }

    [Fact]
    public void AnEmptySpreadIsRefused() => Assert.Throws<ArgumentException>(() => Spread.Of([]));

    [Fact]
    public void RatiosArePeerOverOursPairedRoundByRound()
    {
        // Round 2 was slow for both sides: paired, it is still a 2x round.
        var r = Spread.Ratios([200.0, 800.0, 150.0], [100.0, 400.0, 100.0]);
        Assert.Equal(new Spread(1.5, 2, 2), r);
        // Unpaired, the medians would say 200/100 and the max 800/100 = 8; pairing never gives 8.
        Assert.True(r.Max < 8);
    }

    [Fact]
    public void RatiosNeedAsManyPeerRoundsAsOurs()
    {
        var e = Assert.Throws<ArgumentException>(() => Spread.Ratios([1.0, 2.0], [1.0]));
        Assert.Contains("2 peer rounds against 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RoundsReportOursThePeerAndTheirRatio()
    {
        var rounds = new Rounds();
        rounds.OursMs.AddRange([10.0, 12.0, 11.0]);
        rounds.PeerMs.AddRange([30.0, 24.0, 44.0]);
        Assert.Equal(new Spread(10, 11, 12), rounds.Ours);
        Assert.Equal(new Spread(24, 30, 44), rounds.Peer);
        Assert.Equal(new Spread(2, 3, 4), rounds.Ratio);
    }
}
