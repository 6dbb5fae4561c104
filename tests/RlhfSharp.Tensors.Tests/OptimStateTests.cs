using RlhfSharp.Tensors.Optim;
using static RlhfSharp.Tensors.Tests.OptimTestUtil;

namespace RlhfSharp.Tensors.Tests;

public class OptimStateTests
{
    private const int Steps = 20;

    private static Optimizer MakeAdamW(TinyMlp m, float lr) =>
        new AdamW(ParamGroups.DecayAndNoDecay(m.Named, 0.05f), lr: lr, beta2: 0.95);

    private static Optimizer MakeSgd(TinyMlp m, float lr) =>
        new Sgd(m.Parameters, lr: lr, momentum: 0.9f, nesterov: true, weightDecay: 1e-3f);

    /// <summary>
    /// Full-batch sine regression with warm-up + cosine schedule and clipping. With
    /// <paramref name="resumeAt"/>, the optimizer state and weights are saved after that many
    /// steps and training continues in a new model and a new optimizer (built with other
    /// hyperparameters, which the state must override). Returns every step's loss and the final weights.
    /// </summary>
    private static (float[] Losses, float[] Weights) Train(Func<TinyMlp, float, Optimizer> make, int resumeAt = -1)
    {
        var data = TinyModels.SineData(new Generator(5), 64);
        var model = new TinyMlp(new Generator(6), 1, 8, 1);
        var opt = make(model, 0.05f);
        var schedule = new CosineWithWarmupSchedule(3, Steps, minRatio: 0.2f);
        var losses = new float[Steps];
        for (int s = 0; s < Steps; s++)
        {
            if (s == resumeAt)
            {
                using var saved = new MemoryStream();
                opt.Save(saved);
                var weights = model.Parameters.Select(p => p.ToArray()).ToList();
                model = new TinyMlp(new Generator(99), 1, 8, 1);
                foreach (var (p, w) in model.Parameters.Zip(weights))
                    w.CopyTo(p.Span);
                opt = make(model, 123f);
                saved.Position = 0;
                opt.Load(saved);
                Assert.Equal(s, opt.StepCount);
            }
            var loss = model.Loss(data.X, data.Y);
            losses[s] = loss.Item();
            opt.ZeroGrad();
            loss.Backward();
            GradClip.ClipGradNorm(model.Parameters, 1f);
            schedule.Apply(opt, s);
            opt.Step();
        }
        return (losses, model.Parameters.SelectMany(p => p.ToArray()).ToArray());
    }

    [Fact]
    public void AdamWResumeIsBitIdenticalToNeverStopping()
    {
        var straight = Train(MakeAdamW);
        var resumed = Train(MakeAdamW, resumeAt: 8);
        Assert.True(straight.Losses[^1] < straight.Losses[0]);
        AssertSameBits(straight.Losses, resumed.Losses, "step");
        AssertSameBits(straight.Weights, resumed.Weights, "weight");
    }

    [Fact]
    public void SgdResumeIsBitIdenticalToNeverStopping()
    {
        var straight = Train(MakeSgd);
        var resumed = Train(MakeSgd, resumeAt: 11);
        AssertSameBits(straight.Losses, resumed.Losses, "step");
        AssertSameBits(straight.Weights, resumed.Weights, "weight");
    }

    [Fact]
    public void StateDictIsACopyAndRoundTripsThroughBytes()
    {
        var w = Param("w", 1f, 2f);
        var opt = new AdamW([w], lr: 0.1f, beta1: 0.8);
        SetGrad(w, 1f, -1f);
        opt.Step();
        var state = opt.StateDict();
        var before = (float[])state.Params[0].Buffers["exp_avg"].Clone();
        opt.Step();
        AssertSameBits(before, state.Params[0].Buffers["exp_avg"]);

        using var ms = new MemoryStream();
        state.Write(ms);
        ms.Position = 0;
        var back = OptimizerState.Read(ms);
        Assert.Equal("AdamW", back.Kind);
        Assert.Equal(1, back.Step);
        Assert.Equal(0.8, back.Hyperparameters["beta1"]);
        Assert.Equal("w", back.Params[0].Name);
        Assert.Equal([2], back.Params[0].Shape);
        AssertSameBits(before, back.Params[0].Buffers["exp_avg"]);
        Assert.Equal("default", back.Groups[0].Name);
        Assert.Equal(0.1f, back.Groups[0].Lr);
    }

    private static byte[] SavedBytes(params Tensor[] ps)
    {
        var opt = new AdamW(ps, lr: 0.1f);
        foreach (var p in ps)
            p.Grad = Tensor.OnesLike(p);
        opt.Step();
        using var ms = new MemoryStream();
        opt.Save(ms);
        return ms.ToArray();
    }

