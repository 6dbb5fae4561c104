namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// Finite-difference checks of every differentiable core op (see <see cref="GradCheck"/> for the
/// tolerance). One line per case: a name, the function of the inputs, and how to draw the inputs.
/// Inputs stay away from kinks (|x| at 0, relu at 0, clamp at its bounds, ties in max) by more
/// than the step h = 1e-2, and log/sqrt/rsqrt/fractional pow see positive inputs only.
/// </summary>
public class CoreGradCheckTests
{
    private delegate Tensor[] Draw(Generator g);

    private static readonly List<(string Name, Func<Tensor[], Tensor> F, Draw Inputs)> Table = [];

    private static void Case(string name, Func<Tensor[], Tensor> f, Draw inputs) => Table.Add((name, f, inputs));

    private static Tensor N(Generator g, params int[] shape) => g.Normal(shape);

    /// <summary>Values ±(0.5 + |n|): away from 0, for divisors and |x|.</summary>
    private static Tensor NonZero(Generator g, params int[] shape) => g.Normal(shape).Abs().Add(0.5f).Mul(g.Normal(shape).Map(v => v < 0 ? -1f : 1f)).Detach();

    private static Tensor Pos(Generator g, params int[] shape) => g.Normal(shape).Abs().Add(0.5f).Detach();

    /// <summary>Whole numbers (offset 0) or whole numbers + 0.5 (offset 0.5): two such tensors never tie.</summary>
    private static Tensor Grid(Generator g, float offset, params int[] shape) => g.Normal(shape).Mul(2f).Map(MathF.Round).Add(offset);

    /// <summary>A random shape of rank 1–3 with sizes from {1, 2, 3, 5}.</summary>
    private static int[] RandShape(Generator g, int minRank = 1)
    {
        int[] sizes = [1, 2, 3, 5];
        int rank = minRank + g.NextInt(4 - minRank);
        return Enumerable.Range(0, rank).Select(_ => sizes[g.NextInt(sizes.Length)]).ToArray();
    }

    /// <summary>A shape that broadcasts against <paramref name="shape"/>: some dims set to 1, maybe fewer leading dims.</summary>
    private static int[] BroadcastOf(Generator g, int[] shape)
    {
        var s = shape.Select(d => g.NextInt(3) == 0 ? 1 : d).ToArray();
        return s[g.NextInt(s.Length)..];
    }

    private static Tensor[] Pair(Generator g)
    {
        var s = RandShape(g);
        var b = BroadcastOf(g, s);
        return g.NextInt(2) == 0 ? [N(g, s), N(g, b)] : [N(g, b), N(g, s)];
    }

