using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Tests;

public sealed class RewardMixtureTests
{
    private sealed class Fixed(string name, params double[][] batches) : IRewardSource
    {
        private int _call;

        public string Name => name;

        public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => batches[_call++ % batches.Length];
    }

    private static readonly string[] Two = ["p", "q"];

    [Fact]
    public void WeightsAddTheRawScoresWithoutNormalisation()
    {
        var mix = new RewardMixture([new(new Fixed("helpful", [1, 3]), 1.0), new(new Fixed("concise", [10, -2]), 0.5)], normalize: false);
        // 1·1 + 0.5·10 = 6; 1·3 + 0.5·(−2) = 2
        Assert.Equal([6.0, 2.0], mix.Score(Two, Two));
        Assert.Equal([1.0, 3.0], mix.LastComponents["helpful"]);
        Assert.Equal([10.0, -2.0], mix.LastComponents["concise"]);
        Assert.Equal("helpful+concise", mix.Name);
        var metrics = new Dictionary<string, double>();
        RewardMixture.AddComponentMeans(mix, metrics);
        Assert.Equal(2.0, metrics["reward/helpful"]);
        Assert.Equal(4.0, metrics["reward/concise"]);
    }

    [Fact]
    public void NormalisationStandardisesEachSourceByItsOwnRunningMoments()
    {
        var mix = new RewardMixture([new(new Fixed("a", [1, 3]), 1.0), new(new Fixed("b", [10, 10]), 0.5)], normalize: true);
        // a: mean 2, unbiased variance ((1−2)² + (3−2)²)/1 = 2, std √2 -> ∓1/√2.
        // b: both 10, std 0 -> (10 − 10)/(0 + ε) = 0, whatever its weight.
        var s = mix.Score(Two, Two);
        Assert.Equal(-1 / Math.Sqrt(2), s[0], 6);
        Assert.Equal(1 / Math.Sqrt(2), s[1], 6);
        // Evaluation applies the normalisers without moving them.
        var state = mix.State;
        Assert.Equal([2.0, 2.0, 2.0, 2.0, 10.0, 0.0], state);
        var e = mix.Evaluate(Two, Two);
        Assert.Equal(s, e);
        Assert.Equal(state, mix.State);

        var restored = new RewardMixture([new(new Fixed("a", [1, 3]), 1.0), new(new Fixed("b", [10, 10]), 0.5)], normalize: true) { State = state };
        Assert.Equal(e, restored.Evaluate(Two, Two));
    }

    [Fact]
    public void BadMixturesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new RewardMixture([], normalize: false));
        Assert.Throws<ArgumentException>(() => new RewardMixture([new(new Fixed("x", [1, 2]), 1), new(new Fixed("x", [1, 2]), 1)], normalize: false));
        Assert.Throws<ArgumentException>(() => new RewardMixture([new(new Fixed("x", [1, 2]), double.NaN)], normalize: false));
        var mix = new RewardMixture([new(new Fixed("x", [1, 2]), 1), new(new Fixed("y", [1]), 1)], normalize: false);
        Assert.Throws<InvalidOperationException>(() => mix.Score(Two, Two));
    }
}
