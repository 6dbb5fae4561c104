using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class FunctionalLossTests
{
    /// <summary>Per-row −log softmax(x)[t] in double (0 where ignored).</summary>
    private static double[] RefNll(float[] x, int[] t, int v, int ignore = -100)
    {
        var loss = new double[t.Length];
        for (int r = 0; r < t.Length; r++)
            loss[r] = t[r] == ignore ? 0 : LogSumExp(x, r * v, v) - x[(r * v) + t[r]];
        return loss;
    }

    private static Tensor IdsWithIgnored(ulong seed, int v, params int[] shape)
    {
        var ids = RandIds(seed, v, shape).ToIntArray();
        for (int i = 0; i < ids.Length; i += 3)
            ids[i] = -100;
        return Tensor.FromArray(ids, shape);
    }

    [Fact]
    public void CrossEntropyHandWorked()
    {
        // Two equal logits: loss log 2. Logits (0, ln 3) with target 1: −log(3/4).
        var logits = Tensor.FromArray([0f, 0f, 0f, MathF.Log(3f)], 2, 2);
        var targets = Tensor.FromArray([0, 1], 2);
        AssertClose([Math.Log(2), -Math.Log(0.75)], F.CrossEntropy(logits, targets, reduction: Reduction.None).ToArray());
        AssertClose([(Math.Log(2) - Math.Log(0.75)) / 2], [F.CrossEntropy(logits, targets).Item()]);
    }

    [Theory]
    [InlineData(new[] { 7 }, 17)]
    [InlineData(new[] { 2, 5 }, 3)]
    [InlineData(new[] { 4 }, 1)]
    [InlineData(new[] { 3, 4 }, 300)]
    public void CrossEntropyForwardMatchesReferenceForEveryReduction(int[] lead, int v)
    {
        var logits = Randn(11, [.. lead, v]) * 2f;
        var targets = IdsWithIgnored(12, v, lead);
        var expected = RefNll(logits.ToArray(), targets.ToIntArray(), v);
        int count = targets.ToIntArray().Count(t => t != -100);
        AssertClose(expected, F.CrossEntropy(logits, targets, reduction: Reduction.None).ToArray());
        Assert.Equal(lead, F.CrossEntropy(logits, targets, reduction: Reduction.None).Shape);
        AssertClose([expected.Sum()], [F.CrossEntropy(logits, targets, reduction: Reduction.Sum).Item()]);
        AssertClose([expected.Sum() / count], [F.CrossEntropy(logits, targets).Item()]);
    }

    [Theory]
    [InlineData(new[] { 6 }, 17, Reduction.Mean)]
    [InlineData(new[] { 2, 5 }, 3, Reduction.Sum)]
    [InlineData(new[] { 2, 5 }, 3, Reduction.None)]
    [InlineData(new[] { 1, 1 }, 1, Reduction.Mean)]
    [InlineData(new[] { 3 }, 1, Reduction.None)]
    public void CrossEntropyGradCheckWithIgnoredTargets(int[] lead, int v, Reduction reduction)
    {
        var targets = IdsWithIgnored(13, v, lead);
        if (targets.ToIntArray().All(t => t == -100))
            targets = Tensor.Zeros(lead).ToInt32();
        GradCheck.Check(t => F.CrossEntropy(t[0], targets, reduction: reduction), [Randn(14, [.. lead, v])]);
    }

    [Fact]
    public void CrossEntropyCustomIgnoreIndexAndAllIgnoredMean()
    {
        var logits = Randn(15, 3, 4);
        var targets = Tensor.FromArray([2, 0, 2], 3);
        var none = F.CrossEntropy(logits, targets, ignoreIndex: 2, reduction: Reduction.None).ToArray();
        Assert.Equal(0f, none[0]);
        Assert.Equal(0f, none[2]);
        Assert.True(none[1] > 0);
        Assert.True(float.IsNaN(F.CrossEntropy(logits, Tensor.FromArray([-100, -100, -100], 3)).Item()));
    }

    [Fact]
    public void CrossEntropyNoneEqualsNegativeTokenLogProbsWhereNotIgnored()
    {
        var logits = Randn(16, 2, 5, 17);
        var targets = IdsWithIgnored(17, 17, 2, 5);
        var ce = F.CrossEntropy(logits, targets, reduction: Reduction.None).ToArray();
        var safe = Tensor.FromArray(targets.ToIntArray().Select(t => Math.Max(t, 0)).ToArray(), 2, 5);
        var lp = F.TokenLogProbs(logits, safe).ToArray();
        var t = targets.ToIntArray();
        for (int i = 0; i < ce.Length; i++)
            Assert.Equal(t[i] == -100 ? 0f : -lp[i], ce[i]);
    }

    [Fact]
    public void ExtremeLogitsGiveFiniteLossesAndGradients()
    {
        var logits = Tensor.FromArray([1e4f, -1e4f, 0f, -1e4f, 1e4f, 1e4f], 2, 3);
        logits.RequiresGrad = true;
        var targets = Tensor.FromArray([1, 0], 2);
        var loss = F.CrossEntropy(logits, targets);
        AssertClose([(2e4 + (2e4 + Math.Log(2))) / 2], [loss.Item()]);
        loss.Backward();
        AssertAllFinite(logits.Grad!.ToArray());
        var lp = F.TokenLogProbs(logits.Detach(), Tensor.FromArray([0, 1], 2)).ToArray();
        AssertClose([0, -Math.Log(2)], lp);
        AssertAllFinite(F.Entropy(logits.Detach()).ToArray());
    }

    [Fact]
    public void CrossEntropyErrorsNameOpAndShapes()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => F.CrossEntropy(Tensor.Zeros(4, 5), Tensor.Zeros(3).ToInt32()));
        Assert.Equal("CrossEntropy", ex.Op);
        Assert.Contains("[3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
        var range = Assert.Throws<IndexOutOfRangeException>(() => F.CrossEntropy(Tensor.Zeros(2, 5), Tensor.FromArray([1, 5], 2)));
        Assert.Contains("5", range.Message);
        Assert.Throws<ShapeMismatchException>(() => F.TokenLogProbs(Tensor.Zeros(2, 3, 5), Tensor.Zeros(2, 4).ToInt32()));
    }

    [Theory]
    [InlineData(2, 5, 17)]
    [InlineData(1, 1, 3)]
    [InlineData(2, 1, 1)]
    public void TokenLogProbsForwardAndGradCheck(int b, int t, int v)
    {
        var logits = Randn(18, b, t, v);
        var ids = RandIds(19, v, b, t);
        var expected = RefNll(logits.ToArray(), ids.ToIntArray(), v).Select(l => -l).ToArray();
        AssertClose(expected, F.TokenLogProbs(logits, ids).ToArray());
        GradCheck.Check(x => F.TokenLogProbs(x[0], ids), [logits]);
    }

    [Fact]
    public void TokenLogProbsOfShiftedViewMatchesCopy()
    {
        // logits[:, :-1, :] as in next-token scoring: read in place, gradient lands in the full tensor.
        var logits = Randn(20, 2, 5, 7);
        logits.RequiresGrad = true;
        var ids = RandIds(21, 7, 2, 4);
        var view = F.TokenLogProbs(logits.Narrow(1, 0, 4), ids);
        Assert.Equal(F.TokenLogProbs(logits.Detach().Narrow(1, 0, 4).Contiguous(), ids).ToArray(), view.ToArray());
        view.Sum().Backward();
        var g = logits.Grad!;
        Assert.Equal(new[] { 2, 5, 7 }, g.Shape);
        Assert.All(g.Narrow(1, 4, 1).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void EntropyHandWorkedAndForwardMatchesReference()
    {
        // Uniform over V: log V. One −∞ logit behaves like a missing class.
        AssertClose([Math.Log(5)], F.Entropy(Tensor.Zeros(1, 5)).ToArray());
        AssertClose([Math.Log(2)], F.Entropy(Tensor.FromArray([0f, float.NegativeInfinity, 0f], 1, 3)).ToArray());
        var x = Randn(22, 3, 4, 17) * 2f;
        var xs = x.ToArray();
        var expected = new double[12];
        for (int r = 0; r < 12; r++)
        {
            double lse = LogSumExp(xs, r * 17, 17);
            for (int j = 0; j < 17; j++)
            {
                double lp = xs[(r * 17) + j] - lse;
                expected[r] -= Math.Exp(lp) * lp;
            }
        }
        AssertClose(expected, F.Entropy(x).ToArray());
    }

    [Theory]
    [InlineData(new[] { 2, 3, 5 })]
    [InlineData(new[] { 4, 1 })]
    [InlineData(new[] { 1, 17 })]
    public void EntropyGradCheck(int[] shape)
    {
        GradCheck.Check(t => F.Entropy(t[0]), [Randn(23, shape)]);
    }

    [Fact]
    public void EntropyGradientIsFiniteWithNegativeInfinityLogits()
    {
        var x = Tensor.FromArray([0.5f, float.NegativeInfinity, -0.5f], 1, 3);
        x.RequiresGrad = true;
        F.Entropy(x).Sum().Backward();
        var g = x.Grad!.ToArray();
        AssertAllFinite(g);
        Assert.Equal(0f, g[1]);
    }
}
