using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Training steps do not accumulate memory: each step's autograd graph is freed.</summary>
public class LearningMemoryTests
{
    [Fact]
    public void ManagedMemoryStaysBoundedOverManySteps()
    {
        var g = new Generator(3);
        var corpus = new CharCorpus(string.Concat(Enumerable.Repeat("hello world! ", 10)));
        var model = new TinyCharAttention(g, corpus.Vocab.Length, blockSize: 8, channels: 16);
        var opt = new AdamW(model.Named.Select(n => n.P), lr: 1e-3f);
        long after50 = 0;
        float last = 0;
        for (int s = 1; s <= 300; s++)
        {
            var (ids, targets) = corpus.Batch(g, 4, 8);
            var loss = model.Loss(ids, targets);
            opt.ZeroGrad();
            loss.Backward();
            GradClip.ClipGradNorm(model.Named.Select(n => n.P), 1f);
            opt.Step();
            last = loss.Item();
            if (s == 50)
                after50 = GC.GetTotalMemory(forceFullCollection: true);
        }
        long after300 = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(float.IsFinite(last));
        // One step's graph here is several hundred KB (≈ 40 ops on [4, 8, 16..32] tensors plus the
        // GEMM temporaries); keeping 250 of them would add tens of MB. Allow 2 MB of noise.
        long growth = after300 - after50;
        Assert.True(growth < 2L * 1024 * 1024, $"managed memory grew by {growth / 1024} KB between step 50 ({after50 / 1024} KB) and step 300 ({after300 / 1024} KB)");
        GC.KeepAlive(model);
    }
}