    static CoreGradCheckTests()
    {
        // broadcasting element-wise
        Case("add", x => x[0].Add(x[1]), Pair);
        Case("add_fixed", x => x[0] + x[1], g => [N(g, 3, 1, 5), N(g, 4, 1)]);
        Case("add_scalar", x => x[0] + 1.5f, g => [N(g, RandShape(g))]);
        Case("sub", x => x[0].Sub(x[1]), Pair);
        Case("rsub_scalar", x => 2f - x[0], g => [N(g, 3, 2)]);
        Case("mul", x => x[0].Mul(x[1]), Pair);
        Case("mul_fixed", x => x[0] * x[1], g => [N(g, 2, 3, 1), N(g, 5)]);
        Case("mul_scalar", x => x[0] * -2.5f, g => [N(g, RandShape(g))]);
        Case("div", x => x[0].Div(x[1]), g => [N(g, 2, 3, 5), NonZero(g, 3, 1)]);
        Case("div_bcast_num", x => x[0] / x[1], g => [N(g, 5), NonZero(g, 2, 3, 5)]);
        Case("div_scalar", x => x[0] / 3f, g => [N(g, 4)]);
        Case("rdiv_scalar", x => 2f / x[0], g => [NonZero(g, 2, 3)]);
        Case("maximum", x => x[0].Maximum(x[1]), g => [Grid(g, 0f, 3, 4), Grid(g, 0.5f, 4)]);
        Case("maximum_bcast_a", x => x[0].Maximum(x[1]), g => [Grid(g, 0.5f, 1, 5), Grid(g, 0f, 3, 1)]);
        Case("minimum", x => x[0].Minimum(x[1]), g => [Grid(g, 0f, 2, 1, 3), Grid(g, 0.5f, 2, 3)]);
        Case("scalar_rank0", x => x[0] * x[1] + x[0], g => [N(g), N(g, 2, 3)]);

        // unary
        Case("neg", x => -x[0], g => [N(g, RandShape(g))]);
        Case("exp", x => x[0].Exp(), g => [N(g, RandShape(g))]);
        Case("log", x => x[0].Log(), g => [Pos(g, 3, 5)]);
        Case("sqrt", x => x[0].Sqrt(), g => [Pos(g, 7)]);
        Case("rsqrt", x => x[0].Rsqrt(), g => [Pos(g, 2, 3)]);
        Case("pow3", x => x[0].Pow(3f), g => [N(g, 2, 5)]);
        Case("pow2.5", x => x[0].Pow(2.5f), g => [Pos(g, 5)]);
        Case("pow-1.5", x => x[0].Pow(-1.5f), g => [Pos(g, 5)]);
        Case("abs", x => x[0].Abs(), g => [NonZero(g, 3, 3)]);
        Case("tanh", x => x[0].Tanh(), g => [N(g, RandShape(g))]);
        Case("sigmoid", x => x[0].Sigmoid(), g => [N(g, 17)]);
        Case("relu", x => x[0].Relu(), g => [CoreRef.Away(g, [4, 5], [0f])]);
        Case("gelu", x => x[0].Gelu(), g => [N(g, 3, 7).Mul(2f)]);
        Case("gelu_tanh", x => x[0].Gelu(GeluApproximation.Tanh), g => [N(g, 3, 7).Mul(2f)]);
        Case("silu", x => x[0].Silu(), g => [N(g, 3, 7).Mul(2f)]);
        Case("softplus", x => x[0].Softplus(), g => [N(g, 3, 7).Mul(3f)]);
        Case("clamp", x => x[0].Clamp(-1f, 1f), g => [CoreRef.Away(g, [5, 3], [-1f, 1f])]);
        Case("clamp_min", x => x[0].Clamp(min: 0.2f), g => [CoreRef.Away(g, [9], [0.2f])]);
        Case("unary_noncontig", x => x[0].T.Exp().Tanh(), g => [N(g, 3, 4)]);

        // reductions
        Case("sum_all", x => x[0].Sum(), g => [N(g, RandShape(g))]);
        Case("sum_prefix", x => x[0].Sum([0, 1]), g => [N(g, 2, 3, 5)]);
        Case("sum_middle", x => x[0].Sum(1, keepDim: true), g => [N(g, 2, 3, 5)]);
        Case("sum_suffix", x => x[0].Sum(-1), g => [N(g, 2, 3, 5)]);
        Case("sum_multi", x => x[0].Sum([0, 2], keepDim: true), g => [N(g, 2, 3, 5, 1)]);
        Case("sum_rank0", x => x[0].Sum(), g => [N(g)]);
        Case("mean_all", x => x[0].Mean(), g => [N(g, 3, 5)]);
        Case("mean_dims", x => x[0].Mean([1, 2]), g => [N(g, 2, 3, 5)]);
        Case("mean_keep", x => x[0].Mean(0, keepDim: true), g => [N(g, 3, 2)]);
        Case("max_first", x => x[0].Max(0).Values, g => [CoreRef.Distinct(g, 3, 4, 5)]);
        Case("max_middle", x => x[0].Max(1).Values, g => [CoreRef.Distinct(g, 3, 4, 5)]);
        Case("max_last", x => x[0].Max(-1, keepDim: true).Values, g => [CoreRef.Distinct(g, 3, 4, 5)]);
        Case("max_all", x => x[0].Max(), g => [CoreRef.Distinct(g, 2, 5)]);
        Case("logsumexp_last", x => x[0].LogSumExp(-1), g => [N(g, 3, 5)]);
        Case("logsumexp_middle", x => x[0].LogSumExp(1, keepDim: true), g => [N(g, 2, 3, 5)]);
        Case("logsumexp_multi", x => x[0].LogSumExp([0, 2]), g => [N(g, 2, 3, 5)]);

        // indexing
        Case("gather_middle", x => x[0].Gather(1, Tensor.FromArray([2, 0, 0, 1, 1, 1, 0, 2, 2, 2, 0, 1], 2, 3, 2)), g => [N(g, 2, 3, 2)]);
        Case("gather_last", x => x[0].Gather(-1, Tensor.FromArray([4, 4, 0, 1, 3, 3], 3, 2)), g => [N(g, 3, 5)]);
        Case("index_select", x => x[0].IndexSelect(0, Tensor.FromArray([2, 0, 2, 3, 2])), g => [N(g, 4, 3)]);
        Case("index_select_dim1", x => x[0].IndexSelect(1, Tensor.FromArray([1, 1, 0])), g => [N(g, 2, 3, 2)]);
        Case("masked_fill", x => x[0].MaskedFill(Tensor.FromArray([1, 0, 0, 1, 1], 5), 3f), g => [N(g, 3, 5)]);
        Case("masked_fill_inf", x => x[0].MaskedFill(Tensor.Triu(3, 3, 1), float.NegativeInfinity).Exp(), g => [N(g, 2, 3, 3)]);
        Case("where", x => Tensor.Where(Tensor.FromArray([1, 0, 1, 1, 0, 0], 2, 3), x[0], x[1]), g => [N(g, 2, 3), N(g, 3)]);
        Case("where_bcast_cond", x => Tensor.Where(Tensor.FromArray([0, 1], 2, 1, 1), x[0], x[1]), g => [N(g, 3, 1), N(g, 2, 1, 4)]);
        Case("cat", x => Tensor.Cat([x[0], x[1], x[2]], 1), g => [N(g, 2, 1, 3), N(g, 2, 4, 3), N(g, 2, 2, 3)]);
        Case("cat_last_noncontig", x => Tensor.Cat([x[0].T, x[1]], -1), g => [N(g, 2, 3), N(g, 3, 1)]);
        Case("stack", x => Tensor.Stack([x[0], x[1]], 1), g => [N(g, 3, 2), N(g, 3, 2)]);
        Case("stack_scalars", x => Tensor.Stack([x[0], x[1], x[0]]), g => [N(g), N(g)]);
        Case("tril", x => x[0].Tril(), g => [N(g, 2, 3, 4)]);
        Case("triu", x => x[0].Triu(1), g => [N(g, 4, 3)]);

        // views
        Case("reshape", x => x[0].Reshape(5, -1), g => [N(g, 2, 3, 5)]);
        Case("reshape_noncontig", x => x[0].T.Reshape(-1).Mul(x[1]), g => [N(g, 3, 4), N(g, 12)]);
        Case("view_of_narrow", x => x[0].Narrow(1, 1, 2).View(8, 2), g => [N(g, 4, 3, 2)]);
        Case("permute", x => x[0].Permute(2, 0, 1), g => [N(g, 2, 3, 5)]);
        Case("transpose", x => x[0].Transpose(0, -1).Mul(x[1]), g => [N(g, 2, 3, 5), N(g, 5, 3, 2)]);
        Case("T", x => x[0].T.Exp(), g => [N(g, 2, 3)]);
        Case("narrow", x => x[0].Narrow(0, 1, 2), g => [N(g, 5, 3)]);
        Case("slice", x => x[0].Slice(1, -3, -1), g => [N(g, 2, 5)]);
        Case("select", x => x[0].Select(1, -1), g => [N(g, 2, 3, 4)]);
        Case("squeeze", x => x[0].Squeeze(), g => [N(g, 1, 3, 1, 2)]);
        Case("squeeze_dim", x => x[0].Squeeze(2), g => [N(g, 1, 3, 1, 2)]);
        Case("unsqueeze", x => x[0].Unsqueeze(1).Mul(x[1]), g => [N(g, 2, 3), N(g, 2, 4, 3)]);
        Case("expand", x => x[0].Expand(2, 3, 4), g => [N(g, 3, 1)]);
        Case("expand_keep", x => x[0].Expand(2, -1, 5), g => [N(g, 1, 3, 1)]);
        Case("expand_rank0", x => x[0].Expand(2, 3), g => [N(g)]);
        Case("flatten", x => x[0].Flatten(1), g => [N(g, 2, 3, 5)]);
        Case("clone", x => x[0].Clone().Mul(x[0]), g => [N(g, 2, 3)]);
        Case("contiguous", x => x[0].T.Contiguous(), g => [N(g, 3, 5)]);
        Case("sum_to_shape", x => x[0].SumToShape([3, 1]), g => [N(g, 2, 3, 4)]);

        // matmul
        Case("matmul_2d", x => x[0].Matmul(x[1]), g => [N(g, 3, 5), N(g, 5, 4)]);
        Case("matmul_odd", x => x[0].Matmul(x[1]), g => [N(g, 1, 7), N(g, 7, 1)]);
        Case("matmul_batched", x => x[0].Matmul(x[1]), g => [N(g, 2, 3, 4), N(g, 2, 4, 5)]);
        Case("matmul_bcast", x => x[0].Matmul(x[1]), g => [N(g, 2, 1, 3, 4), N(g, 3, 4, 2)]);
        Case("matmul_rows", x => x[0].Matmul(x[1]), g => [N(g, 2, 3, 4), N(g, 4, 5)]);
        Case("matmul_lhs_2d_batched_rhs", x => x[0].Matmul(x[1]), g => [N(g, 3, 4), N(g, 2, 4, 5)]);
        Case("matmul_aT", x => x[0].T.Matmul(x[1]), g => [N(g, 5, 3), N(g, 5, 4)]);
        Case("matmul_bT", x => x[0].Matmul(x[1].T), g => [N(g, 3, 5), N(g, 4, 5)]);
        Case("matmul_both_T", x => x[0].T.Matmul(x[1].T), g => [N(g, 5, 3), N(g, 4, 5)]);
        Case("matmul_batched_T", x => x[0].Matmul(x[1].Transpose(-1, -2)), g => [N(g, 2, 3, 4), N(g, 2, 5, 4)]);
        Case("matmul_expanded", x => x[0].Matmul(x[1].Expand(2, 4, 3)), g => [N(g, 2, 5, 4), N(g, 4, 3)]);
        Case("matmul_narrowed", x => x[0].Narrow(1, 1, 3).Matmul(x[1].Narrow(0, 1, 3)), g => [N(g, 4, 5), N(g, 4, 2)]);
        Case("matmul_permuted_batch", x => x[0].Permute(1, 0, 2).Matmul(x[1]), g => [N(g, 3, 2, 4), N(g, 2, 4, 5)]);
        Case("matmul_rows_transposed", x => x[0].Transpose(1, 2).Matmul(x[1]), g => [N(g, 2, 4, 3), N(g, 4, 5)]);
        Case("matmul_bcast_rhs_T", x => x[0].Matmul(x[1].Transpose(-1, -2)), g => [N(g, 2, 2, 3, 4), N(g, 2, 1, 5, 4)]);
        Case("matmul_vector_like", x => x[0].Matmul(x[1]), g => [N(g, 2, 1, 3), N(g, 2, 3, 1)]);
    }

    public static TheoryData<string> Names => new(Table.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifference(string name)
    {
        var (_, f, draw) = Table.Single(c => c.Name == name);
        ulong seed = (ulong)name.Aggregate(17, (h, c) => (h * 31) + c);
        var inputs = draw(new Generator(seed)).Select(t => t.Detach().Clone()).ToArray();
        GradCheck.Check(f, inputs);
    }
}
