using RlhfSharp.Alignment.Kl;

namespace RlhfSharp.Alignment.Tests;

public class KlControllerTests
{
    // β = 0.1, target 6, horizon 10000, nSteps 256 (so nSteps/horizon = 0.0256):
    //   KL = 6.6:  e = 6.6/6 − 1 = 0.1             → β = 0.1·(1 + 0.1·0.0256)  = 0.100256
    //   KL = 12:   e = 1, clipped to 0.2            → β = 0.1·(1 + 0.2·0.0256)  = 0.100512
    //   KL = 5.4:  e = −0.1                         → β = 0.1·(1 − 0.1·0.0256)  = 0.099744
    //   KL = 0:    e = −1, clipped to −0.2          → β = 0.1·(1 − 0.2·0.0256)  = 0.099488
    [Theory]
    [InlineData(6.6, 0.100256)]
    [InlineData(12.0, 0.100512)]
    [InlineData(5.4, 0.099744)]
    [InlineData(0.0, 0.099488)]
    public void AdaptiveUpdateMatchesHandWorkedNumbers(double kl, double wantBeta)
    {
        var controller = new AdaptiveKlController(initBeta: 0.1, target: 6, horizon: 10000);
        controller.Update(kl, nSteps: 256);
        Assert.Equal(wantBeta, controller.Beta, 12);
    }

    [Fact]
    public void FixedControllerNeverMoves()
    {
        var controller = new FixedKlController(0.05);
        controller.Update(100, 256);
        controller.Update(0, 256);
        Assert.Equal(0.05, controller.Beta);
    }

    [Fact]
    public void StateRoundTripsThroughACheckpoint()
    {
        var a = new AdaptiveKlController(0.1, 6, 10000);
        a.Update(12, 256);
        var b = new AdaptiveKlController(0.1, 6, 10000) { State = a.State };
        a.Update(3, 64);
        b.Update(3, 64);
        Assert.Equal(a.Beta, b.Beta);
        Assert.Equal(new KlControllerState(0.7), new FixedKlController(0.1) { State = new KlControllerState(0.7) }.State);
    }

    [Fact]
    public void BadSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveKlController(0.1, 0, 10000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveKlController(0.1, 6, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedKlController(-0.1));
    }
}
