using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>RMSNorm over the last dim with a learned scale (Llama family).</summary>
public sealed class RmsNorm : Module
{
    private readonly float _eps;

    public RmsNorm(int dim, float eps)
    {
        _eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
    }

    public Parameter Weight { get; }

    // x [.., C] -> [.., C]
    public Tensor Forward(Tensor x) => F.RmsNorm(x, Weight.Value, _eps);
}
