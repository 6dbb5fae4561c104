using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>y = x·Wᵀ + b with W stored [out, in] as torch.nn.Linear (and HF) store it.</summary>
public class Linear : Module
{
    public Linear(int inFeatures, int outFeatures, bool bias, Generator? init = null, float initStd = 0.02f)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var w = init is null ? Tensor.Zeros(outFeatures, inFeatures) : init.Normal([outFeatures, inFeatures], 0f, initStd);
        Weight = RegisterParameter("weight", w);
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros(outFeatures)) : null;
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    public Parameter Weight { get; }

    public Parameter? Bias { get; }

    // x [.., in] -> [.., out]; the transposed weight is a view handed to the GEMM as a flag.
    public virtual Tensor Forward(Tensor x)
    {
        var y = x.Matmul(Weight.Value.T);
        return Bias is null ? y : y.Add(Bias.Value);
    }
}
