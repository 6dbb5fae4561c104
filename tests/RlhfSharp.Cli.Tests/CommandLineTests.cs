using RlhfSharp.Cli.Verbs;

namespace RlhfSharp.Cli.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"rlhf-cli-{Guid.NewGuid():N}");

    public CommandLineTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Outcome(int Code, string Out, string Err, DemoVerb Verb);

    private static Outcome Run(params string[] args)
    {
        var verb = new DemoVerb();
        var output = new StringWriter();
        var error = new StringWriter();
        int code = RlhfCli.Run(args, output, error, [verb, new CrashVerb()]);
        return new Outcome(code, output.ToString(), error.ToString(), verb);
    }

    private string WriteYaml(string text)
    {
        string path = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void NoVerbPrintsHelpAndExitsZero()
    {
        Outcome o = Run();
        Assert.Equal(0, o.Code);
        Assert.Contains("Usage:", o.Out);
        Assert.Contains("demo", o.Out);
        Assert.Equal("", o.Err);
    }

    [Fact]
    public void HelpAndVersionExitZero()
    {
        Assert.Equal(0, Run("--help").Code);
        Outcome version = Run("--version");
        Assert.Equal(0, version.Code);
        Assert.NotEqual("", version.Out.Trim());
    }

    [Fact]
    public void ProductVerbsAreTheTopLevelCommands()
    {
        var names = VerbRegistry.Product().Select(v => v.CreateCommand().Name).Order().ToList();
        Assert.Equal(["chat", "dashboard", "data", "dist-check", "dpo", "eval", "export", "generate", "grpo", "kto", "label", "online-dpo", "orpo", "pipeline", "ppo", "report", "rm", "serve", "serve-rm", "sft", "simpo", "tokenize"], names);
        string help = Run("--help").Out;
        Assert.All(names, name => Assert.Contains($"  {name} ", help));
        var data = VerbRegistry.Product().Single(v => v.CreateCommand().Name == "data").CreateCommand();
        Assert.Contains(data.Subcommands, c => c.Name == "builtin");
    }

    [Fact]
    public void VerbHelpListsTheGeneratedFlags()
    {
        Outcome o = Run("demo", "--help");
        Assert.Equal(0, o.Code);
        Assert.Contains("--learning_rate", o.Out);
        Assert.Contains("--learning-rate", o.Out);
        Assert.Contains("--lora.rank", o.Out);
        Assert.Contains("--set", o.Out);
        Assert.Contains("--help-config", o.Out);
    }

    [Fact]
    public void HelpConfigListsKeys()
    {
        Outcome o = Run("demo", "--help-config");
        Assert.Equal(0, o.Code);
        Assert.Contains("learning_rate", o.Out);
        Assert.Contains("Peak learning rate.", o.Out);
        Assert.Contains("lora.target_modules", o.Out);
        Assert.Null(o.Verb.Last);
    }

    [Fact]
    public void FlagsOfEveryKindBind()
    {
        Outcome o = Run("demo", "--learning_rate", "2e-5", "--batch-size", "4", "--total_tokens", "9000000000",
            "--weight_decay", "0", "--gradient_checkpointing", "--model", "C:\\models\\gpt2 # x", "--lr-scheduler",
            "cosine_with_restarts", "--seed", "-5", "--stop_strings", "[\"</s>\", END]", "--eval_steps", "[5]",
            "--loss_weights", "[2, 3]", "--lora.rank", "4", "--lora.target-modules", "[c_attn]",
            "--optimizer.fused", "true", "--max_grad_norm", "null");
        Assert.True(o.Code == 0, o.Err);
        DemoConfig c = o.Verb.Last!;
        Assert.Equal(2e-5f, c.LearningRate);
        Assert.Equal(4, c.BatchSize);
        Assert.Equal(9_000_000_000L, c.TotalTokens);
        Assert.Equal(0.0, c.WeightDecay);
        Assert.True(c.GradientCheckpointing);
        Assert.Equal("C:\\models\\gpt2 # x", c.Model);
        Assert.Equal(Schedule.CosineWithRestarts, c.LrScheduler);
        Assert.Equal(-5, c.Seed);
        Assert.Equal(["</s>", "END"], c.StopStrings);
        Assert.Equal([5], c.EvalSteps);
        Assert.Equal([2f, 3f], c.LossWeights);
        Assert.Equal(4, c.Lora!.Rank);
        Assert.Equal(["c_attn"], c.Lora.TargetModules);
        Assert.True(c.Optimizer.Fused);
        Assert.Null(c.MaxGradNorm);
        Assert.Contains("learning_rate: 2e-05", o.Out);
    }

    [Fact]
    public void BoolFlagTakesAnExplicitValue()
    {
        Outcome o = Run("demo", "--gradient_checkpointing", "false", "--batch_size", "2");
        Assert.Equal(0, o.Code);
        Assert.False(o.Verb.Last!.GradientCheckpointing);
        Assert.Equal(2, o.Verb.Last.BatchSize);
    }

    [Fact]
    public void PrecedenceIsFlagThenSetThenYamlThenDefault()
    {
        string yaml = WriteYaml("batch_size: 8\nlearning_rate: 1e-3\nseed: 1\nmodel: from-yaml\n");
        Outcome o = Run("demo", "--batch_size", "2", "--config", yaml, "--set", "batch_size=4",
            "--set", "learning_rate=5e-4", "--set", "seed=9");
        Assert.True(o.Code == 0, o.Err);
        DemoConfig c = o.Verb.Last!;
        Assert.Equal(2, c.BatchSize); // flag beats --set even when written first
        Assert.Equal(5e-4f, c.LearningRate); // --set beats YAML
        Assert.Equal("from-yaml", c.Model); // YAML beats default
        Assert.Equal(9, c.Seed);
        Assert.Equal(16, new DemoConfig().BatchSize);
        Assert.Equal(yaml, o.Verb.LastContext!.ConfigPath);
    }

    [Fact]
    public void UnknownKeyInYamlExitsTwoWithMessageOnly()
    {
        string yaml = WriteYaml("batch_size: 8\nlora:\n  rnak: 4\n");
        Outcome o = Run("demo", "--config", yaml);
        Assert.Equal(2, o.Code);
        Assert.Equal($"error: {yaml}:3:3: unknown key 'lora.rnak'. Did you mean 'rank'? Valid keys in 'lora': alpha, rank, target_modules.",
            o.Err.Trim());
        Assert.DoesNotContain("   at ", o.Err);
        Assert.Null(o.Verb.Last);
    }

    [Fact]
    public void BadFlagValueExitsTwo()
    {
        Outcome o = Run("demo", "--batch_size", "sixteen");
        Assert.Equal(2, o.Code);
        Assert.Equal("error: --batch_size sixteen: 'batch_size' expects an integer (32-bit), got 'sixteen'.", o.Err.Trim());
    }

    [Fact]
    public void BadSetExitsTwo()
    {
        Outcome o = Run("demo", "--set", "lora.rnk=8");
        Assert.Equal(2, o.Code);
        Assert.StartsWith("error: --set lora.rnk=8: unknown key 'lora.rnk'. Did you mean 'rank'?", o.Err);
    }

    [Fact]
    public void UnknownFlagExitsTwoWithSuggestion()
    {
        Outcome o = Run("demo", "--lerning_rate", "1e-4");
        Assert.Equal(2, o.Code);
        Assert.Contains("--lerning_rate", o.Err);
        Assert.Contains("Did you mean '--learning_rate'?", o.Err);
        Assert.Equal("", o.Out);
    }

    [Fact]
    public void UnknownVerbExitsTwo()
    {
        Outcome o = Run("trian");
        Assert.Equal(2, o.Code);
        Assert.Contains("trian", o.Err);
    }

    [Fact]
    public void MissingFlagValueExitsTwo() => Assert.Equal(2, Run("demo", "--batch_size").Code);

    [Fact]
    public void MalformedYamlExitsTwo()
    {
        string yaml = WriteYaml("lora:\n\trank: 8\n");
        Outcome o = Run("demo", "--config", yaml);
        Assert.Equal(2, o.Code);
        Assert.StartsWith($"error: {yaml}:2:", o.Err);
    }

    [Fact]
    public void ValidationErrorExitsTwo()
    {
        Outcome o = Run("demo", "--learning_rate", "-1", "--lora.rank", "0");
        Assert.Equal(2, o.Code);
        Assert.Contains("learning_rate must be > 0", o.Err);
        Assert.Contains("lora: rank must be > 0", o.Err);
    }

    [Fact]
    public void UnexpectedExceptionExitsOneWithDetails()
    {
        Outcome o = Run("crash");
        Assert.Equal(1, o.Code);
        Assert.Contains("InvalidOperationException", o.Err);
        Assert.Contains("boom", o.Err);
    }

    [Fact]
    public void ResumeReadsTheStoredResolvedConfig()
    {
        Outcome first = Run("demo", "--batch_size", "3", "--lora.rank", "2", "--out", _dir);
        Assert.Equal(0, first.Code);
        Assert.Equal(_dir, first.Verb.LastContext!.OutDir);
        File.WriteAllText(Path.Combine(_dir, ConfigVerbOptions.ResolvedConfigFileName), first.Verb.LastContext.ResolvedYaml);

        Outcome resumed = Run("demo", "--resume", _dir, "--learning_rate", "0.5");
        Assert.True(resumed.Code == 0, resumed.Err);
        DemoConfig c = resumed.Verb.Last!;
        Assert.Equal(3, c.BatchSize);
        Assert.Equal(2, c.Lora!.Rank);
        Assert.Equal(0.5f, c.LearningRate);
        Assert.Equal(_dir, resumed.Verb.LastContext!.ResumeDir);
        Assert.Equal(_dir, resumed.Verb.LastContext.OutDir);
    }

    [Fact]
    public void ResumeFromAFolderWithoutConfigExitsTwo()
    {
        Outcome o = Run("demo", "--resume", _dir);
        Assert.Equal(2, o.Code);
        Assert.Contains(ConfigVerbOptions.ResolvedConfigFileName, o.Err);
    }
}
