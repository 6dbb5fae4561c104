using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>A lookup table: ids [..] -> rows of weight [V, C].</summary>
public sealed class Embedding : Module
{
    public Embedding(int count, int dim, Generator? init = null, float initStd = 0.02f)
    {
        Weight = RegisterParameter("weight", init is null ? Tensor.Zeros(count, dim) : init.Normal([count, dim], 0f, initStd));
    }

    public Parameter Weight { get; }

    // ids int32 [..] -> [.., C]
    public Tensor Forward(Tensor ids) => F.Embedding(Weight.Value, ids);
}
