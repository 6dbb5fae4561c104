using RlhfSharp.Models.Config;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Tests;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// A whole tiny model of each family on the device against the same model on the CPU: logits,
/// every parameter's gradient and greedy generation with the KV cache. (AdamW's device step is
/// compared in <see cref="FusedOpTests"/>: after one step of a whole model, parameters whose
/// gradient is 0 in exact arithmetic, like GPT-2's key bias, move by ±lr by the sign of rounding
/// noise on either engine, so a model-level comparison after a step tests nothing.)
///
/// Tolerances: each engine rounds differently (summation order in GEMMs, norms and attention;
/// exp/tanh implementations), about 1e-7 relative per op; through two blocks of about 15 ops each,
/// forward values agree to ~1e-5 relative, so logits are checked at 1e-4. Parameter gradients are
/// sums over B·T = 14 positions of products of those values, checked at 1e-3 relative plus 1e-5
/// absolute (many gradients are near 0, where relative error means nothing). Greedy tokens are
/// compared exactly: the arg-max margins of these models are far above 1e-4.
/// </summary>
public sealed class TinyModelTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly Device _device = fixture.Device;

    // The Models tests' tiny configurations (the file is linked into this project).
    private static ModelConfig Config(string name) => name switch
    {
        "gpt2" => TinyModels.Gpt2(),
        "qwen2" => TinyModels.ByName("qwen2-bias"),
        _ => TinyModels.Llama(),
    };

    private (CausalLM Cpu, CausalLM Dev) Pair(string name)
    {
        var cfg = Config(name);
        var cpu = new CausalLM(cfg, new Generator(3));
        var dev = new CausalLM(cfg, new Generator(3));
        dev.To(_device);
        Assert.Equal(_device, dev.Device);
        return (cpu, dev);
    }

    // Two left-padded rows of 7 tokens.
    private static (Tensor Ids, Tensor Mask) Batch()
    {
        var ids = Tensor.FromArray([0, 0, 5, 9, 1, 30, 7, 3, 4, 8, 12, 20, 6, 11], 2, 7);
        var mask = Tensor.FromArray([0f, 0f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f], 2, 7);
        return (ids, mask);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("gpt2")]
    public void LogitsAndGradientsMatchTheCpu(string name)
    {
        var (cpu, dev) = Pair(name);
        var (ids, mask) = Batch();
        var targets = Tensor.FromArray([-100, -100, 9, 1, 30, 7, -100, 4, 8, 12, 20, 6, 11, -100], 2, 7);

        var hl = cpu.Forward(ids, mask);
        var dl = dev.Forward(ids.To(_device), mask);
        Assert.True(dl.IsOnDevice);
        AssertClose(hl, dl, 1e-4f, 1e-5f, "logits");

        F.CrossEntropy(hl, targets).Backward();
        F.CrossEntropy(dl, targets.To(_device)).Backward();
        var hp = cpu.NamedParameters().ToDictionary(p => p.Name, p => p.Param.Value);
        foreach (var (pname, p) in dev.NamedParameters())
        {
            Assert.NotNull(p.Value.Grad);
            AssertClose(hp[pname].Grad!, p.Value.Grad!, 1e-3f, 1e-5f, $"gradient of {pname}");
        }

    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void GreedyGenerationWithTheKvCacheGivesTheSameTokens(string name)
    {
        var (cpu, dev) = Pair(name);
        var (ids, mask) = Batch();
        var options = new GenerationOptions { MaxNewTokens = 6, DoSample = false, EosTokenIds = [] };
        var h = Sampler.Generate(cpu, ids, mask, options, new Generator(1));
        DeviceTransfers.Reset();
        var d = Sampler.Generate(dev, ids, mask, options, new Generator(1));
        Assert.Equal(h.ResponseIds.ToIntArray(), d.ResponseIds.ToIntArray());
        AssertClose(h.LogProbs, d.LogProbs, 1e-4f, 1e-5f, "log-probs of the greedy tokens");
        // Per generated token: its ids, the mask and the positions go up, the drawn tokens and
        // their log-probs come back (not the logits); once per model and device, the rotary
        // tables go up (two, Llama only).
        Assert.True(DeviceTransfers.Total <= (4 * 6) + 2, $"{DeviceTransfers.Total} transfers for 6 tokens");
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.7f)]
    public void SampledGenerationDrawsTheSameTokensFromTheSameSeed(float temperature)
    {
        var (cpu, dev) = Pair("llama");
        var (ids, mask) = Batch();
        // Tokens are drawn on the device from uniforms drawn on the host in the host sampler's
        // order; the two engines' probabilities differ by ~1e-6, so a draw lands on another token
        // only if a uniform falls within 1e-6 of a boundary (not with this seed).
        var options = new GenerationOptions { MaxNewTokens = 8, DoSample = true, Temperature = temperature, EosTokenIds = [2] };
        var h = Sampler.Generate(cpu, ids, mask, options, new Generator(5));
        var d = Sampler.Generate(dev, ids, mask, options, new Generator(5));
        Assert.Equal(h.ResponseIds.ToIntArray(), d.ResponseIds.ToIntArray());
        Assert.Equal(h.ResponseLengths, d.ResponseLengths);
        AssertClose(h.LogProbs, d.LogProbs, 1e-4f, 1e-5f, "log-probs of the sampled tokens");
    }

    [Fact]
    public void ATrainingStepOnTheDeviceMovesNothingButTheBatchAndTheLoss()
    {
        var (_, dev) = Pair("llama");
        var (ids, mask) = Batch();
        var opt = new AdamW(dev.TrainableParameters(), lr: 1e-3f);
        var targets = Tensor.FromArray([-100, -100, 9, 1, 30, 7, -100, 4, 8, 12, 20, 6, 11, -100], 2, 7);
        for (int step = 0; step < 2; step++)
        {
            DeviceTransfers.Reset();
            var loss = F.CrossEntropy(dev.Forward(ids.To(_device), mask), targets.To(_device));
            loss.Backward();
            float norm = GradClip.ClipGradNorm(dev.TrainableParameters(), 1f);
            opt.Step();
            opt.ZeroGrad();
            float value = loss.Item();
            Assert.True(float.IsFinite(value) && float.IsFinite(norm));
            // Up: ids, targets, mask and positions (and, on the first step only, the two rotary
            // tables, kept on the device after). Down: the grad norm and the loss.
            Assert.Equal(step == 0 ? 6 : 4, DeviceTransfers.ToDevice);
            Assert.Equal(2, DeviceTransfers.ToHost);
        }
    }
}
