using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Tests;

public sealed class ConfigErrorTests
{
    private static ConfigException Fails(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigException>(() => ConfigBinder.LoadFromText<DemoConfig>(yaml, "cfg.yaml", overrides));

    [Fact]
    public void UnknownTopLevelKeyNamesLineValidKeysAndSuggestion()
    {
        ConfigException e = Fails("batch_size: 4\nlerning_rate: 1e-4\n");
        Assert.Equal(2, e.Line);
        Assert.Equal("lerning_rate", e.Key);
        Assert.StartsWith("cfg.yaml:2:1: unknown key 'lerning_rate'.", e.Message);
        Assert.Contains("Did you mean 'learning_rate'?", e.Message);
        Assert.Contains("Valid keys: batch_size, eval_steps, gradient_checkpointing, learning_rate, lora, loss_weights, "
            + "lr_scheduler, max_grad_norm, model, optimizer, run_name, seed, stop_strings, total_tokens, "
            + "warmup_scheduler, weight_decay.", e.Message);
    }

    [Fact]
    public void UnknownNestedKeyNamesPathLineAndTheSectionsKeys()
    {
        ConfigException e = Fails("lora:\n  rank: 4\n  rnak: 8\n");
        Assert.Equal(3, e.Line);
        Assert.Equal("lora.rnak", e.Key);
        Assert.StartsWith("cfg.yaml:3:3: unknown key 'lora.rnak'.", e.Message);
        Assert.Contains("Did you mean 'rank'?", e.Message);
        Assert.Contains("Valid keys in 'lora': alpha, rank, target_modules.", e.Message);
    }

    [Fact]
    public void UnknownKeyFarFromAnyGetsNoSuggestion()
    {
        ConfigException e = Fails("zzzzzzzz: 1");
        Assert.DoesNotContain("Did you mean", e.Message);
        Assert.Contains("Valid keys:", e.Message);
    }

    [Fact]
    public void WrongTypeNamesKeyValueExpectedTypeAndLine()
    {
        ConfigException e = Fails("model: gpt2\nbatch_size: sixteen\n");
        Assert.Equal(2, e.Line);
        Assert.Equal("batch_size", e.Key);
        Assert.Equal("cfg.yaml:2:13: 'batch_size' expects an integer (32-bit), got 'sixteen'.", e.Message);
    }

    [Theory]
    [InlineData("learning_rate: fast", "'learning_rate' expects a number (float), got 'fast'")]
    [InlineData("gradient_checkpointing: yes", "'gradient_checkpointing' expects true or false, got 'yes'")]
    [InlineData("batch_size: 1.5", "'batch_size' expects an integer (32-bit), got '1.5'")]
    [InlineData("batch_size: 3000000000", "'batch_size' expects an integer (32-bit), got '3000000000'")]
    [InlineData("learning_rate: 1e60", "'learning_rate' expects a number (float), got '1e60'")]
    [InlineData("batch_size: null", "'batch_size' expects an integer (32-bit), got null")]
    [InlineData("run_name: ~", "'run_name' expects a string, got null")]
    [InlineData("lr_scheduler: cosine", "'lr_scheduler' expects one of constant, linear, cosine_with_restarts, got 'cosine'")]
    [InlineData("eval_steps: [1, two]", "'eval_steps[1]' expects an integer (32-bit), got 'two'")]
    [InlineData("eval_steps: {a: 1}", "'eval_steps' expects a list of int values such as [a, b], got a mapping")]
    [InlineData("batch_size: [1, 2]", "'batch_size' expects an integer (32-bit), got a list")]
    [InlineData("lora: 8", "'lora' expects a mapping of the keys alpha, rank, target_modules, got '8'")]
    [InlineData("optimizer: null", "'optimizer' expects a mapping of the keys beta1, fused, got null")]
    public void WrongTypesAreNamed(string yaml, string expected)
    {
        ConfigException e = Fails(yaml);
        Assert.Contains(expected, e.Message);
        Assert.Equal(1, e.Line);
        Assert.StartsWith("cfg.yaml:1:", e.Message);
    }

    [Fact]
    public void DuplicateKeysAreAnError()
    {
        ConfigException e = Fails("batch_size: 4\nmodel: a\nbatch_size: 8\n");
        Assert.Equal(3, e.Line);
        Assert.Contains("duplicate key 'batch_size' (first set on line 1)", e.Message);
    }

    [Fact]
    public void DuplicateNestedKeysAreAnError()
    {
        ConfigException e = Fails("lora:\n  rank: 4\n  rank: 8\n");
        Assert.Equal(3, e.Line);
        Assert.Contains("duplicate key 'rank'", e.Message);
    }

    [Fact]
    public void TabIndentationIsAConfigErrorWithLine()
    {
        ConfigException e = Fails("batch_size: 4\nlora:\n\trank: 8\n");
        Assert.Equal(3, e.Line);
        Assert.StartsWith("cfg.yaml:3:", e.Message);
        Assert.Contains("invalid YAML", e.Message);
        Assert.DoesNotContain("(Line:", e.Message);
        Assert.IsAssignableFrom<IUserError>(e);
    }

    [Theory]
    [InlineData("batch_size: 4\neval_steps: [\n1\n")]
    [InlineData("batch_size: 4\nlora: {\nrank\n")]
    public void OpenBracketWithUnindentedNextLineIsAConfigErrorWithLine(string yaml)
    {
        ConfigException e = Fails(yaml);
        Assert.Equal(2, e.Line);
        Assert.StartsWith("cfg.yaml:2:", e.Message);
        Assert.Contains("invalid YAML", e.Message);
        Assert.Contains("left open", e.Message);
    }

    [Fact]
    public void UnclosedQuoteIsAConfigErrorWithLine()
    {
        ConfigException e = Fails("batch_size: 4\nmodel: \"gpt2\nseed: 1\n");
        Assert.NotNull(e.Line);
        Assert.StartsWith("cfg.yaml:", e.Message);
        Assert.Contains("invalid YAML", e.Message);
        Assert.Null(e.InnerException);
    }

    [Theory]
    [InlineData("- a\n- b\n")]
    [InlineData("just text\n")]
    public void TopLevelMustBeAMapping(string yaml) =>
        Assert.Contains("must be a mapping", Fails(yaml).Message);

    [Fact]
    public void SeveralDocumentsAreAnError() =>
        Assert.Contains("single YAML document", Fails("batch_size: 1\n---\nbatch_size: 2\n").Message);

    [Fact]
    public void ValidationListsEveryProblem()
    {
        ConfigException e = Fails("learning_rate: -1\nbatch_size: 0\nlora:\n  rank: 0\n");
        Assert.Contains("invalid configuration:", e.Message);
        Assert.Contains("learning_rate must be > 0 (got -1)", e.Message);
        Assert.Contains("batch_size must be >= 1 (got 0)", e.Message);
        Assert.Contains("lora: rank must be > 0 (got 0)", e.Message);
    }

    [Fact]
    public void ValidationAlsoCoversOverrides() =>
        Assert.Contains("batch_size must be >= 1", Fails("", "batch_size=0").Message);

    [Fact]
    public void MissingFileIsAConfigError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rlhf-missing-{Guid.NewGuid():N}.yaml");
        ConfigException e = Assert.Throws<ConfigException>(() => ConfigBinder.Load<DemoConfig>(path, Array.Empty<string>()));
        Assert.StartsWith($"{path}: cannot read the config file: file not found", e.Message);
    }

