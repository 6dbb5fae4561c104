using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>LayerNorm over the last dim with weight and bias (GPT-2).</summary>
public sealed class LayerNorm : Module
{
    private readonly float _eps;

    public LayerNorm(int dim, float eps)
    {
        _eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
        Bias = RegisterParameter("bias", Tensor.Zeros(dim));
    }

    public Parameter Weight { get; }

    public Parameter Bias { get; }

    // x [.., C] -> [.., C]
    public Tensor Forward(Tensor x) => F.LayerNorm(x, Weight.Value, Bias.Value, _eps);
}
