namespace RlhfSharp.Tensors.Tests;

public class CoreUnaryTests
{
    private static readonly float[] Sample =
        [-30f, -12.5f, -5f, -3f, -1.7f, -1f, -0.5f, -1e-3f, 0f, 1e-3f, 0.3f, 0.5f, 1f, 2.2f, 3f, 5f, 9.75f, 20f, 40f];

    private static readonly float[] Positive = [1e-6f, 1e-3f, 0.1f, 0.5f, 1f, 2f, 3.7f, 100f, 1e6f];

    public static TheoryData<string> Names => new(Cases.Keys);

    // name -> (op, double reference, inputs, relative tolerance)
    private static readonly Dictionary<string, (Func<Tensor, Tensor> Op, Func<double, double> Ref, float[] X, double Rtol)> Cases = new()
    {
        ["neg"] = (x => x.Neg(), v => -v, Sample, 0),
        ["exp"] = (x => x.Exp(), Math.Exp, Sample, 4e-7),
        ["log"] = (x => x.Log(), Math.Log, Positive, 4e-7),
        ["sqrt"] = (x => x.Sqrt(), Math.Sqrt, Positive, 2e-7),
        ["rsqrt"] = (x => x.Rsqrt(), v => 1 / Math.Sqrt(v), Positive, 4e-7),
        ["pow3"] = (x => x.Pow(3f), v => v * v * v, Sample, 6e-7),
        ["pow2"] = (x => x.Pow(2f), v => v * v, Sample, 4e-7),
        ["pow-0.5"] = (x => x.Pow(-0.5f), v => Math.Pow(v, -0.5), Positive, 4e-7),
        ["abs"] = (x => x.Abs(), Math.Abs, Sample, 0),
        ["tanh"] = (x => x.Tanh(), Math.Tanh, Sample, 4e-7),
        ["sigmoid"] = (x => x.Sigmoid(), v => 1 / (1 + Math.Exp(-v)), Sample, 4e-7),
        ["relu"] = (x => x.Relu(), v => Math.Max(v, 0), Sample, 0),
        ["gelu"] = (x => x.Gelu(), v => v * CoreRef.Phi(v), Sample, 1e-6),
        ["gelu_tanh"] = (x => x.Gelu(GeluApproximation.Tanh), v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + (0.044715 * v * v * v)))), Sample, 2e-6),
        ["silu"] = (x => x.Silu(), v => v / (1 + Math.Exp(-v)), Sample, 6e-7),
        ["softplus"] = (x => x.Softplus(), v => v > 0 ? v + Log1P(Math.Exp(-v)) : Log1P(Math.Exp(v)), Sample, 4e-7),
        ["clamp"] = (x => x.Clamp(-1f, 2.2f), v => Math.Clamp(v, -1, 2.2f), Sample, 0),
        ["clamp_min"] = (x => x.Clamp(min: 0.5f), v => Math.Max(v, 0.5), Sample, 0),
        ["clamp_max"] = (x => x.Clamp(max: -0.5f), v => Math.Min(v, -0.5), Sample, 0),
    };

    /// <summary>log(1 + e) in double; for tiny e the series e − e²/2 + e³/3, since 1 + e would round.</summary>
    private static double Log1P(double e) => e < 1e-4 ? e - (e * e / 2) + (e * e * e / 3) : Math.Log(1 + e);

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesDoubleReference(string name)
    {
        var (op, reference, xs, rtol) = Cases[name];
        var y = op(Tensor.FromArray(xs)).ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            double e = reference(xs[i]);
            double tol = (rtol * Math.Abs(e)) + 1e-30;
            Assert.True(Math.Abs(y[i] - e) <= Math.Max(tol, Math.Abs(e) * 1.2e-7), $"{name}({xs[i]}) = {y[i]:G9}, expected {e:G12}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void NonContiguousAndScalarInputs(string name)
    {
        var op = Cases[name].Op;
        var xs = Cases[name].X;
        var x = Tensor.FromArray(xs[..8], 2, 4);
        Assert.Equal(op(x.T.Contiguous()).ToArray(), op(x.T).ToArray());
        var s = Tensor.Scalar(xs[4]);
        var y = op(s);
        Assert.Equal([], y.Shape);
        Assert.Equal(op(Tensor.FromArray([xs[4]])).Item(), y.Item());
    }

    [Fact]
    public void GeluErfIsAccurateInTheLeftTail()
    {
        // x·Φ(x) for large negative x is tiny; it must keep its relative accuracy.
        foreach (var v in new[] { -4f, -5f, -6f, -7.5f, -9f })
        {
            float y = Tensor.Scalar(v).Gelu().Item();
            double e = v * CoreRef.Phi(v);
            Assert.True(Math.Abs(y - e) <= 1e-6 * Math.Abs(e), $"gelu({v}) = {y:G9}, expected {e:G12}");
        }
    }

    [Fact]
    public void SoftplusIsStableForLargeInputs()
    {
        var y = Tensor.FromArray([1e4f, -1e4f, 88f, -88f, -20f, float.PositiveInfinity, float.NegativeInfinity]).Softplus().ToArray();
        Assert.Equal(1e4f, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.Equal(88f, y[2]);
        Assert.Equal((float)Math.Exp(-88), y[3], (float)(Math.Exp(-88) * 1e-6));
        Assert.Equal((float)Math.Exp(-20), y[4], (float)(Math.Exp(-20) * 1e-6));
        Assert.Equal(float.PositiveInfinity, y[5]);
        Assert.Equal(0f, y[6]);
        var x = Tensor.FromArray([1e4f, -1e4f]);
        x.RequiresGrad = true;
        x.Softplus().Sum().Backward();
        Assert.Equal([1f, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void SigmoidAndTanhSaturate()
    {
        var x = Tensor.FromArray([-1e4f, 1e4f]);
        Assert.Equal([0f, 1f], x.Sigmoid().ToArray());
        Assert.Equal([-1f, 1f], x.Tanh().ToArray());
    }

    [Fact]
    public void PowOfNegativeBaseWithIntegerExponent()
    {
        Assert.Equal([-8f, 8f, -1f, -27f], Tensor.FromArray([-2f, 2f, -1f, -3f]).Pow(3f).ToArray());
        Assert.Equal([4f, 9f], Tensor.FromArray([-2f, -3f]).Pow(2f).ToArray());
        Assert.Equal([1f, 1f], Tensor.FromArray([-2f, 0f]).Pow(0f).ToArray());
    }

    [Fact]
    public void ClampRejectsMinAboveMax()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Ones(2).Clamp(1f, 0f));
        Assert.Contains("Clamp", ex.Message);
    }
}
