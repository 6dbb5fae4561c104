using RlhfSharp.Tensors.Optim;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// Step-scoped storage (<see cref="TensorArena"/>): a training loop gives the same numbers with and
/// without it, reuses its storage from the second step on, and a tensor used after its step threw
/// away its storage fails loudly instead of reading another step's values. The pool is
/// process-wide, so these run alone.
/// </summary>
[Collection(GlobalEngineStateCollection.Name)]
public class TensorArenaTests
{
    // A two-layer MLP regression on fixed data, big enough for every activation to be pooled.
    private sealed class TinyRun
    {
        private readonly Tensor _w1;
        private readonly Tensor _w2;
        private readonly Tensor _x;
        private readonly Tensor _y;
        private readonly AdamW _opt;

        public TinyRun()
        {
            var g = new Generator(7);
            _w1 = g.Normal([64, 96], 0f, 0.1f);
            _w2 = g.Normal([96, 32], 0f, 0.1f);
            _w1.RequiresGrad = true;
            _w2.RequiresGrad = true;
            _x = g.Normal([128, 64], 0f, 1f);
            _y = g.Normal([128, 32], 0f, 1f);
            _opt = new AdamW([_w1, _w2], lr: 1e-2f);
        }

        public float Step()
        {
            _opt.ZeroGrad();
            var h = _x.Matmul(_w1).Silu();
            var d = h.Matmul(_w2).Sub(_y);
            var loss = d.Mul(d).Mean();
            loss.Backward();
            _opt.Step();
            return loss.Item();
        }

        public float[] Weights() => [.. _w1.ToArray(), .. _w2.ToArray()];
    }

    [Fact]
    public void ALoopInStepScopesMatchesThePlainLoopBitForBit()
    {
        var plain = new TinyRun();
        var pooled = new TinyRun();
        for (int step = 0; step < 5; step++)
        {
            float a = plain.Step();
            float b;
            using (TensorArena.Step())
                b = pooled.Step();
            Assert.Equal(a, b);
        }
        Assert.Equal(plain.Weights(), pooled.Weights());
    }

    [Fact]
    public void FromTheSecondStepOnNoNewStorageIsAllocated()
    {
        var run = new TinyRun();
        long Allocated(bool scoped)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            using (scoped ? TensorArena.Step() : null)
                run.Step();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        run.Step();
        long plain = Allocated(scoped: false);
        Allocated(scoped: true);
        long pooled = Allocated(scoped: true);
        // A plain step allocates its activations and gradients (h alone is 128 x 96 floats, 48 KiB);
        // a step in a scope after the first takes them from the pool and allocates only small
        // bookkeeping objects.
        Assert.True(plain > 100_000, $"a plain step allocated {plain} bytes");
        Assert.True(pooled < plain / 4, $"a pooled step allocated {pooled} bytes, a plain one {plain}");
        Assert.True(TensorArena.PooledBytes > 0);
    }

    [Fact]
    public void ATensorUsedAfterItsStepThrowsAndAKeptOneStaysValid()
    {
        var g = new Generator(3);
        var a = g.Normal([64, 64], 0f, 1f);
        Tensor dropped, kept, keptView;
        float[] expected;
        using (TensorArena.Step())
        {
            dropped = a.Mul(a);
            kept = TensorArena.Keep(a.Add(a));
            keptView = kept.Narrow(0, 1, 2);
            expected = kept.ToArray();
            Assert.False(dropped.IsReleased);
        }
        Assert.True(dropped.IsReleased);
        var e = Assert.Throws<TensorReleasedException>(() => dropped.ToArray());
        Assert.Contains("[64, 64]", e.Message);
        Assert.Contains("TensorArena.Keep", e.Message);
        Assert.Throws<TensorReleasedException>(() => dropped.Add(a));
        // The kept tensor and a view of it survive, and a later step does not overwrite them.
        using (TensorArena.Step())
            _ = a.Mul(a).Add(a.Mul(a));
        Assert.Equal(expected, kept.ToArray());
        Assert.Equal(expected.AsSpan(64, 128).ToArray(), keptView.ToArray());
    }

    [Fact]
    public void AStepScopeInsideAnotherIsPartOfIt()
    {
        var a = new Generator(4).Normal([64, 64], 0f, 1f);
        using (TensorArena.Step())
        {
            Tensor inner;
            using (TensorArena.Step())
                inner = a.Mul(a);
            Assert.False(inner.IsReleased);
            Assert.Equal(a.ToArray().Select(v => v * v).ToArray(), inner.ToArray());
            Assert.True(TensorArena.InStep);
        }
        Assert.False(TensorArena.InStep);
    }

    [Fact]
    public void APhaseReleasesWhatItDidNotKeepAndTheStepReusesThatStorage()
    {
        var a = new Generator(5).Normal([64, 64], 0f, 1f);
        Tensor kept;
        using (TensorArena.Step())
        {
            var before = a.Mul(a); // rented by the step itself
            Tensor dropped, square, viewOfStep;
            using (TensorArena.Phase())
            {
                dropped = a.Add(a);
                square = a.Mul(a);
                kept = TensorArena.Keep(a.Sub(square));
                viewOfStep = before.Narrow(0, 0, 3);
            }
            Assert.True(dropped.IsReleased);
            Assert.Throws<TensorReleasedException>(() => dropped.ToArray());
            // Kept in the phase: valid for the rest of the step; the step's own tensors and views of them too.
            Assert.False(kept.IsReleased);
            Assert.Equal(a.ToArray().Select(v => v - (v * v)).ToArray(), kept.ToArray());
            Assert.Equal(before.ToArray().AsSpan(0, 3 * 64).ToArray(), viewOfStep.ToArray());
            // The next same-shaped result in the step takes the phase's released storage.
            var reused = a.Mul(2f);
            Assert.True(square.IsReleased);
            Assert.Contains(reused.RawFloats, new[] { dropped.RawFloats, square.RawFloats });
            Assert.NotSame(kept.RawFloats, reused.RawFloats);
            Assert.True(TensorArena.InStep);
        }
        // The step's end releases what the phase kept, as any of the step's tensors.
        Assert.True(kept.IsReleased);
        Assert.False(TensorArena.InStep);
    }

