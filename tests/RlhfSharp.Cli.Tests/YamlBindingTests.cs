using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Tests;

public sealed class YamlBindingTests
{
    private static DemoConfig Load(string yaml, params string[] overrides) =>
        ConfigBinder.LoadFromText<DemoConfig>(yaml, "test.yaml", overrides);

    [Fact]
    public void EveryKindBindsFromYaml()
    {
        DemoConfig c = Load("""
            learning_rate: 3e-5
            batch_size: 32
            total_tokens: 5000000000
            weight_decay: 0.1
            gradient_checkpointing: true
            model: gpt2
            run_name: "first run # not a comment"
            lr_scheduler: cosine_with_restarts
            warmup_scheduler: Constant
            seed: 42
            max_grad_norm: ~
            stop_strings:
              - "</s>"
              - "\n\nUser:"
            eval_steps: [100, 200]
            loss_weights: [0.5, 1e-1]
            lora:
              rank: 4
              target_modules: [c_attn]
            optimizer:
              fused: true
            """);

        Assert.Equal(3e-5f, c.LearningRate);
        Assert.Equal(32, c.BatchSize);
        Assert.Equal(5_000_000_000L, c.TotalTokens);
        Assert.Equal(0.1, c.WeightDecay);
        Assert.True(c.GradientCheckpointing);
        Assert.Equal("gpt2", c.Model);
        Assert.Equal("first run # not a comment", c.RunName);
        Assert.Equal(Schedule.CosineWithRestarts, c.LrScheduler);
        Assert.Equal(Schedule.Constant, c.WarmupScheduler);
        Assert.Equal(42, c.Seed);
        Assert.Null(c.MaxGradNorm);
        Assert.Equal(["</s>", "\n\nUser:"], c.StopStrings);
        Assert.Equal([100, 200], c.EvalSteps);
        Assert.Equal([0.5f, 0.1f], c.LossWeights);
        Assert.NotNull(c.Lora);
        Assert.Equal(4, c.Lora.Rank);
        Assert.Equal(16f, c.Lora.Alpha); // unmentioned keys of a section keep their defaults
        Assert.Equal(["c_attn"], c.Lora.TargetModules);
        Assert.True(c.Optimizer.Fused);
        Assert.Equal(0.9, c.Optimizer.Beta1);
    }

    [Fact]
    public void UnmentionedKeysKeepTheirDefaults()
    {
        DemoConfig c = Load("batch_size: 8\n");
        Assert.Equal(8, c.BatchSize);
        Assert.Equal(1e-4f, c.LearningRate);
        Assert.Equal(Schedule.Linear, c.LrScheduler);
        Assert.Null(c.Lora);
        Assert.Equal([1f], c.LossWeights);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    [InlineData("~\n")]
    public void EmptyFileIsTheDefaultConfig(string yaml)
    {
        DemoConfig c = Load(yaml);
        Assert.Equal(ConfigWriter.ToYaml(new DemoConfig()), ConfigWriter.ToYaml(c));
    }

    [Fact]
    public void EmptyFileOnDiskIsTheDefaultConfig()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rlhf-empty-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "");
        try
        {
            Assert.Equal(16, ConfigBinder.Load<DemoConfig>(path, Array.Empty<string>()).BatchSize);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("cosine_with_restarts", Schedule.CosineWithRestarts)]
    [InlineData("COSINE_WITH_RESTARTS", Schedule.CosineWithRestarts)]
    [InlineData("CosineWithRestarts", Schedule.CosineWithRestarts)]
    [InlineData("\"linear\"", Schedule.Linear)]
    [InlineData("constant", Schedule.Constant)]
    public void EnumsAreSnakeCaseAndCaseInsensitive(string text, Schedule expected) =>
        Assert.Equal(expected, Load($"lr_scheduler: {text}").LrScheduler);

    [Theory]
    [InlineData("1e-4", 1e-4f)]
    [InlineData("0.5", 0.5f)]
    [InlineData("-2", -2f)]
    [InlineData(".5", 0.5f)]
    [InlineData("1E+2", 100f)]
    [InlineData(".inf", float.PositiveInfinity)]
    [InlineData("-.inf", float.NegativeInfinity)]
    public void FloatsFollowYamlScalarRules(string text, float expected) =>
        Assert.Equal(expected, Load($"lora:\n  alpha: {text}").Lora!.Alpha);

    [Fact]
    public void NanIsAFloat() => Assert.True(double.IsNaN(Load("weight_decay: .nan").WeightDecay));

    [Theory]
    [InlineData("12", 12)]
    [InlineData("+12", 12)]
    [InlineData("0x10", 16)]
    [InlineData("0o17", 15)]
    [InlineData("1e3", 1000)]
    [InlineData("2048.0", 2048)]
    public void IntegersFollowYamlScalarRules(string text, int expected) =>
        Assert.Equal(expected, Load($"batch_size: {text}").BatchSize);

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("FALSE", false)]
    public void BooleansAreYamlCoreSchema(string text, bool expected) =>
        Assert.Equal(expected, Load($"gradient_checkpointing: {text}").GradientCheckpointing);

    [Fact]
    public void StringKeysTakeNumbersAndBooleansAsText()
    {
        DemoConfig c = Load("model: 1e-4\nrun_name: true");
        Assert.Equal("1e-4", c.Model);
        Assert.Equal("true", c.RunName);
    }

    [Fact]
    public void QuotedNullIsAStringButPlainNullIsNull()
    {
        Assert.Equal("null", Load("model: \"null\"").Model);
        Assert.Null(Load("model: null").Model);
        Assert.Null(Load("model:").Model);
    }

    [Fact]
    public void ListsAcceptBlockFlowSingleAndEmpty()
    {
        Assert.Equal(["a", "b"], Load("stop_strings:\n  - a\n  - b").StopStrings);
        Assert.Equal(["a", "b"], Load("stop_strings: [a, b]").StopStrings);
        Assert.Equal(["a"], Load("stop_strings: a").StopStrings);
        Assert.Empty(Load("loss_weights: []").LossWeights);
        Assert.Empty(Load("loss_weights:").LossWeights);
    }

    [Fact]
    public void NullSectionDisablesItAndEmptyMappingGivesDefaults()
    {
        Assert.Null(Load("lora: null").Lora);
        LoraSection? lora = Load("lora: {}").Lora;
        Assert.NotNull(lora);
        Assert.Equal(8, lora.Rank);
    }

    [Fact]
    public void AnchorsAndAliasesAreResolved()
    {
        DemoConfig c = Load("stop_strings: &stops [x, y]\nlora:\n  target_modules: *stops");
        Assert.Equal(["x", "y"], c.Lora!.TargetModules);
    }
}
