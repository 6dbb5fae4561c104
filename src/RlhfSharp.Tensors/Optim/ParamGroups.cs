namespace RlhfSharp.Tensors.Optim;

/// <summary>Common ways to split a model's parameters into groups.</summary>
public static class ParamGroups
{
    /// <summary>Name of the group that gets weight decay.</summary>
    public const string Decay = "decay";

    /// <summary>Name of the group that gets none.</summary>
    public const string NoDecay = "no_decay";

    /// <summary>
    /// Splits named parameters as nanoGPT and Hugging Face do: matrices (rank ≥ 2) decay; 1-D tensors
    /// (biases, norm gains) and tensors whose name contains "norm", "bias" or "ln_" (any case) do not.
    /// Parameters that do not require grad are left out. Unnamed tensors take their key as
    /// <see cref="Tensor.Name"/>. Returns [decay group, no-decay group]; either may be empty.
    /// </summary>
    public static List<ParamGroup> DecayAndNoDecay(IEnumerable<(string Name, Tensor P)> parameters, float weightDecay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var decay = new List<Tensor>();
        var noDecay = new List<Tensor>();
        foreach (var (name, p) in parameters)
        {
            if (!p.RequiresGrad)
                continue;
            p.Name ??= name;
            (IsNoDecay(name, p) ? noDecay : decay).Add(p);
        }
        return [new ParamGroup(Decay, decay, weightDecay: weightDecay), new ParamGroup(NoDecay, noDecay, weightDecay: 0f)];
    }

    /// <summary>Whether a parameter is exempt from weight decay by the rule of <see cref="DecayAndNoDecay"/>.</summary>
    public static bool IsNoDecay(string name, Tensor p) =>
        p.Rank < 2
        || name.Contains("norm", StringComparison.OrdinalIgnoreCase)
        || name.Contains("bias", StringComparison.OrdinalIgnoreCase)
        || name.Contains("ln_", StringComparison.OrdinalIgnoreCase);
}
