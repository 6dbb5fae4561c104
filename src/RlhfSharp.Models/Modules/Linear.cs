using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>
/// y = x·Wᵀ + b with W stored [out, in] as torch.nn.Linear (and HF) store it. A LoRA adapter can
/// be attached (<see cref="AttachLora"/>); it adds (dropout(x)·Aᵀ·Bᵀ)·α/r unless merged or disabled.
/// </summary>
public sealed class Linear : Module
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

    /// <summary>The attached adapter, if any.</summary>
    public LoraAdapter? Lora { get; private set; }

    // x [.., in] -> [.., out]; the transposed weight is a view handed to the GEMM as a flag.
    public Tensor Forward(Tensor x)
    {
        var y = F.Linear(x, Weight.Value, Bias?.Value);
        if (Lora is { Enabled: true, Merged: false })
            y = y.Add(Lora.Delta(x, Training));
        return y;
    }

    /// <summary>Attaches a LoRA adapter (Hu et al. 2021): A ~ Kaiming-uniform-like init, B = 0, so the output is unchanged at first.</summary>
    public LoraAdapter AttachLora(int rank, float alpha, float dropout, Generator rng)
    {
        if (Lora is not null)
            throw new InvalidOperationException("this layer already has a LoRA adapter");
        Lora = new LoraAdapter(this, rank, alpha, dropout, rng);
        RegisterModule("lora_A", Lora.A);
        RegisterModule("lora_B", Lora.B);
        return Lora;
    }
}
