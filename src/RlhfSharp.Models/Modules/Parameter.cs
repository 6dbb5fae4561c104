using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>
/// A named slot holding a module's weight tensor. The slot, not the tensor, is what a module
/// keeps, so loading a checkpoint or converting a frozen model to bf16 swaps the tensor in place.
/// </summary>
public sealed class Parameter
{
    private Tensor _value;

    public Parameter(Tensor value, bool trainable = true)
    {
        _value = value;
        if (trainable && value.Dtype == DType.Float32)
            _value.RequiresGrad = true;
    }

    public Tensor Value
    {
        get => _value;
        set
        {
            if (!value.IsLeaf)
                throw new InvalidOperationException("a parameter must be a leaf tensor; call Detach() first");
            bool trainable = _value.RequiresGrad && value.Dtype == DType.Float32;
            _value = value;
            if (trainable)
                _value.RequiresGrad = true;
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the current fp32 tensor in place, so optimizers that
    /// hold the tensor keep updating the model; a bf16 slot gets a new bf16 tensor instead.
    /// </summary>
    public void Assign(Tensor source)
    {
        if (!source.Shape.SequenceEqual(_value.Shape))
            throw new InvalidDataException($"cannot assign a tensor of shape [{string.Join(", ", source.Shape)}] to a parameter of shape [{string.Join(", ", _value.Shape)}]");
        if (_value.Dtype == DType.BFloat16)
        {
            _value = source.ToBFloat16();
            return;
        }
        using var _ = Tensors.Autograd.GradMode.NoGrad();
        _value.CopyInPlace(source);
    }

    public bool RequiresGrad
    {
        get => _value.RequiresGrad;
        set
        {
            if (value && _value.Dtype != DType.Float32)
                throw new InvalidOperationException($"a {_value.Dtype} parameter cannot be trained; keep trainable weights in float32");
            _value.RequiresGrad = value;
            if (!value)
                _value.Grad = null;
        }
    }

    public int[] Shape => _value.Shape;

    public int Numel => _value.Numel;
}
