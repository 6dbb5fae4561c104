using System.Runtime.CompilerServices;
using RlhfSharp.Tensors.Optim;
using Xunit.Abstractions;

namespace RlhfSharp.Tensors.Tests;

/// <summary>Runs alone: GC.GetTotalMemory is process-wide, so other tests allocating in parallel would blur it.</summary>
[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection;

/// <summary>Training steps do not accumulate memory: each step's autograd graph is freed.</summary>
[Collection(nameof(MemoryCollection))]
public class LearningMemoryTests(ITestOutputHelper output)
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
        List<WeakReference<Tensor>> step50Graph = [];
        for (int s = 1; s <= 300; s++)
        {
            var (ids, targets) = corpus.Batch(g, 4, 8);
            var loss = model.Loss(ids, targets);
            if (s == 50)
                step50Graph = WeakGraph(loss);
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

        // Precise: every intermediate tensor of step 50's graph has been collected.
        Assert.True(step50Graph.Count > 20, $"expected the step-50 graph to have many intermediates, found {step50Graph.Count}");
        int alive = step50Graph.Count(w => w.TryGetTarget(out _));
        Assert.True(alive == 0, $"{alive} of {step50Graph.Count} intermediate tensors of step 50 are still alive at step 300");

        // Coarse: one step's graph here holds about 50 KB (measured by keeping every graph with
        // retainGraph: 250 of them add about 13 MB), so a graph leaked per step would add ~13 MB.
        // Allow 2 MB of noise.
        long growth = after300 - after50;
        output.WriteLine($"managed memory: {after50 / 1024} KB after step 50, {after300 / 1024} KB after step 300");
        Assert.True(growth < 2L * 1024 * 1024, $"managed memory grew by {growth / 1024} KB between step 50 ({after50 / 1024} KB) and step 300 ({after300 / 1024} KB)");
        GC.KeepAlive(model);
    }

    /// <summary>Weak references to every non-leaf tensor recorded in the graph below <paramref name="root"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference<Tensor>> WeakGraph(Tensor root)
    {
        var found = new List<WeakReference<Tensor>>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Tensor>([root]);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (t.GradFn?.Inputs is not { } inputs)
                continue;
            foreach (var input in inputs)
            {
                if (input.GradFn is not null && seen.Add(input))
                {
                    found.Add(new WeakReference<Tensor>(input));
                    stack.Push(input);
                }
            }
        }
        return found;
    }
}
