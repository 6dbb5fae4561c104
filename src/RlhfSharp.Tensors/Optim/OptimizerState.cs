namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// Everything an optimizer needs to continue exactly where it stopped: the step count, the
/// hyperparameters, each group's learning rates and weight decay, and each parameter's moment
/// buffers. Parameters are identified by their position across all groups (in group order) and
/// checked by name and size on load. Written and read by <see cref="Write"/> / <see cref="Read"/>.
/// </summary>
public sealed class OptimizerState
{
    /// <summary>The optimizer type, e.g. "AdamW" or "Sgd".</summary>
    public string Kind { get; set; } = "";

    /// <summary>Number of <see cref="Optimizer.Step"/> calls so far.</summary>
    public long Step { get; set; }

    /// <summary>Optimizer-wide hyperparameters by name (e.g. beta1, beta2, eps).</summary>
    public Dictionary<string, double> Hyperparameters { get; set; } = [];

    public List<GroupState> Groups { get; set; } = [];

    public List<ParamState> Params { get; set; } = [];

    /// <summary>Writes the versioned little-endian binary form.</summary>
    public void Write(Stream stream) => OptimizerStateFormat.Write(this, stream);

    /// <summary>Reads the binary form; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static OptimizerState Read(Stream stream) => OptimizerStateFormat.Read(stream);
}

/// <summary>One parameter group's hyperparameters and size.</summary>
public sealed class GroupState
{
    public string Name { get; set; } = "";

    public float Lr { get; set; }

    public float InitialLr { get; set; }

    public float WeightDecay { get; set; }

    public int ParamCount { get; set; }
}

/// <summary>One parameter's optimizer state: its own step count (updates it received) and buffers.</summary>
public sealed class ParamState
{
    /// <summary>Position across all groups, in group order.</summary>
    public int Index { get; set; }

    public string Name { get; set; } = "";

    public int[] Shape { get; set; } = [];

    /// <summary>Updates this parameter has received (steps where it had a gradient).</summary>
    public long Step { get; set; }

    /// <summary>Buffers by name (e.g. exp_avg, exp_avg_sq), each with one value per element; empty before the first update.</summary>
    public Dictionary<string, float[]> Buffers { get; set; } = [];
}
