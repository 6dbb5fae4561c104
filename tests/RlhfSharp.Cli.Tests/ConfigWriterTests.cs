using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Tests;

public sealed class ConfigWriterTests
{
    private static DemoConfig Unusual() => new()
    {
        LearningRate = 3.3333333e-5f,
        BatchSize = 7,
        TotalTokens = long.MaxValue,
        WeightDecay = 0.1 + 0.2,
        GradientCheckpointing = true,
        Model = "null",
        RunName = "tab\there \"quoted\" # not a comment: [x] \\ \u0001 é",
        LrScheduler = Schedule.CosineWithRestarts,
        WarmupScheduler = Schedule.Constant,
        Seed = -3,
        MaxGradNorm = double.PositiveInfinity,
        StopStrings = ["</s>", "", "a, b", "\n"],
        EvalSteps = [1, 2, 3],
        LossWeights = [float.Epsilon, 1e30f, -0.5f],
        Lora = new LoraSection { Rank = 2, Alpha = 0.1f, TargetModules = [] },
        Optimizer = new OptimizerSection { Beta1 = 1e-300, Fused = true },
    };

    [Fact]
    public void RoundTripGivesAnEqualConfig()
    {
        DemoConfig original = Unusual();
        string yaml = ConfigWriter.ToYaml(original);
        DemoConfig back = ConfigBinder.LoadFromText<DemoConfig>(yaml, "config.resolved.yaml");

        Assert.Equal(original.LearningRate, back.LearningRate);
        Assert.Equal(original.BatchSize, back.BatchSize);
        Assert.Equal(original.TotalTokens, back.TotalTokens);
        Assert.Equal(original.WeightDecay, back.WeightDecay);
        Assert.Equal(original.GradientCheckpointing, back.GradientCheckpointing);
        Assert.Equal(original.Model, back.Model);
        Assert.Equal(original.RunName, back.RunName);
        Assert.Equal(original.LrScheduler, back.LrScheduler);
        Assert.Equal(original.WarmupScheduler, back.WarmupScheduler);
        Assert.Equal(original.Seed, back.Seed);
        Assert.Equal(original.MaxGradNorm, back.MaxGradNorm);
        Assert.Equal(original.StopStrings, back.StopStrings);
        Assert.Equal(original.EvalSteps, back.EvalSteps);
        Assert.Equal(original.LossWeights, back.LossWeights);
        Assert.Equal(original.Lora!.Rank, back.Lora!.Rank);
        Assert.Equal(original.Lora.Alpha, back.Lora.Alpha);
        Assert.Empty(back.Lora.TargetModules);
        Assert.Equal(original.Optimizer.Beta1, back.Optimizer.Beta1);
        Assert.True(back.Optimizer.Fused);
        Assert.Equal(yaml, ConfigWriter.ToYaml(back));
    }

    [Fact]
    public void DefaultsRoundTripWithNullSectionAndWithoutComments()
    {
        string yaml = ConfigWriter.ToYaml(new DemoConfig(), comments: false);
        Assert.DoesNotContain("#", yaml);
        Assert.Contains("lora: null\n", yaml);
        DemoConfig back = ConfigBinder.LoadFromText<DemoConfig>(yaml, "x.yaml");
        Assert.Null(back.Lora);
        Assert.Equal(yaml, ConfigWriter.ToYaml(back, comments: false));
    }

    [Fact]
    public void WritesEveryKeyInDeclarationOrderWithComments()
    {
        var config = new DemoConfig { Lora = new LoraSection() };
        string yaml = ConfigWriter.ToYaml(config);
        Assert.StartsWith("""
            # Peak learning rate.
            learning_rate: 0.0001
            # Sequences per optimizer step.
            batch_size: 16
            total_tokens: 1000000
            weight_decay: 0.01
            gradient_checkpointing: false
            # Model folder or name.
            model: null
            run_name: "run"
            lr_scheduler: linear
            warmup_scheduler: null
            seed: null
            max_grad_norm: 1
            stop_strings: []
            eval_steps: []
            loss_weights: [1]
            # LoRA adapters; null trains all weights.
            lora:
              # LoRA rank r.
              rank: 8
              # LoRA scaling numerator.
              alpha: 16
              target_modules: ["q_proj", "v_proj"]
            optimizer:
              beta1: 0.9
              fused: false

            """, yaml);
    }
}
