using RlhfSharp.Tensors;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

public sealed class ElementwiseOpTests(GpuFixture fixture) : IClassFixture<GpuFixture>
{
    private readonly Device _device = fixture.Device;

    public static TheoryData<string, int[], int[]> BinaryCases()
    {
        var data = new TheoryData<string, int[], int[]>();
        foreach (var op in new[] { "add", "sub", "mul", "div", "maximum", "minimum" })
        {
            data.Add(op, [3, 5], [3, 5]);
            data.Add(op, [2, 3, 4], [4]);
            data.Add(op, [2, 1, 4], [3, 1]);
            data.Add(op, [], [2, 3]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryOpsBroadcastAndBackpropagateAsOnTheCpu(string op, int[] shapeA, int[] shapeB)
    {
        var a = Random(shapeA, 1);
        var b = op == "div" ? Random(shapeB, 2, 0.5f, 2f) : Random(shapeB, 2);
        Check(_device, x => op switch
        {
            "add" => x[0] + x[1],
            "sub" => x[0] - x[1],
            "mul" => x[0] * x[1],
            "div" => x[0] / x[1],
            "maximum" => x[0].Maximum(x[1]),
            _ => x[0].Minimum(x[1]),
        }, [a, b]);
    }

    [Fact]
    public void ScalarOperandsAndTransposedViews()
    {
        var a = Random([4, 3], 3);
        Check(_device, x => (x[0] * 2.5f) - 1f, [a]);
        Check(_device, x => 3f / (x[0].Abs() + 1f), [a]);
        Check(_device, x => x[0].T + x[1], [a, Random([3, 4], 4)]);
        Check(_device, x => x[0].Maximum(Tensor.Scalar(0.25f)), [a]);
    }

    public static TheoryData<string> UnaryNames() =>
        ["neg", "exp", "log", "sqrt", "rsqrt", "abs", "tanh", "sigmoid", "relu", "silu", "softplus", "gelu", "gelu_tanh", "pow", "clamp"];

    [Theory]
    [MemberData(nameof(UnaryNames))]
    public void UnaryOpsMatchTheCpuForwardAndBackward(string op)
    {
        bool positive = op is "log" or "sqrt" or "rsqrt" or "pow";
        var x = positive ? Random([3, 7], 5, 0.2f, 3f) : Random([3, 7], 5, -4f, 4f);
        Check(_device, t => op switch
        {
            "neg" => t[0].Neg(),
            "exp" => t[0].Exp(),
            "log" => t[0].Log(),
            "sqrt" => t[0].Sqrt(),
            "rsqrt" => t[0].Rsqrt(),
            "abs" => t[0].Abs(),
            "tanh" => t[0].Tanh(),
            "sigmoid" => t[0].Sigmoid(),
            "relu" => t[0].Relu(),
            "silu" => t[0].Silu(),
            "softplus" => t[0].Softplus(),
            "gelu" => t[0].Gelu(),
            "gelu_tanh" => t[0].Gelu(GeluApproximation.Tanh),
            "pow" => t[0].Pow(1.7f),
            _ => t[0].Clamp(-1f, 1.5f),
        }, [x], rtol: 2e-5f);
    }

    [Fact]
    public void WhereAndMaskedFillMatchTheCpu()
    {
        var cond = Tensor.FromArray([1, 0, 0, 1, 1, 0], 2, 3);
        Check(_device, t => Tensor.Where(t[2], t[0], t[1]), [Random([2, 3], 6), Random([3], 7), cond.Float()]);
        Check(_device, t => t[0].MaskedFill(t[1], float.NegativeInfinity).Exp(), [Random([2, 2, 3], 8), cond.Float()]);
        Check(_device, t => t[0].MaskedFill(t[1], -1e9f), [Random([2, 3], 9), cond]);
    }
}