    private static InvalidDataException LoadFails(Optimizer opt, byte[] bytes)
    {
        long before = opt.StepCount;
        var ex = Assert.Throws<InvalidDataException>(() => opt.Load(new MemoryStream(bytes)));
        Assert.Equal(before, opt.StepCount); // nothing changed
        return ex;
    }

    [Fact]
    public void BadMagicAndVersion()
    {
        var target = new AdamW([Param("w", 1f)]);
        var bytes = SavedBytes(Param("w", 1f));
        var wrong = (byte[])bytes.Clone();
        wrong[0] = (byte)'X';
        Assert.Contains("bad magic number", LoadFails(target, wrong).Message);
        wrong = (byte[])bytes.Clone();
        wrong[8] = 99;
        Assert.Contains("unsupported version 99; this build reads version 1", LoadFails(target, wrong).Message);
    }

    [Fact]
    public void EveryTruncationIsReported()
    {
        var bytes = SavedBytes(Param("w", 1f, 2f, 3f), TinyModels.Param(Tensor.Zeros(2, 2), "m"));
        var target = new AdamW([Param("w", 1f, 2f, 3f), TinyModels.Param(Tensor.Zeros(2, 2), "m")]);
        for (int n = 0; n < bytes.Length; n++)
            Assert.Contains("truncated", LoadFails(target, bytes[..n]).Message);
        target.Load(new MemoryStream(bytes));
        Assert.Equal(1, target.StepCount);
    }

    [Fact]
    public void TruncatedFileNamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"optim-state-{Guid.NewGuid():N}.bin");
        try
        {
            File.WriteAllBytes(path, SavedBytes(Param("w", 1f, 2f))[..40]);
            using var fs = File.OpenRead(path);
            var ex = Assert.Throws<InvalidDataException>(() => new AdamW([Param("w", 1f, 2f)]).Load(fs));
            Assert.Contains(path, ex.Message);
            Assert.Contains("truncated", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ParameterCountMismatch()
    {
        var bytes = SavedBytes(Param("a", 1f), Param("b", 1f), Param("c", 1f));
        var target = new AdamW([Param("a", 1f), Param("b", 1f), Param("c", 1f), Param("d", 1f)]);
        Assert.Contains("state has 3 parameters, optimizer has 4", LoadFails(target, bytes).Message);
    }

    [Fact]
    public void ParameterSizeMismatch()
    {
        var bytes = SavedBytes(TinyModels.Param(Tensor.Zeros(3, 4), "w1"));
        var target = new AdamW([TinyModels.Param(Tensor.Zeros(3, 5), "w1")]);
        Assert.Contains("parameter 'w1' has 12 elements in the state but 15 in the model", LoadFails(target, bytes).Message);
        target = new AdamW([TinyModels.Param(Tensor.Zeros(4, 3), "w1")]);
        Assert.Contains("parameter 'w1' has shape [3, 4] in the state but [4, 3] in the model", LoadFails(target, bytes).Message);
    }

    [Fact]
    public void NameKindAndGroupMismatches()
    {
        var bytes = SavedBytes(Param("w1", 1f));
        Assert.Contains("parameter 0 is 'w1' in the state but 'w2' in the model", LoadFails(new AdamW([Param("w2", 1f)]), bytes).Message);
        Assert.Contains("state is for 'AdamW', optimizer is 'Sgd'", LoadFails(new Sgd([Param("w1", 1f)], lr: 0.1f), bytes).Message);
        var grouped = new AdamW([new ParamGroup("decay", [Param("w1", 1f)])]);
        Assert.Contains("parameter group 0 is 'default' in the state but 'decay' in the optimizer", LoadFails(grouped, bytes).Message);
    }

    [Fact]
    public void CorruptBufferLengthInMemoryState()
    {
        var w = Param("w", 1f, 2f);
        var opt = new AdamW([w]);
        SetGrad(w, 1f, 1f);
        opt.Step();
        var state = opt.StateDict();
        state.Params[0].Buffers["exp_avg_sq"] = [1f];
        var ex = Assert.Throws<InvalidDataException>(() => opt.LoadStateDict(state));
        Assert.Contains("buffer 'exp_avg_sq' has 1 values but the parameter has 2 elements", ex.Message);

        using var ms = new MemoryStream();
        state.Write(ms);
        ex = Assert.Throws<InvalidDataException>(() => OptimizerState.Read(new MemoryStream(ms.ToArray())));
        Assert.Contains("buffer 'exp_avg_sq' has 1 values but the shape [2] has 2 elements", ex.Message);
    }
}
