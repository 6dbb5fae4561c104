namespace RlhfSharp.Tensors.Tests;

/// <summary>Small models built from core ops, shared by the optimizer, learning and memory tests.</summary>
internal static class TinyModels
{
    public static Tensor Param(Tensor t, string name)
    {
        t.RequiresGrad = true;
        t.Name = name;
        return t;
    }

    /// <summary>x ~ U[−π, π], y = sin(x), both [n, 1].</summary>
    public static (Tensor X, Tensor Y) SineData(Generator g, int n)
    {
        var x = g.Uniform([n, 1], -MathF.PI, MathF.PI);
        var y = Tensor.FromArray(x.ToArray().Select(MathF.Sin).ToArray(), n, 1);
        return (x, y);
    }
}

/// <summary>x [N, in] -> tanh(x·W1 + b1)·W2 + b2 [N, out].</summary>
internal sealed class TinyMlp
{
    public TinyMlp(Generator g, int inDim, int hidden, int outDim)
    {
        W1 = TinyModels.Param(g.Normal([inDim, hidden], 0f, 1f / MathF.Sqrt(inDim)), "fc1.weight");
        B1 = TinyModels.Param(g.Normal([hidden], 0f, 1f), "fc1.bias");
        W2 = TinyModels.Param(g.Normal([hidden, outDim], 0f, 1f / MathF.Sqrt(hidden)), "fc2.weight");
        B2 = TinyModels.Param(Tensor.Zeros(outDim), "fc2.bias");
    }

    public Tensor W1 { get; }

    public Tensor B1 { get; }

    public Tensor W2 { get; }

    public Tensor B2 { get; }

    public IEnumerable<(string Name, Tensor P)> Named => [("fc1.weight", W1), ("fc1.bias", B1), ("fc2.weight", W2), ("fc2.bias", B2)];

    public IEnumerable<Tensor> Parameters => Named.Select(n => n.P);

    public Tensor Forward(Tensor x) => x.Matmul(W1).Add(B1).Tanh().Matmul(W2).Add(B2);

    /// <summary>Mean squared error. -> []</summary>
    public Tensor Loss(Tensor x, Tensor y)
    {
        var d = Forward(x) - y;
        return (d * d).Mean();
    }
}
