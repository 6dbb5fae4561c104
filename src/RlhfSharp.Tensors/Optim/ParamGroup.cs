namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// A set of parameters that share a learning rate and weight decay (PyTorch's param_groups).
/// A learning rate or weight decay left null takes the optimizer's default when the group is
/// handed to an optimizer. <see cref="InitialLr"/> is the base that LR schedules scale.
/// </summary>
public sealed class ParamGroup
{
    private float? _lr;
    private float? _weightDecay;

    public ParamGroup(string name, IEnumerable<Tensor> parameters, float? lr = null, float? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Params = [.. parameters];
        _lr = lr;
        _weightDecay = weightDecay;
        InitialLr = lr;
    }

    public string Name { get; }

    /// <summary>The parameters, in a fixed order (optimizer state is keyed by this order).</summary>
    public List<Tensor> Params { get; }

    /// <summary>The current learning rate (schedules set it every step).</summary>
    public float Lr
    {
        get => _lr ?? throw Unset("Lr");
        set => _lr = value;
    }

    /// <summary>The learning rate schedules multiply by their factor; defaults to the first <see cref="Lr"/>.</summary>
    public float? InitialLr { get; set; }

    /// <summary>Weight decay coefficient (decoupled for AdamW, L2 added to the gradient for SGD).</summary>
    public float WeightDecay
    {
        get => _weightDecay ?? throw Unset("WeightDecay");
        set => _weightDecay = value;
    }

    /// <summary>Fills unset hyperparameters with an optimizer's defaults.</summary>
    internal void ApplyDefaults(float lr, float weightDecay)
    {
        _lr ??= lr;
        _weightDecay ??= weightDecay;
        InitialLr ??= _lr;
    }

    private InvalidOperationException Unset(string what) =>
        new($"parameter group '{Name}' has no {what} yet: pass one to the ParamGroup constructor or hand the group to an optimizer, which fills in its default");
}
