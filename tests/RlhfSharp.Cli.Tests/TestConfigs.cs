using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Tests;

public enum Schedule
{
    Constant,
    Linear,
    CosineWithRestarts,
}

public sealed class LoraSection : IValidatableConfig
{
    [ConfigKey("rank", "LoRA rank r.")]
    public int Rank { get; set; } = 8;

    [ConfigKey("alpha", "LoRA scaling numerator.")]
    public float Alpha { get; set; } = 16f;

    [ConfigKey("target_modules")]
    public List<string> TargetModules { get; set; } = ["q_proj", "v_proj"];

    public IEnumerable<string> Validate()
    {
        if (Rank <= 0)
        {
            yield return $"rank must be > 0 (got {Rank})";
        }
    }
}

public sealed class OptimizerSection
{
    [ConfigKey("beta1")]
    public double Beta1 { get; set; } = 0.9;

    [ConfigKey("fused")]
    public bool Fused { get; set; }
}

/// <summary>A config with one key of every supported kind.</summary>
public sealed class DemoConfig : IValidatableConfig
{
    [ConfigKey("learning_rate", "Peak learning rate.")]
    public float LearningRate { get; set; } = 1e-4f;

    [ConfigKey("batch_size", "Sequences per optimizer step.")]
    public int BatchSize { get; set; } = 16;

    [ConfigKey("total_tokens")]
    public long TotalTokens { get; set; } = 1_000_000;

    [ConfigKey("weight_decay")]
    public double WeightDecay { get; set; } = 0.01;

    [ConfigKey("gradient_checkpointing")]
    public bool GradientCheckpointing { get; set; }

    [ConfigKey("model", "Model folder or name.")]
    public string? Model { get; set; }

    [ConfigKey("run_name")]
    public string RunName { get; set; } = "run";

    [ConfigKey("lr_scheduler")]
    public Schedule LrScheduler { get; set; } = Schedule.Linear;

    [ConfigKey("warmup_scheduler")]
    public Schedule? WarmupScheduler { get; set; }

    [ConfigKey("seed")]
    public int? Seed { get; set; }

    [ConfigKey("max_grad_norm")]
    public double? MaxGradNorm { get; set; } = 1.0;

    [ConfigKey("stop_strings")]
    public List<string> StopStrings { get; set; } = [];

    [ConfigKey("eval_steps")]
    public List<int> EvalSteps { get; set; } = [];

    [ConfigKey("loss_weights")]
    public List<float> LossWeights { get; set; } = [1f];

    [ConfigKey("lora", "LoRA adapters; null trains all weights.")]
    public LoraSection? Lora { get; set; }

    [ConfigKey("optimizer")]
    public OptimizerSection Optimizer { get; set; } = new();

    public IEnumerable<string> Validate()
    {
        if (!(LearningRate > 0))
        {
            yield return $"learning_rate must be > 0 (got {LearningRate})";
        }
        if (BatchSize < 1)
        {
            yield return $"batch_size must be >= 1 (got {BatchSize})";
        }
    }
}

/// <summary>A verb that exists only in tests: it prints its resolved config.</summary>
public sealed class DemoVerb : ConfigVerb<DemoConfig>
{
    public override string Name => "demo";

    public override string Description => "Print the resolved demo config.";

    public DemoConfig? Last { get; private set; }

    public VerbContext? LastContext { get; private set; }

    protected override int Run(DemoConfig config, VerbContext context)
    {
        Last = config;
        LastContext = context;
        context.Output.Write(context.ResolvedYaml);
        return ExitCodes.Success;
    }
}

/// <summary>A verb that fails the way a bug would.</summary>
public sealed class CrashVerb : ConfigVerb<OptimizerSection>
{
    public override string Name => "crash";

    public override string Description => "Throw an unexpected exception.";

    protected override int Run(OptimizerSection config, VerbContext context) =>
        throw new InvalidOperationException("boom");
}
