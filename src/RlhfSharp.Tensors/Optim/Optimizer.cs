using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// Base of the optimizers: parameter groups, <see cref="Step"/>, <see cref="ZeroGrad"/> and state
/// save/load. A step updates each parameter's storage in place, records no graph, and skips
/// parameters whose <see cref="Tensor.Grad"/> is null. Parameters must be contiguous float32 leaves;
/// each appears once across all groups, and the group lists must not change after construction.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups;
    private readonly Tensor[] _params;
    private readonly int[] _groupSizes;
    private readonly ParamSlot[] _slots;
    private bool[]? _owned;

    protected Optimizer(IEnumerable<ParamGroup> groups, float defaultLr, float defaultWeightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = [.. groups];
        if (_groups.Count == 0)
            throw new ArgumentException($"{GetType().Name}: needs at least one parameter group");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var all = new List<Tensor>();
        foreach (var g in _groups)
        {
            g.ApplyDefaults(defaultLr, defaultWeightDecay);
            foreach (var p in g.Params)
            {
                string name = p.Name ?? $"param{all.Count}";
                if (p.Dtype != DType.Float32 || !p.IsContiguous || !p.IsLeaf)
                    throw new ArgumentException($"{GetType().Name}: parameter '{name}' in group '{g.Name}' must be a contiguous float32 leaf tensor; it is {p}");
                if (!seen.Add(p))
                    throw new ArgumentException($"{GetType().Name}: parameter '{name}' appears more than once across the parameter groups");
                all.Add(p);
            }
        }
        _params = [.. all];
        _groupSizes = [.. _groups.Select(g => g.Params.Count)];
        _slots = new ParamSlot[_params.Length];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i] = new ParamSlot();
    }

    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Every parameter, in group order (the order of the state's parameters).</summary>
    public IReadOnlyList<Tensor> Parameters => _params;

    /// <summary>True when this optimizer keeps state for and updates only some parameters (<see cref="ShardState"/>).</summary>
    public bool IsSharded => _owned is not null;

    /// <summary>
    /// ZeRO stage 1: from now on this optimizer keeps buffers for, and updates, only the
    /// parameters <paramref name="owns"/> picks (by index in <see cref="Parameters"/>); the
    /// others' buffers are dropped. The rank that owns a parameter shares its new values with the
    /// others after each step. Null makes it update everything again.
    /// </summary>
    public void ShardState(Func<int, bool>? owns)
    {
        if (owns is null)
        {
            _owned = null;
            return;
        }
        _owned = new bool[_params.Length];
        for (int i = 0; i < _params.Length; i++)
        {
            _owned[i] = owns(i);
            if (!_owned[i])
            {
                _slots[i].Buffers = null;
                _slots[i].DeviceBuffers = null;
            }
        }
    }

    /// <summary>Whether this optimizer updates parameter <paramref name="index"/> (always, unless sharded).</summary>
    public bool Owns(int index) => _owned is null || _owned[index];

    /// <summary>Bytes of per-parameter state (moments) this optimizer holds now, on host and devices.</summary>
    public long StateBytes()
    {
        long bytes = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].Buffers is { } host)
                bytes += host.Sum(b => 4L * b.Length);
            if (_slots[i].DeviceBuffers is { } device)
                bytes += device.Sum(b => 4L * b.Numel);
        }
        return bytes;
    }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>The name used for state and errors: the tensor's name, else "param{index}".</summary>
    protected string ParamName(int index) => _params[index].Name ?? $"param{index}";

    /// <summary>The optimizer type written into its state, e.g. "AdamW".</summary>
    protected abstract string Kind { get; }

    /// <summary>The per-parameter buffers this optimizer keeps, each one value per element.</summary>
    protected abstract IReadOnlyList<string> BufferNames { get; }

    /// <summary>
    /// Updates one parameter in place. <paramref name="step"/> counts this parameter's updates
    /// (1 on its first); <paramref name="buffers"/> are in <see cref="BufferNames"/> order, zero at first.
    /// </summary>
    protected abstract void Update(ParamGroup group, Span<float> param, ReadOnlySpan<float> grad, float[][] buffers, long step);

    /// <summary>
    /// Updates one parameter that lives on a device, in place, with its buffers there too (same
    /// order and meaning as <see cref="Update"/>). Optimizers without a device kernel say so.
    /// </summary>
    protected virtual void UpdateOnDevice(ParamGroup group, Tensor param, Tensor grad, Tensor[] buffers, long step) =>
        throw new DeviceMismatchException($"{Kind}: parameters on {param.Device} are updated by AdamW only so far; use AdamW or train on the CPU");

    /// <summary>The optimizer-wide hyperparameters saved with the state.</summary>
    protected abstract Dictionary<string, double> GetHyperparameters();

    /// <summary>Restores hyperparameters from a state (already checked to hold every name <see cref="GetHyperparameters"/> returns).</summary>
    protected abstract void SetHyperparameters(IReadOnlyDictionary<string, double> values);

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        CheckGroupsUnchanged();
        using var _ = GradMode.NoGrad();
        StepCount++;
        int index = 0;
        foreach (var group in _groups)
        {
            foreach (var p in group.Params)
            {
                var slot = _slots[index];
                var grad = p.Grad;
                if (grad is not null && Owns(index))
                {
                    if (!ShapeUtil.SameShape(grad.ShapeArr, p.ShapeArr) || grad.Dtype != DType.Float32)
                        throw new InvalidOperationException($"{Kind}: gradient of parameter '{ParamName(index)}' is {grad}, but the parameter has shape {ShapeUtil.Format(p.ShapeArr)}");
                    if (p.IsOnDevice)
                    {
                        // The moments live next to the parameter: zeros at first, or a loaded state
                        // uploaded once.
                        slot.DeviceBuffers ??= slot.Buffers is { } host
                            ? [.. host.Select(b => Tensor.Wrap(b, p.ShapeArr).To(p.Device))]
                            : [.. BufferNames.Select(_ => Tensor.ZerosLike(p))];
                        slot.Buffers = null;
                        slot.Step++;
                        UpdateOnDevice(group, p, grad.Contiguous(), slot.DeviceBuffers, slot.Step);
                        index++;
                        continue;
                    }
                    slot.Buffers ??= [.. BufferNames.Select(_ => new float[p.Numel])];
                    slot.Step++;
                    Update(group, p.Span, grad.Contiguous().Span, slot.Buffers, slot.Step);
                }
                index++;
            }
        }
    }

    /// <summary>Drops every parameter's gradient (<paramref name="setToNull"/>, PyTorch's default) or fills it with zeros.</summary>
    public void ZeroGrad(bool setToNull = true)
    {
        foreach (var group in _groups)
        {
            foreach (var p in group.Params)
            {
                if (setToNull || p.Grad is null)
                    p.RetireGrad();
                else
                    p.Grad = Tensor.ZerosLike(p);
            }
        }
    }

    /// <summary>A deep copy of the state needed to continue training bit-identically.</summary>
    public OptimizerState StateDict()
    {
        CheckGroupsUnchanged();
        var state = new OptimizerState { Kind = Kind, Step = StepCount, Hyperparameters = GetHyperparameters() };
        foreach (var g in _groups)
            state.Groups.Add(new GroupState { Name = g.Name, Lr = g.Lr, InitialLr = g.InitialLr ?? g.Lr, WeightDecay = g.WeightDecay, ParamCount = g.Params.Count });
        for (int i = 0; i < _params.Length; i++)
        {
            var ps = new ParamState { Index = i, Name = ParamName(i), Shape = _params[i].Shape, Step = _slots[i].Step };
            if (_slots[i].DeviceBuffers is { } onDevice)
            {
                for (int b = 0; b < onDevice.Length; b++)
                    ps.Buffers[BufferNames[b]] = onDevice[b].ToArray();
            }
            else if (_slots[i].Buffers is { } buffers)
            {
                for (int b = 0; b < buffers.Length; b++)
                    ps.Buffers[BufferNames[b]] = (float[])buffers[b].Clone();
            }
            state.Params.Add(ps);
        }
        return state;
    }

    /// <summary>
    /// Restores a state from <see cref="StateDict"/> (copied, so the state object stays independent).
    /// Checks everything before changing anything; throws <see cref="InvalidDataException"/> naming the mismatch.
    /// </summary>
    public void LoadStateDict(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckGroupsUnchanged();
        Validate(state);
        StepCount = state.Step;
        SetHyperparameters(state.Hyperparameters);
        for (int g = 0; g < _groups.Count; g++)
        {
            _groups[g].Lr = state.Groups[g].Lr;
            _groups[g].InitialLr = state.Groups[g].InitialLr;
            _groups[g].WeightDecay = state.Groups[g].WeightDecay;
        }
        for (int i = 0; i < _params.Length; i++)
        {
            var ps = state.Params[i];
            _slots[i].Step = ps.Step;
            _slots[i].Buffers = ps.Buffers.Count == 0 || !Owns(i) ? null : [.. BufferNames.Select(n => (float[])ps.Buffers[n].Clone())];
            _slots[i].DeviceBuffers = null;
        }
    }

    /// <summary>Writes <see cref="StateDict"/> in the binary form of <see cref="OptimizerState.Write"/>.</summary>
    public void Save(Stream stream) => StateDict().Write(stream);

    /// <summary>Reads a state written by <see cref="Save"/> and loads it.</summary>
    public void Load(Stream stream) => LoadStateDict(OptimizerState.Read(stream));

    private void Validate(OptimizerState s)
    {
        static InvalidDataException Bad(string what) => new($"optimizer state does not fit this optimizer: {what}");
        if (s.Kind != Kind)
            throw Bad($"state is for '{s.Kind}', optimizer is '{Kind}'");
        if (s.Params.Count != _params.Length)
            throw Bad($"state has {s.Params.Count} parameters, optimizer has {_params.Length}");
        if (s.Groups.Count != _groups.Count)
            throw Bad($"state has {s.Groups.Count} parameter groups, optimizer has {_groups.Count}");
        for (int g = 0; g < _groups.Count; g++)
        {
            var sg = s.Groups[g];
            if (sg.Name != _groups[g].Name)
                throw Bad($"parameter group {g} is '{sg.Name}' in the state but '{_groups[g].Name}' in the optimizer");
            if (sg.ParamCount != _groups[g].Params.Count)
                throw Bad($"parameter group '{sg.Name}' has {sg.ParamCount} parameters in the state but {_groups[g].Params.Count} in the optimizer");
        }
        foreach (var name in GetHyperparameters().Keys)
        {
            if (!s.Hyperparameters.ContainsKey(name))
                throw Bad($"hyperparameter '{name}' is missing");
        }
        for (int i = 0; i < _params.Length; i++)
        {
            var ps = s.Params[i];
            string name = ParamName(i);
            if (ps.Name != name)
                throw Bad($"parameter {i} is '{ps.Name}' in the state but '{name}' in the model");
            long stateNumel = ps.Shape.Aggregate(1L, (a, d) => a * d);
            if (stateNumel != _params[i].Numel)
                throw Bad($"parameter '{name}' has {stateNumel} elements in the state but {_params[i].Numel} in the model");
            if (!ps.Shape.SequenceEqual(_params[i].ShapeArr))
                throw Bad($"parameter '{name}' has shape {ShapeUtil.Format(ps.Shape)} in the state but {ShapeUtil.Format(_params[i].ShapeArr)} in the model");
            if (ps.Buffers.Count == 0)
                continue;
            foreach (var b in BufferNames)
            {
                if (!ps.Buffers.TryGetValue(b, out var values))
                    throw Bad($"parameter '{name}' has no '{b}' buffer");
                if (values.Length != _params[i].Numel)
                    throw Bad($"parameter '{name}' buffer '{b}' has {values.Length} values but the parameter has {_params[i].Numel} elements");
            }
            if (ps.Buffers.Count != BufferNames.Count)
                throw Bad($"parameter '{name}' has buffers {string.Join(", ", ps.Buffers.Keys)}; {Kind} keeps {string.Join(", ", BufferNames)}");
        }
    }

    private void CheckGroupsUnchanged()
    {
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            var ps = _groups[g].Params;
            if (ps.Count != _groupSizes[g])
                throw new InvalidOperationException($"{Kind}: parameter group '{_groups[g].Name}' had {_groupSizes[g]} parameters when the optimizer was created and has {ps.Count} now; create a new optimizer after changing the parameters");
            for (int i = 0; i < ps.Count; i++, index++)
            {
                if (!ReferenceEquals(ps[i], _params[index]))
                    throw new InvalidOperationException($"{Kind}: parameter {i} of group '{_groups[g].Name}' was replaced after the optimizer was created; create a new optimizer after changing the parameters");
            }
        }
    }

    private sealed class ParamSlot
    {
        public long Step;
        public float[][]? Buffers;

        /// <summary>The buffers of a parameter on a device (then <see cref="Buffers"/> is null).</summary>
        public Tensor[]? DeviceBuffers;
    }
}
