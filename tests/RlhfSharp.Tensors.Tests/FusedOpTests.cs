using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// The fused Linear and SwiGLU ops give the same bits, forward and backward, as the op chains they
/// replace, and pass a finite-difference gradient check; inputs they cannot fuse take the chain.
/// </summary>
public class FusedOpTests
{
    private static Tensor Leaf(Generator g, params int[] shape)
    {
        var t = g.Normal(shape, 0f, 0.5f);
        t.RequiresGrad = true;
        return t;
    }

    [Theory]
    [InlineData(1, 5, 3, 4, false)]
    [InlineData(2, 7, 16, 33, true)]
    [InlineData(3, 64, 128, 96, true)]
    [InlineData(4, 1, 32, 1, true)]
    [InlineData(1, 6, 1, 8, false)]
    public void LinearMatchesMatmulByTheTransposedWeightBitForBit(int batch, int time, int inF, int outF, bool bias)
    {
        var g = new Generator(11);
        var x = Leaf(g, batch, time, inF);
        var w = Leaf(g, outF, inF);
        var b = bias ? Leaf(g, outF) : null;
        var probe = g.Normal([batch, time, outF], 0f, 1f);

        (float[] Y, float[] Dx, float[] Dw, float[]? Db) Run(bool fused)
        {
            x.Grad = null;
            w.Grad = null;
            if (b is not null)
                b.Grad = null;
            Tensor y;
            if (fused)
            {
                y = F.Linear(x, w, b);
            }
            else
            {
                y = x.Reshape(-1, inF).Matmul(w.T).Reshape(batch, time, outF);
                if (b is not null)
                    y = y.Add(b);
            }
            y.Mul(probe).Sum().Backward();
            return (y.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), b?.Grad!.ToArray());
        }
        var fusedRun = Run(fused: true);
        var chain = Run(fused: false);
        Assert.Equal(chain.Y, fusedRun.Y);
        Assert.Equal(chain.Dx, fusedRun.Dx);
        Assert.Equal(chain.Dw, fusedRun.Dw);
        Assert.Equal(chain.Db, fusedRun.Db);
    }

    [Fact]
    public void LinearPassesAGradientCheck()
    {
        var g = new Generator(12);
        GradCheck.Check(t => F.Linear(t[0], t[1], t[2]), [g.Normal([2, 3, 5]), g.Normal([4, 5]), g.Normal([4])]);
        GradCheck.Check(t => F.Linear(t[0], t[1]).Silu(), [g.Normal([6, 5]), g.Normal([4, 5])]);
    }

    [Fact]
    public void LinearOfAStridedInputTakesTheChainAndAgrees()
    {
        var g = new Generator(13);
        var x = g.Normal([6, 4], 0f, 1f).Transpose(0, 1); // [4, 6], not contiguous
        var w = g.Normal([3, 6], 0f, 1f);
        Assert.Equal(x.Contiguous().Matmul(w.T).ToArray(), F.Linear(x, w).ToArray());
    }

    [Theory]
    [InlineData(7)]
    [InlineData(2 * 3 * 100)]
    public void SwiGluMatchesSiluTimesUpBitForBit(int n)
    {
        var g = new Generator(14);
        var gate = Leaf(g, 2, n);
        var up = Leaf(g, 2, n);
        var probe = g.Normal([2, n], 0f, 1f);
        (float[] Y, float[] DGate, float[] DUp) Run(bool fused)
        {
            gate.Grad = null;
            up.Grad = null;
            var y = fused ? F.SwiGlu(gate, up) : gate.Silu().Mul(up);
            y.Mul(probe).Sum().Backward();
            return (y.ToArray(), gate.Grad!.ToArray(), up.Grad!.ToArray());
        }
        var a = Run(fused: true);
        var b = Run(fused: false);
        Assert.Equal(b.Y, a.Y);
        Assert.Equal(b.DGate, a.DGate);
        Assert.Equal(b.DUp, a.DUp);
    }

    [Fact]
    public void SwiGluPassesAGradientCheckAndBroadcastsThroughTheChain()
    {
        var g = new Generator(15);
        GradCheck.Check(t => F.SwiGlu(t[0], t[1]), [g.Normal([3, 4], 0f, 2f), g.Normal([3, 4])]);
        var gate = Leaf(g, 3, 4);
        var row = Leaf(g, 4);
        Assert.Equal(gate.Silu().Mul(row).ToArray(), F.SwiGlu(gate, row).ToArray());
    }

    [Fact]
    public void SwiGluWithoutGradRecordsNothing()
    {
        var g = new Generator(16);
        var gate = Leaf(g, 2, 8);
        var up = Leaf(g, 2, 8);
        using var _ = GradMode.NoGrad();
        Assert.False(F.SwiGlu(gate, up).RequiresGrad);
    }
}
