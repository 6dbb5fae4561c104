using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Tests;

public sealed class OverrideTests
{
    private static DemoConfig Load(string yaml, params string[] overrides) =>
        ConfigBinder.LoadFromText<DemoConfig>(yaml, "test.yaml", overrides);

    [Fact]
    public void EveryKindBindsFromOverrides()
    {
        DemoConfig c = Load("",
            "learning_rate=3e-5", "batch_size=32", "total_tokens=5000000000", "weight_decay=0.1",
            "gradient_checkpointing=true", "model=path/to/model # kept", "run_name=\"quoted \\\"name\\\"\"",
            "lr_scheduler=cosine_with_restarts", "warmup_scheduler=constant", "seed=7", "max_grad_norm=null",
            "stop_strings=[\"</s>\", END]", "eval_steps=[10, 20]", "loss_weights=[0.25]", "lora.rank=4",
            "optimizer.beta1=0.95");

        Assert.Equal(3e-5f, c.LearningRate);
        Assert.Equal(32, c.BatchSize);
        Assert.Equal(5_000_000_000L, c.TotalTokens);
        Assert.Equal(0.1, c.WeightDecay);
        Assert.True(c.GradientCheckpointing);
        Assert.Equal("path/to/model # kept", c.Model); // string values are taken verbatim
        Assert.Equal("quoted \"name\"", c.RunName); // unless quoted
        Assert.Equal(Schedule.CosineWithRestarts, c.LrScheduler);
        Assert.Equal(Schedule.Constant, c.WarmupScheduler);
        Assert.Equal(7, c.Seed);
        Assert.Null(c.MaxGradNorm);
        Assert.Equal(["</s>", "END"], c.StopStrings);
        Assert.Equal([10, 20], c.EvalSteps);
        Assert.Equal([0.25f], c.LossWeights);
        Assert.Equal(4, c.Lora!.Rank);
        Assert.Equal(0.95, c.Optimizer.Beta1);
    }

    [Fact]
    public void OverridesWinOverYamlAndLaterOverridesWin()
    {
        DemoConfig c = Load("batch_size: 8\nlearning_rate: 1e-3\n", "batch_size=4", "batch_size=2");
        Assert.Equal(2, c.BatchSize);
        Assert.Equal(1e-3f, c.LearningRate);
    }

    [Fact]
    public void SettingAKeyInANullSectionCreatesItWithDefaults()
    {
        LoraSection lora = Load("", "lora.alpha=32").Lora!;
        Assert.Equal(32f, lora.Alpha);
        Assert.Equal(8, lora.Rank);
        Assert.Equal(["q_proj", "v_proj"], lora.TargetModules);
    }

    [Fact]
    public void OverrideOfASectionKeepsItsYamlKeys()
    {
        LoraSection lora = Load("lora:\n  rank: 2\n  alpha: 4\n", "lora.rank=16").Lora!;
        Assert.Equal(16, lora.Rank);
        Assert.Equal(4f, lora.Alpha);
    }

    [Fact]
    public void WholeSectionsCanBeSetOrCleared()
    {
        Assert.Null(Load("lora:\n  rank: 2\n", "lora=null").Lora);
        Assert.Equal(3, Load("", "lora={rank: 3}").Lora!.Rank);
    }

    [Fact]
    public void HyphensReadAsUnderscoresAndEmptyValuesAsNull()
    {
        DemoConfig c = Load("seed: 3\n", "learning-rate=0.5", "seed=");
        Assert.Equal(0.5f, c.LearningRate);
        Assert.Null(c.Seed);
    }

    [Fact]
    public void UnknownOverrideKeyNamesTheFlagAndSuggests()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => Load("", "lora.rnk=8"));
        Assert.Equal("--set lora.rnk=8: unknown key 'lora.rnk'. Did you mean 'rank'? Valid keys in 'lora': alpha, rank, target_modules.", e.Message);
        Assert.Null(e.Line);
        Assert.Equal("lora.rnk", e.Key);
    }

    [Fact]
    public void UnknownSectionInAnOverrideIsNamed()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => Load("", "lroa.rank=8"));
        Assert.Contains("unknown key 'lroa'. Did you mean 'lora'?", e.Message);
    }

    [Fact]
    public void WrongTypeInAnOverrideNamesFlagKeyAndValue()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => Load("", "batch_size=sixteen"));
        Assert.Equal("--set batch_size=sixteen: 'batch_size' expects an integer (32-bit), got 'sixteen'.", e.Message);
    }

    [Theory]
    [InlineData("batch_size", "expected key=value")]
    [InlineData("=3", "expected key=value")]
    [InlineData("lora..rank=3", "is not a key path")]
    [InlineData("batch_size.x=3", "'batch_size' is a single value, not a section")]
    [InlineData("eval_steps=[1, 2", "invalid YAML")]
    public void MalformedOverridesAreConfigErrors(string item, string expected) =>
        Assert.Contains(expected, Assert.Throws<ConfigException>(() => Load("", item)).Message);

    [Fact]
    public void ParsedOverridesCarryTheirOrigin()
    {
        ConfigException e = Assert.Throws<ConfigException>(() => ConfigBinder.Load<DemoConfig>(null,
            [new ConfigOverride("seed", "x", "--seed x")]));
        Assert.StartsWith("--seed x: 'seed' expects an integer (32-bit)", e.Message);
    }

    [Fact]
    public void NoFileAndNoOverridesIsTheDefault() =>
        Assert.Equal(ConfigWriter.ToYaml(new DemoConfig()),
            ConfigWriter.ToYaml(ConfigBinder.Load<DemoConfig>(null, Array.Empty<string>())));
}