    [Fact]
    public void PhasedMinibatchesMatchTheUnphasedStepBitForBitAndPeakLower()
    {
        // Two updates per step, each in a phase: the same numbers, with the storage of the first
        // pass reused by the second instead of both held until the step ends.
        var plain = new TinyRun();
        var phased = new TinyRun();
        long heldPlain = 0, heldPhased = 0;
        TensorArena.Trim();
        for (int step = 0; step < 3; step++)
        {
            float a1 = plain.Step(), a2 = plain.Step();
            using (TensorArena.Step())
            {
                Assert.Equal(a1, Phased(phased));
                Assert.Equal(a2, Phased(phased));
            }
            if (step == 2)
                heldPhased = TensorArena.PooledBytes;
        }
        TensorArena.Trim();
        var again = new TinyRun();
        for (int step = 0; step < 3; step++)
        {
            using (TensorArena.Step())
            {
                again.Step();
                again.Step();
            }
            if (step == 2)
                heldPlain = TensorArena.PooledBytes;
        }
        Assert.Equal(plain.Weights(), phased.Weights());
        // What a step returns to the pool is what it held at its end: one pass's worth with phases.
        Assert.True(heldPhased < heldPlain, $"phased steps pooled {heldPhased} bytes, plain ones {heldPlain}");

        static float Phased(TinyRun run)
        {
            using (TensorArena.Phase())
                return run.Step();
        }
    }

    [Fact]
    public void APhaseOutsideAStepIsAStep()
    {
        var a = new Generator(6).Normal([64, 64], 0f, 1f);
        Tensor t;
        using (TensorArena.Phase())
        {
            Assert.True(TensorArena.InStep);
            t = a.Mul(a);
        }
        Assert.False(TensorArena.InStep);
        Assert.True(t.IsReleased);
    }

    [Fact]
    public void LengthsTheStepsStopAskingForLeaveThePool()
    {
        // Only this class opens step scopes in this test assembly, so the step clock is ours.
        const int rows = 3001, cols = 7; // a length no other test uses
        var a = new Generator(8).Normal([rows, cols], 0f, 1f);
        var b = new Generator(9).Normal([50, 50], 0f, 1f);
        using (TensorArena.Step())
            _ = a.Mul(a);
        Assert.True(Autograd.GradBuffers.PooledCount(rows * cols) > 0);
        for (int step = 0; step < 65; step++)
        {
            using (TensorArena.Step())
                _ = b.Mul(b);
        }
        Assert.Equal(0, Autograd.GradBuffers.PooledCount(rows * cols));
        Assert.True(Autograd.GradBuffers.PooledCount(50 * 50) > 0);
    }

    [Fact]
    public void APoolAtItsBoundDropsTheLengthAskedForLongestAgo()
    {
        long bound = TensorArena.MaxPooledBytes;
        try
        {
            var a = new Generator(10).Normal([3003, 7], 0f, 1f); // lengths no other test uses
            var b = new Generator(11).Normal([3007, 7], 0f, 1f);
            TensorArena.MaxPooledBytes = 3L * 3007 * 7 * sizeof(float);
            using (TensorArena.Step())
                _ = a.Mul(a).Add(a);
            Assert.True(Autograd.GradBuffers.PooledCount(3003 * 7) > 0);
            using (TensorArena.Step())
                _ = b.Mul(b).Add(b).Mul(b);
            // b's three results fill the bound; a's arrays made room.
            Assert.Equal(0, Autograd.GradBuffers.PooledCount(3003 * 7));
            Assert.Equal(3, Autograd.GradBuffers.PooledCount(3007 * 7));
            Assert.True(TensorArena.PooledBytes <= TensorArena.MaxPooledBytes);
        }
        finally
        {
            TensorArena.MaxPooledBytes = bound;
        }
    }

    [Fact]
    public void DisposingAnEndedStepAgainLeavesTheNextStepOpen()
    {
        var a = new Generator(6).Normal([64, 64], 0f, 1f);
        var first = TensorArena.Step();
        first.Dispose();
        using (TensorArena.Step())
        {
            var t = a.Mul(a);
            first.Dispose();
            Assert.True(TensorArena.InStep);
            Assert.False(t.IsReleased);
        }
        Assert.False(TensorArena.InStep);
    }

    [Fact]
    public void ZeroGradRetiresTheGradientAndTheNextBackwardReusesItsStorage()
    {
        var w = new Generator(5).Normal([64, 64], 0f, 1f);
        w.RequiresGrad = true;
        var opt = new Sgd([w], lr: 0.1f);
        w.Mul(w).Sum().Backward();
        var first = w.Grad!;
        var firstStorage = first.RawFloats;
        Assert.Equal(w.ToArray().Select(v => 2 * v).ToArray(), first.ToArray());
        opt.ZeroGrad();
        Assert.Null(w.Grad);
        w.Mul(3f).Sum().Backward();
        Assert.Same(firstStorage, w.Grad!.RawFloats);
        Assert.All(w.Grad.ToArray(), v => Assert.Equal(3f, v));
        // The retired gradient no longer owns its numbers.
        Assert.Throws<TensorReleasedException>(() => first.ToArray());
    }
}
