using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Models.Modules;

/// <summary>
/// Low-rank adapter on a linear layer (LoRA, Hu et al. 2021, eq. 3): h = W₀x + (α/r)·B·A·x with
/// A [r, in] and B [out, r]. Named lora_A / lora_B as PEFT names them.
/// </summary>
public sealed class LoraAdapter
{
    private readonly Linear _base;
    private readonly Generator _rng;

    internal LoraAdapter(Linear baseLayer, int rank, float alpha, float dropout, Generator rng)
    {
        if (rank <= 0)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, "LoRA rank must be positive");
        if (dropout is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "LoRA dropout must be in [0, 1)");
        _base = baseLayer;
        _rng = rng;
        Rank = rank;
        Alpha = alpha;
        Dropout = dropout;
        // PEFT's default: A from a Kaiming-uniform bound 1/sqrt(in), B zero.
        float bound = 1f / MathF.Sqrt(baseLayer.InFeatures);
        A = new Linear(baseLayer.InFeatures, rank, bias: false);
        A.Weight.Value = rng.Uniform([rank, baseLayer.InFeatures], -bound, bound);
        B = new Linear(rank, baseLayer.OutFeatures, bias: false);
    }

    public Linear A { get; }

    public Linear B { get; }

    public int Rank { get; }

    public float Alpha { get; }

    public float Dropout { get; }

    public float Scaling => Alpha / Rank;

    /// <summary>False to run the base layer alone (e.g. as PPO's reference policy).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>True while B·A·α/r is folded into the base weight.</summary>
    public bool Merged { get; private set; }

    // x [.., in] -> (α/r)·B·A·dropout(x) [.., out]
    internal Tensor Delta(Tensor x, bool training)
    {
        var h = Dropout > 0 ? F.Dropout(x, Dropout, training, _rng) : x;
        return B.Forward(A.Forward(h)).Mul(Scaling);
    }

    /// <summary>W ← W + (α/r)·B·A. The adapter stays attached but is skipped in forward.</summary>
    public void Merge()
    {
        if (Merged)
            throw new InvalidOperationException("the adapter is already merged");
        Fold(+1f);
        Merged = true;
    }

    /// <summary>W ← W − (α/r)·B·A, undoing <see cref="Merge"/>.</summary>
    public void Unmerge()
    {
        if (!Merged)
            throw new InvalidOperationException("the adapter is not merged");
        Fold(-1f);
        Merged = false;
    }

    private void Fold(float sign)
    {
        using var _ = GradMode.NoGrad();
        var delta = B.Weight.Value.Matmul(A.Weight.Value).Mul(sign * Scaling); // [out, r]·[r, in] -> [out, in]
        var w = _base.Weight.Value;
        if (w.Dtype != DType.Float32)
            throw new InvalidOperationException("cannot merge an adapter into a bf16 base weight; keep the base in float32 to merge");
        bool trainable = w.RequiresGrad;
        var merged = w.Detach().Add(delta);
        _base.Weight.Value = merged;
        _base.Weight.RequiresGrad = trainable;
    }
}
