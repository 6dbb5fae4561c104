using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Modules;

/// <summary>
/// Base of every layer: registered parameters and child modules under dotted names (the
/// Hugging Face tensor names fall out of the registration names), train/eval mode, freezing,
/// bf16 conversion of frozen weights, and state dicts.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Parameter Param)> _parameters = [];
    private readonly List<(string Name, Module Child)> _children = [];

    public bool Training { get; private set; } = true;

    protected Parameter RegisterParameter(string name, Tensor value)
    {
        var p = new Parameter(value);
        _parameters.Add((name, p));
        return p;
    }

    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        _children.Add((name, module));
        return module;
    }

    /// <summary>Replaces a registered child (used to wrap linear layers with adapters).</summary>
    protected internal void ReplaceModule(string name, Module replacement)
    {
        int i = _children.FindIndex(c => c.Name == name);
        if (i < 0)
            throw new ArgumentException($"no child module named '{name}'");
        _children[i] = (name, replacement);
    }

    public IEnumerable<(string Name, Module Child)> Children => _children;

    /// <summary>Every parameter with its dotted name, depth first in registration order.</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters(string prefix = "")
    {
        foreach (var (n, p) in _parameters)
            yield return (prefix + n, p);
        foreach (var (n, c) in _children)
        {
            foreach (var item in c.NamedParameters(prefix + n + "."))
                yield return item;
        }
    }

    /// <summary>Every module with its dotted name (this one as "").</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix.TrimEnd('.'), this);
        foreach (var (n, c) in _children)
        {
            foreach (var item in c.NamedModules(prefix + n + "."))
                yield return item;
        }
    }

    /// <summary>The tensors that train (RequiresGrad), for the optimizer.</summary>
    public IEnumerable<Tensor> TrainableParameters() => NamedParameters().Where(p => p.Param.RequiresGrad).Select(p => p.Param.Value);

    public long ParameterCount(bool trainableOnly = false) =>
        NamedParameters().Where(p => !trainableOnly || p.Param.RequiresGrad).Sum(p => (long)p.Param.Numel);

    public void Train(bool on = true)
    {
        foreach (var (_, m) in NamedModules())
            m.Training = on;
    }

    public void Eval() => Train(false);

    /// <summary>Stops gradients to every parameter.</summary>
    public void Freeze()
    {
        foreach (var (_, p) in NamedParameters())
            p.RequiresGrad = false;
    }

    /// <summary>Frozen weights in bf16 storage (half the memory; computed in fp32 on the fly).</summary>
    public void ToBFloat16()
    {
        foreach (var (name, p) in NamedParameters())
        {
            if (p.RequiresGrad)
                throw new InvalidOperationException($"parameter '{name}' is trainable; Freeze() the module before storing it in bf16");
            p.Value = p.Value.ToBFloat16();
        }
    }

    /// <summary>
    /// Moves every parameter to <paramref name="device"/> (trainable ones stay trainable; an
    /// optimizer made before the move still holds the old tensors, so make it after).
    /// </summary>
    public void To(Device device)
    {
        foreach (var (_, p) in NamedParameters())
            p.Value = p.Value.Detach().To(device);
    }

    /// <summary>Where this module's parameters live (the CPU for a module without any).</summary>
    public Device Device => NamedParameters().Select(p => p.Param.Value.Device).FirstOrDefault(Device.Cpu);

    /// <summary>Name → tensor for every parameter (shared, not copied).</summary>
    public Dictionary<string, Tensor> StateDict() => NamedParameters().ToDictionary(p => p.Name, p => p.Param.Value);

    /// <summary>
    /// Copies tensors into the parameters of the same name. With <paramref name="strict"/>, a
    /// missing or unexpected name is an error listing them. Shapes must match.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var mine = NamedParameters().ToList();
        if (strict)
        {
            var missing = mine.Select(p => p.Name).Where(n => !state.ContainsKey(n)).ToList();
            var unexpected = state.Keys.Except(mine.Select(p => p.Name)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new InvalidDataException($"state dict does not match the model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]");
        }
        foreach (var (name, p) in mine)
        {
            if (!state.TryGetValue(name, out var t))
                continue;
            if (!t.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"parameter '{name}': the state has shape [{string.Join(", ", t.Shape)}] but the model expects [{string.Join(", ", p.Shape)}]");
            p.Assign(t);
        }
    }
}