    [Fact]
    public void FileErrorsNameTheRealPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rlhf-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "batch_size: 1\nbatch_sise: 2\n");
        try
        {
            ConfigException e = Assert.Throws<ConfigException>(() => ConfigBinder.Load<DemoConfig>(path, Array.Empty<string>()));
            Assert.StartsWith($"{path}:2:1: unknown key 'batch_sise'. Did you mean 'batch_size'?", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class BadKeyConfig
    {
        [ConfigKey("BatchSize")]
        public int BatchSize { get; set; }
    }

    private sealed class UnsupportedTypeConfig
    {
        [ConfigKey("when")]
        public DateTime When { get; set; }
    }

    private sealed class SelfNestedConfig
    {
        [ConfigKey("child")]
        public SelfNestedConfig? Child { get; set; }
    }

    [Fact]
    public void BadConfigClassesAreProgrammingErrors()
    {
        Assert.Throws<InvalidOperationException>(() => ConfigBinder.LoadFromText<SelfNestedConfig>("", "x"));
        Assert.Throws<InvalidOperationException>(() => ConfigBinder.LoadFromText<BadKeyConfig>("", "x"));
        Assert.Throws<InvalidOperationException>(() => ConfigBinder.LoadFromText<UnsupportedTypeConfig>("", "x"));
    }
}
