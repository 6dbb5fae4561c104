using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Tests.OptimTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class OptimAdamWTests
{
    [Fact]
    public void TwoStepsMatchHandWorkedNumbers()
    {
        // p = (1, −2), lr = 0.1, λ = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8.
        // Step 1, g = (0.5, −1):
        //   decoupled decay  p ← p·(1 − lr·λ) = 0.99·p                  = (0.99, −1.98)
        //   m = 0.1·g = (0.05, −0.1);  v = 0.001·g² = (0.00025, 0.001)
        //   bias correction  bc1 = 1 − 0.9 = 0.1, bc2 = 1 − 0.999 = 0.001
        //   m̂ = m/bc1 = (0.5, −1);  v̂ = v/bc2 = (0.25, 1);  √v̂ = (0.5, 1)
        //   p ← p − lr·m̂/(√v̂ + ε) = (0.99 − 0.1·0.99999998, −1.98 + 0.1·0.99999999) = (0.890000002, −1.880000001)
        // Step 2, g = (1, 2):
        //   decay            p = 0.99·(0.890000002, −1.880000001)           = (0.88110000198, −1.86120000099)
        //   m = 0.9·(0.05, −0.1) + 0.1·(1, 2) = (0.145, 0.11)
        //   v = 0.999·(0.00025, 0.001) + 0.001·(1, 4) = (0.00124975, 0.004999)
        //   bc1 = 1 − 0.81 = 0.19, bc2 = 1 − 0.998001 = 0.001999
        //   m̂ = (0.76315789, 0.57894737);  v̂ = (0.62518759, 2.50075038);  √v̂ = (0.79068805, 1.58137610)
        //   m̂/(√v̂ + ε) = (0.96518201, 0.36610352)
        //   p = (0.88110000 − 0.096518201, −1.86120000 − 0.036610352) = (0.78458180, −1.89781035)
        var p = Param("w", 1f, -2f);
        var opt = new AdamW([p], lr: 0.1f, weightDecay: 0.1f);
        SetGrad(p, 0.5f, -1f);
        opt.Step();
        AssertClose([0.890000002f, -1.880000001f], p.ToArray());
        SetGrad(p, 1f, 2f);
        opt.Step();
        AssertClose([0.78458180f, -1.89781035f], p.ToArray());
        var state = opt.StateDict().Params[0];
        Assert.Equal(2, state.Step);
        AssertClose([0.145f, 0.11f], state.Buffers["exp_avg"]);
        AssertClose([0.00124975f, 0.004999f], state.Buffers["exp_avg_sq"], 1e-9f);
    }

    [Fact]
    public void NoDecayGroupIsUntouchedByWeightDecay()
    {
        // With zero gradients the Adam step is 0/(0 + ε) = 0, so only decoupled decay moves p:
        // the decay group shrinks by 1 − lr·λ = 1 − 0.1·0.5 = 0.95; the no-decay group stays exactly.
        var w = TinyModels.Param(Tensor.FromArray([2f, -4f, 6f, 8f], 2, 2), "fc.weight");
        var b = Param("fc.bias", 3f, -1f);
        var groups = ParamGroups.DecayAndNoDecay([("fc.weight", w), ("fc.bias", b)], weightDecay: 0.5f);
        var opt = new AdamW(groups, lr: 0.1f);
        w.Grad = Tensor.ZerosLike(w);
        b.Grad = Tensor.ZerosLike(b);
        opt.Step();
        AssertClose([1.9f, -3.8f, 5.7f, 7.6f], w.ToArray());
        AssertSameBits([3f, -1f], b.ToArray());
        Assert.Equal(0.5f, opt.ParamGroups[0].WeightDecay);
        Assert.Equal(0f, opt.ParamGroups[1].WeightDecay);
    }

    [Fact]
    public void DecayAndNoDecaySplitsLikeNanoGpt()
    {
        Tensor P(params int[] shape) => TinyModels.Param(Tensor.Zeros(shape), "x");
        var frozen = Tensor.Zeros(3, 3);
        var named = new (string, Tensor)[]
        {
            ("wte.weight", P(10, 4)), ("h.0.attn.c_attn.weight", P(4, 12)), ("h.0.attn.c_attn.bias", P(12)),
            ("h.0.ln_1.weight", P(4)), ("model.norm.weight", P(4, 1)), ("scale", P(1)), ("frozen.weight", frozen),
        };
        var groups = ParamGroups.DecayAndNoDecay(named, 0.1f);
        Assert.Equal([ParamGroups.Decay, ParamGroups.NoDecay], groups.Select(g => g.Name));
        Assert.Equal(2, groups[0].Params.Count);
        Assert.Equal(4, groups[1].Params.Count);
        Assert.DoesNotContain(frozen, groups.SelectMany(g => g.Params));
        Assert.True(ParamGroups.IsNoDecay("model.norm.weight", named[4].Item2));
        Assert.False(ParamGroups.IsNoDecay("wte.weight", named[0].Item2));
    }

    [Fact]
    public void GroupLearningRatesAndDefaults()
    {
        var a = Param("a", 1f);
        var b = Param("b", 1f);
        var opt = new AdamW([new ParamGroup("fast", [a], lr: 0.2f), new ParamGroup("slow", [b])], lr: 0.05f, weightDecay: 0f);
        Assert.Equal(0.2f, opt.ParamGroups[0].Lr);
        Assert.Equal(0.05f, opt.ParamGroups[1].Lr);
        Assert.Equal(0.05f, opt.ParamGroups[1].InitialLr);
        // The first Adam step moves each parameter by about lr (m̂/√v̂ = sign(g)).
        SetGrad(a, 3f);
        SetGrad(b, 3f);
        opt.Step();
        AssertClose([0.8f], a.ToArray(), 1e-6f);
        AssertClose([0.95f], b.ToArray(), 1e-6f);
        var unattached = new ParamGroup("g", [a]);
        Assert.Contains("no Lr yet", Assert.Throws<InvalidOperationException>(() => unattached.Lr).Message);
    }

    [Fact]
    public void ChangingAGroupAfterConstructionIsAClearError()
    {
        var a = Param("a", 1f);
        var opt = new AdamW([a]);
        opt.ParamGroups[0].Params.Add(Param("b", 2f));
        var ex = Assert.Throws<InvalidOperationException>(opt.Step);
        Assert.Contains("had 1 parameters", ex.Message);
    }

    [Fact]
    public void KernelWidthsAreBitIdenticalToScalar()
    {
        var g = new Generator(11);
        foreach (int n in new[] { 1, 3, 15, 16, 17, 31, 33, 129, 1000 })
        {
            var p0 = g.Normal([n]).ToArray();
            var grad = g.Normal([n]).ToArray();
            var m0 = g.Normal([n], 0f, 0.1f).ToArray();
            var v0 = g.Uniform([n], 0f, 0.01f).ToArray();
            float[]? refP = null, refM = null, refV = null;
            foreach (int width in AdamWKernel.SupportedWidths())
            {
                var (p, m, v) = ((float[])p0.Clone(), (float[])m0.Clone(), (float[])v0.Clone());
                AdamWKernel.Update(p, grad, m, v, decay: 0.999f, beta1: 0.9f, c1: 0.1f, beta2: 0.95f, c2: 0.05f, stepSize: 3e-3f, sqrtBc2: 0.3f, eps: 1e-8f, width);
                if (refP is null)
                {
                    (refP, refM, refV) = (p, m, v);
                    continue;
                }
                AssertSameBits(refP, p, $"n={n} width={width} p");
                AssertSameBits(refM!, m, $"n={n} width={width} m");
                AssertSameBits(refV!, v, $"n={n} width={width} v");
            }
        }
    }
}
