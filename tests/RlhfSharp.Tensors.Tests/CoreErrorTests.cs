namespace RlhfSharp.Tensors.Tests;

public class CoreErrorTests
{
    public static TheoryData<string> ShapeCases => new(Shape.Keys);

    // op -> (call with mismatched shapes, the shapes the message must name)
    private static readonly Dictionary<string, (Action Act, string[] Shapes)> Shape = new()
    {
        ["add"] = (() => Tensor.Zeros(2, 3).Add(Tensor.Zeros(4)), ["[2, 3]", "[4]"]),
        ["sub"] = (() => Tensor.Zeros(2, 3).Sub(Tensor.Zeros(3, 3)), ["[2, 3]", "[3, 3]"]),
        ["mul"] = (() => _ = Tensor.Zeros(5) * Tensor.Zeros(2, 4), ["[5]", "[2, 4]"]),
        ["div"] = (() => _ = Tensor.Zeros(5) / Tensor.Zeros(4), ["[5]", "[4]"]),
        ["maximum"] = (() => Tensor.Zeros(2).Maximum(Tensor.Zeros(3)), ["[2]", "[3]"]),
        ["minimum"] = (() => Tensor.Zeros(2).Minimum(Tensor.Zeros(3)), ["[2]", "[3]"]),
        ["Matmul"] = (() => Tensor.Zeros(2, 3).Matmul(Tensor.Zeros(4, 5)), ["[2, 3]", "[4, 5]"]),
        ["Matmul batch"] = (() => Tensor.Zeros(2, 2, 3).Matmul(Tensor.Zeros(3, 3, 5)), ["[2, 2, 3]", "[3, 3, 5]"]),
        ["Matmul rank"] = (() => Tensor.Zeros(3).Matmul(Tensor.Zeros(3, 5)), ["[3]", "[3, 5]"]),
        ["Cat"] = (() => Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(2, 3, 1)]), ["[2, 3]", "[2, 3, 1]"]),
        ["Stack"] = (() => Tensor.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)]), ["[2, 3]", "[3, 2]"]),
        ["Gather"] = (() => Tensor.Zeros(2, 3).Gather(1, Tensor.FromArray([0, 0, 0], 3, 1)), ["[2, 3]", "[3, 1]"]),
        ["Gather rank"] = (() => Tensor.Zeros(2, 3).Gather(1, Tensor.FromArray([0, 0])), ["[2, 3]", "[2]"]),
        ["IndexSelect"] = (() => Tensor.Zeros(2, 3).IndexSelect(1, Tensor.FromArray([0, 0], 1, 2)), ["[2, 3]", "[1, 2]"]),
        ["MaskedFill"] = (() => Tensor.Zeros(2, 3).MaskedFill(Tensor.Ones(2), 0f), ["[2, 3]", "[2]"]),
        ["Where"] = (() => Tensor.Where(Tensor.Ones(3), Tensor.Zeros(2, 3), Tensor.Zeros(4)), ["[3]", "[2, 3]", "[4]"]),
        ["Reshape"] = (() => Tensor.Zeros(2, 3).Reshape(4, 2), ["[2, 3]", "[4, 2]"]),
        ["Expand"] = (() => Tensor.Zeros(2, 3).Expand(2, 4), ["[2, 3]", "[2, 4]"]),
        ["Permute"] = (() => Tensor.Zeros(2, 3).Permute(0), ["[2, 3]", "[0]"]),
        ["SumToShape"] = (() => Tensor.Zeros(2, 3).SumToShape([4]), ["[2, 3]", "[4]"]),
        ["Backward"] = (() => Leaf().Mul(2f).Backward(Tensor.Ones(4)), ["[2]", "[4]"]),
    };

    private static Tensor Leaf()
    {
        var t = Tensor.Zeros(2);
        t.RequiresGrad = true;
        return t;
    }

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void ShapeMismatchNamesOpAndShapes(string name)
    {
        var (act, shapes) = Shape[name];
        var ex = Assert.Throws<ShapeMismatchException>(act);
        string op = name.Split(' ')[0];
        Assert.Contains(op, ex.Message);
        Assert.Equal(op, ex.Op);
        foreach (var s in shapes)
            Assert.Contains(s, ex.Message);
    }

    public static TheoryData<string> DimCases => new(Dims.Keys);

    // op -> call with an out-of-range dim, the dim and rank the message must name
    private static readonly Dictionary<string, (Action Act, int Dim, int Rank)> Dims = new()
    {
        ["Transpose"] = (() => Tensor.Zeros(2, 3).Transpose(0, 2), 2, 2),
        ["Narrow"] = (() => Tensor.Zeros(2, 3).Narrow(-3, 0, 1), -3, 2),
        ["Select"] = (() => Tensor.Zeros(2, 3).Select(5, 0), 5, 2),
        ["Slice"] = (() => Tensor.Zeros(2, 3).Slice(2, 0, 1), 2, 2),
        ["Squeeze"] = (() => Tensor.Zeros(2, 3).Squeeze(2), 2, 2),
        ["Unsqueeze"] = (() => Tensor.Zeros(2, 3).Unsqueeze(4), 4, 3),
        ["Sum"] = (() => Tensor.Zeros(2, 3).Sum(2), 2, 2),
        ["Mean"] = (() => Tensor.Zeros(2, 3).Mean(-3), -3, 2),
        ["Max"] = (() => Tensor.Zeros(2, 3).Max(3), 3, 2),
        ["LogSumExp"] = (() => Tensor.Zeros(2, 3).LogSumExp(2), 2, 2),
        ["Gather"] = (() => Tensor.Zeros(2, 3).Gather(2, Tensor.FromArray([0, 0, 0, 0, 0, 0], 2, 3)), 2, 2),
        ["IndexSelect"] = (() => Tensor.Zeros(2, 3).IndexSelect(2, Tensor.FromArray([0])), 2, 2),
        ["Cat"] = (() => Tensor.Cat([Tensor.Zeros(2, 3)], 2), 2, 2),
        ["Stack"] = (() => Tensor.Stack([Tensor.Zeros(2, 3)], 3), 3, 3),
        ["Size"] = (() => Tensor.Zeros(2, 3).Size(2), 2, 2),
        ["Flatten"] = (() => Tensor.Zeros(2, 3).Flatten(2), 2, 2),
        ["Permute"] = (() => Tensor.Zeros(2, 3).Permute(0, 2), 2, 2),
        ["Max rank0"] = (() => Tensor.Scalar(1f).Max(1), 1, 0),
    };

    [Theory]
    [MemberData(nameof(DimCases))]
    public void DimOutOfRangeNamesDimAndRank(string name)
    {
        var (act, dim, rank) = Dims[name];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(act);
        Assert.Contains(name.Split(' ')[0], ex.Message);
        Assert.Contains($"dim {dim}", ex.Message);
        Assert.Contains($"rank {rank}", ex.Message);
    }
}
