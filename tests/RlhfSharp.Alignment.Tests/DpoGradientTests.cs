using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Alignment.Tests;

public class DpoGradientTests
{
    [Fact]
    public void GradientWithRespectToPolicyLogProbsIsMinusBetaSigmaOfMinusH()
    {
        // L = (1/B) Σ softplus(−h_i), h = β·((π_c − ref_c) − (π_r − ref_r)), so
        // ∂L/∂π_c = −β·σ(−h)/B and ∂L/∂π_r = +β·σ(−h)/B. β = 0.5, B = 2:
        //   pair 1: u = (−5 + 6) − (−9 + 8) = 2, h = 1: β·σ(−1)/B = 0.5·0.268941/2 = 0.067235
        //   pair 2: u = 0, h = 0:                       β·σ(0)/B  = 0.5·0.5/2      = 0.125
        var pc = Tensor.FromArray([-5f, -4f]);
        var pr = Tensor.FromArray([-9f, -4f]);
        var rc = Tensor.FromArray([-6f, -4f]);
        var rr = Tensor.FromArray([-8f, -4f]);
        foreach (var t in new[] { pc, pr, rc, rr })
            t.RequiresGrad = true;
        DpoLoss.Compute(pc, pr, rc, rr, beta: 0.5f).Loss.Backward();
        var gc = pc.Grad!.ToArray();
        var gr = pr.Grad!.ToArray();
        Assert.Equal(-0.067235, gc[0], 5);
        Assert.Equal(-0.125, gc[1], 5);
        Assert.Equal(0.067235, gr[0], 5);
        Assert.Equal(0.125, gr[1], 5);
        // the reference is a constant: no gradient reaches it
        Assert.Null(rc.Grad);
        Assert.Null(rr.Grad);
    }

    [Fact]
    public void IpoGradientIsTwiceTheResidualOverB()
    {
        // ∂/∂π_c (u − 1/(2β))²/B = 2·(u − 1/(2β))/B; β = 0.5, u = 2, B = 1: 2·(2 − 1) = 2
        var pc = Tensor.FromArray([-5f]);
        pc.RequiresGrad = true;
        DpoLoss.Compute(pc, Tensor.FromArray([-9f]), Tensor.FromArray([-6f]), Tensor.FromArray([-8f]), 0.5f, DpoLossType.Ipo).Loss.Backward();
        Assert.Equal(2, pc.Grad!.Item(), 5);
    }

    // A tiny "model": logits [B, T, V] = features [B, T, D] · W [D, V]. The reference model is the
    // same map with fixed weights W₀. Chosen and rejected responses have their own features and ids.
    // The chain checked is W -> logits -> SequenceLogProbs -> DpoLoss.
    private const int B = 2, T = 4, D = 3, V = 5;

    private static readonly Tensor IdsChosen = Tensor.FromArray([0, 3, 1, 4, 2, 2, 0, 1], B, T);
    private static readonly Tensor IdsRejected = Tensor.FromArray([0, 3, 2, 2, 2, 1, 4, 3], B, T);

    // positions 0–1 are the prompt; row 1 of the chosen side is padded at the end
    private static readonly Tensor MaskChosen = Tensor.FromArray([0f, 0f, 1f, 1f, 0f, 1f, 1f, 0f], B, T);
    private static readonly Tensor MaskRejected = Tensor.FromArray([0f, 0f, 1f, 1f, 0f, 1f, 1f, 1f], B, T);

    private static Tensor Sequence(Tensor logits, Tensor ids, Tensor mask, DpoLossType type) =>
        type == DpoLossType.Ipo ? SequenceLogProbs.Mean(logits, ids, mask) : SequenceLogProbs.Sum(logits, ids, mask);

    private static Tensor LossOfWeights(Tensor w, Tensor w0, Tensor featChosen, Tensor featRejected, DpoLossType type, float smoothing)
    {
        Tensor refChosen, refRejected;
        using (GradMode.NoGrad())
        {
            refChosen = Sequence(featChosen.Matmul(w0), IdsChosen, MaskChosen, type);
            refRejected = Sequence(featRejected.Matmul(w0), IdsRejected, MaskRejected, type);
        }
        var policyChosen = Sequence(featChosen.Matmul(w), IdsChosen, MaskChosen, type);
        var policyRejected = Sequence(featRejected.Matmul(w), IdsRejected, MaskRejected, type);
        return DpoLoss.Compute(policyChosen, policyRejected, refChosen, refRejected, 0.5f, type, smoothing).Loss;
    }

    /// <summary>
    /// Central differences (L(w + h) − L(w − h)) / 2h with h = 1e-2 against Backward. Tolerance: L is
    /// computed in fp32 from log-probs of a few units, so each evaluation carries an error of about
    /// 1e-6·|∂L/∂u|; divided by 2h that is ≲ 1e-4. Truncation error h²/6·|L'''| is ~2e-5 for these
    /// smooth functions. atol = 1e-3 plus rtol = 2e-2 sits well above both and far below a real mistake
    /// (a wrong sign, a missing β, an off-by-one shift of the logits).
    /// </summary>
    [Theory]
    [InlineData(DpoLossType.Sigmoid, 0f)]
    [InlineData(DpoLossType.Sigmoid, 0.2f)]
    [InlineData(DpoLossType.Ipo, 0f)]
    public void FiniteDifferenceGradientThroughATinyModel(DpoLossType type, float smoothing)
    {
        var rng = new Generator(11);
        var featChosen = rng.Normal([B, T, D]);
        var featRejected = rng.Normal([B, T, D]);
        var w0 = rng.Normal([D, V]);
        var shift = rng.Normal([D, V], std: 0.5f).ToArray();
        var start = w0.ToArray().Select((v, i) => v + shift[i]).ToArray();

        var w = Tensor.FromArray((float[])start.Clone(), D, V);
        w.RequiresGrad = true;
        LossOfWeights(w, w0, featChosen, featRejected, type, smoothing).Backward();
        var analytic = w.Grad!.ToArray();
        Assert.Contains(analytic, g => Math.Abs(g) > 1e-2); // the check is not vacuous

        const float h = 1e-2f;
        for (int i = 0; i < start.Length; i++)
        {
            double plus = Evaluate(start, i, h, w0, featChosen, featRejected, type, smoothing);
            double minus = Evaluate(start, i, -h, w0, featChosen, featRejected, type, smoothing);
            double numeric = (plus - minus) / (2.0 * h);
            Assert.True(Math.Abs(analytic[i] - numeric) <= 1e-3 + (2e-2 * Math.Abs(numeric)),
                $"weight {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6}");
        }
    }

    private static double Evaluate(float[] start, int index, float delta, Tensor w0, Tensor featChosen, Tensor featRejected, DpoLossType type, float smoothing)
    {
        var values = (float[])start.Clone();
        values[index] += delta;
        using var _ = GradMode.NoGrad();
        return LossOfWeights(Tensor.FromArray(values, D, V), w0, featChosen, featRejected, type, smoothing).Item();
    }
}
