namespace RlhfSharp.Tensors.Tests;

/// <summary>Rank-0 tensors go through every op that accepts them, forward and backward.</summary>
public class CoreScalarTests
{
    public static TheoryData<string> Names => new(Ops.Keys);

    // name -> (op on a rank-0 input, expected value at x = 0.75)
    private static readonly Dictionary<string, (Func<Tensor, Tensor> Op, double Expected)> Ops = new()
    {
        ["neg"] = (x => -x, -0.75),
        ["exp"] = (x => x.Exp(), Math.Exp(0.75)),
        ["log"] = (x => x.Log(), Math.Log(0.75)),
        ["sqrt"] = (x => x.Sqrt(), Math.Sqrt(0.75)),
        ["rsqrt"] = (x => x.Rsqrt(), 1 / Math.Sqrt(0.75)),
        ["pow"] = (x => x.Pow(3f), 0.421875),
        ["abs"] = (x => x.Abs(), 0.75),
        ["tanh"] = (x => x.Tanh(), Math.Tanh(0.75)),
        ["sigmoid"] = (x => x.Sigmoid(), 1 / (1 + Math.Exp(-0.75))),
        ["relu"] = (x => x.Relu(), 0.75),
        ["gelu"] = (x => x.Gelu(), 0.75 * CoreRef.Phi(0.75)),
        ["silu"] = (x => x.Silu(), 0.75 / (1 + Math.Exp(-0.75))),
        ["softplus"] = (x => x.Softplus(), Math.Log(1 + Math.Exp(0.75))),
        ["clamp"] = (x => x.Clamp(0f, 0.5f), 0.5),
        ["sum"] = (x => x.Sum(), 0.75),
        ["mean"] = (x => x.Mean(), 0.75),
        ["max"] = (x => x.Max(), 0.75),
        ["logsumexp"] = (x => x.LogSumExp([]), 0.75),
        ["add_self"] = (x => x + x, 1.5),
        ["mul_scalar"] = (x => x * 4f, 3),
        ["div_scalar"] = (x => x / 3f, 0.25),
        ["rdiv"] = (x => 3f / x, 4),
        ["maximum"] = (x => x.Maximum(Tensor.Scalar(0.5f)), 0.75),
        ["minimum"] = (x => x.Minimum(Tensor.Scalar(0.5f)), 0.5),
        ["masked_fill"] = (x => x.MaskedFill(Tensor.Scalar(0f), 9f), 0.75),
        ["masked_fill_on"] = (x => x.MaskedFill(Tensor.FromArray([1]).Reshape(), 9f), 9),
        ["where"] = (x => Tensor.Where(Tensor.Scalar(1f), x, Tensor.Scalar(2f)), 0.75),
        ["reshape_roundtrip"] = (x => x.Reshape(1, 1).Reshape(), 0.75),
        ["unsqueeze_squeeze"] = (x => x.Unsqueeze(0).Squeeze(), 0.75),
        ["permute"] = (x => x.Permute(), 0.75),
        ["clone"] = (x => x.Clone().Contiguous(), 0.75),
        ["flatten_sum"] = (x => x.Flatten().Sum(), 0.75),
        ["expand_sum"] = (x => x.Expand(2, 3).Sum(), 4.5),
        ["stack_sum"] = (x => Tensor.Stack([x, x]).Sum(), 1.5),
        ["broadcast_vector"] = (x => (x * Tensor.FromArray([1f, 2f])).Sum(), 2.25),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardAndBackward(string name)
    {
        var (op, expected) = Ops[name];
        var x = Tensor.Scalar(0.75f);
        x.RequiresGrad = true;
        var y = op(x);
        Assert.Equal([], y.Shape);
        Assert.Equal(expected, y.Item(), 1e-6);
        if (y.RequiresGrad)
        {
            y.Backward();
            Assert.Equal([], x.Grad!.Shape);
            Assert.True(float.IsFinite(x.Grad.Item()));
        }
        Assert.Contains("Tensor([]", y.ToString());
    }
}
