using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Alignment.Preference;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Alignment.Tests;

/// <summary>
/// KTO, ORPO and SimPO differentiated through a tiny "model", as <see cref="DpoGradientTests"/> does for
/// DPO: logits [B, T, V] = features [B, T, D] · W [D, V], the reference the same map with fixed W₀. The
/// chain checked is W -> logits -> SequenceLogProbs (sums for KTO, means for ORPO and SimPO) -> loss.
/// </summary>
public class PreferenceLossGradientTests
{
    private const int B = 2, T = 4, D = 3, V = 5;

    private static readonly Tensor IdsChosen = Tensor.FromArray([0, 3, 1, 4, 2, 2, 0, 1], B, T);
    private static readonly Tensor IdsRejected = Tensor.FromArray([0, 3, 2, 2, 2, 1, 4, 3], B, T);

    // positions 0–1 are the prompt; row 1 of the chosen side is padded at the end
    private static readonly Tensor MaskChosen = Tensor.FromArray([0f, 0f, 1f, 1f, 0f, 1f, 1f, 0f], B, T);
    private static readonly Tensor MaskRejected = Tensor.FromArray([0f, 0f, 1f, 1f, 0f, 1f, 1f, 1f], B, T);

    // KTO sees the four responses unpaired: the chosen rows desirable, the rejected rows undesirable.
    // Its reference point is a constant (TRL detaches it), so it is fixed here rather than re-estimated
    // at every perturbed W, which would differentiate through it.
    private const double KtoReferencePoint = 0.3;

    private static Tensor LossOfWeights(string loss, Tensor w, Tensor w0, Tensor featChosen, Tensor featRejected)
    {
        switch (loss)
        {
            case "kto":
                {
                    Tensor refChosen, refRejected;
                    using (GradMode.NoGrad())
                    {
                        refChosen = SequenceLogProbs.Sum(featChosen.Matmul(w0), IdsChosen, MaskChosen);
                        refRejected = SequenceLogProbs.Sum(featRejected.Matmul(w0), IdsRejected, MaskRejected);
                    }
                    var policy = Tensor.Cat([SequenceLogProbs.Sum(featChosen.Matmul(w), IdsChosen, MaskChosen), SequenceLogProbs.Sum(featRejected.Matmul(w), IdsRejected, MaskRejected)]);
                    return KtoLoss.Compute(policy, Tensor.Cat([refChosen, refRejected]), [true, true, false, false], KtoReferencePoint, 0.5, 1.0, 1.5).Loss;
                }
            default:
                {
                    var chosen = SequenceLogProbs.Mean(featChosen.Matmul(w), IdsChosen, MaskChosen);
                    var rejected = SequenceLogProbs.Mean(featRejected.Matmul(w), IdsRejected, MaskRejected);
                    return loss switch
                    {
                        "orpo" => OrpoLoss.Compute(chosen, rejected, 0.5).Loss,
                        "simpo" => SimpoLoss.Compute(chosen, rejected, 2, 1).Loss,
                        _ => SimpoLoss.Compute(chosen, rejected, 2, 1, labelSmoothing: 0.2).Loss,
                    };
                }
        }
    }

    /// <summary>
    /// Central differences (L(w + h) − L(w − h)) / 2h with h = 1e-2 against Backward. Tolerance as in
    /// <see cref="DpoGradientTests"/>: fp32 evaluation error over 2h is ≲ 1e-4, truncation error
    /// h²/6·|L'''| ~ 2e-5 for these smooth losses; atol 1e-3 plus rtol 2e-2 sits above both and far below
    /// a real mistake (a wrong sign, a missing β, a gradient through the reference).
    /// </summary>
    [Theory]
    [InlineData("kto")]
    [InlineData("orpo")]
    [InlineData("simpo")]
    [InlineData("simpo_smoothed")]
    public void FiniteDifferenceGradientThroughATinyModel(string loss)
    {
        var rng = new Generator(11);
        var featChosen = rng.Normal([B, T, D]);
        var featRejected = rng.Normal([B, T, D]);
        var w0 = rng.Normal([D, V]);
        var shift = rng.Normal([D, V], std: 0.5f).ToArray();
        var start = w0.ToArray().Select((v, i) => v + shift[i]).ToArray();

        var w = Tensor.FromArray((float[])start.Clone(), D, V);
        w.RequiresGrad = true;
        LossOfWeights(loss, w, w0, featChosen, featRejected).Backward();
        var analytic = w.Grad!.ToArray();
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-2); // the check is not vacuous

        const float h = 1e-2f;
        for (int i = 0; i < start.Length; i++)
        {
            double plus = Evaluate(loss, start, i, h, w0, featChosen, featRejected);
            double minus = Evaluate(loss, start, i, -h, w0, featChosen, featRejected);
            double numeric = (plus - minus) / (2.0 * h);
            Assert.True(Math.Abs(analytic[i] - numeric) <= 1e-3 + (2e-2 * Math.Abs(numeric)),
                $"{loss}, weight {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6}");
        }
    }

    /// <summary>
    /// Weights 10⁴ times too large make logits of order 10⁴: log-softmax saturates (some log-probs are 0,
    /// others −10⁴), yet every loss and every gradient stays finite.
    /// </summary>
    [Theory]
    [InlineData("kto")]
    [InlineData("orpo")]
    [InlineData("simpo")]
    [InlineData("simpo_smoothed")]
    public void HugeLogitsGiveFiniteLossesAndGradients(string loss)
    {
        var rng = new Generator(5);
        var featChosen = rng.Normal([B, T, D]);
        var featRejected = rng.Normal([B, T, D]);
        var w0 = rng.Normal([D, V]);
        var w = rng.Normal([D, V], std: 1e4f);
        w.RequiresGrad = true;
        var value = LossOfWeights(loss, w, w0, featChosen, featRejected);
        Assert.True(float.IsFinite(value.Item()), $"{loss}: loss {value.Item()}");
        value.Backward();
        Assert.All(w.Grad!.ToArray(), g => Assert.True(float.IsFinite(g), $"{loss}: gradient {g}"));
    }

    private static double Evaluate(string loss, float[] start, int index, float delta, Tensor w0, Tensor featChosen, Tensor featRejected)
    {
        var values = (float[])start.Clone();
        values[index] += delta;
        using var _ = GradMode.NoGrad();
        return LossOfWeights(loss, Tensor.FromArray(values, D, V), w0, featChosen, featRejected).Item();
    }
}
