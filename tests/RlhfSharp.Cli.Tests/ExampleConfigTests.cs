using System.Text.RegularExpressions;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Evaluation;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Pipeline;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// The example configs a user starts from: each binds and validates as the verb it is written for,
/// every policy stage of the pipeline ships one, and the README's algorithm table names only files
/// that exist.
/// </summary>
public sealed partial class ExampleConfigTests
{
    private static readonly string Root = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    // The config class of each example, by file name; a new example must be added here to be checked.
    private static readonly Dictionary<string, Func<string, string, object>> Binders = new(StringComparer.Ordinal)
    {
        ["sft"] = (text, name) => ConfigBinder.LoadFromText<SftConfig>(text, name),
        ["rm"] = (text, name) => ConfigBinder.LoadFromText<RewardConfig>(text, name),
        ["label"] = (text, name) => ConfigBinder.LoadFromText<LabelConfig>(text, name),
        ["ppo"] = (text, name) => ConfigBinder.LoadFromText<PpoConfig>(text, name),
        ["dpo"] = (text, name) => ConfigBinder.LoadFromText<DpoConfig>(text, name),
        ["kto"] = (text, name) => ConfigBinder.LoadFromText<KtoConfig>(text, name),
        ["orpo"] = (text, name) => ConfigBinder.LoadFromText<OrpoConfig>(text, name),
        ["simpo"] = (text, name) => ConfigBinder.LoadFromText<SimpoConfig>(text, name),
        ["online-dpo"] = (text, name) => ConfigBinder.LoadFromText<OnlineDpoConfig>(text, name),
        ["grpo"] = Grpo,
        ["grpo-dual-clip"] = Grpo,
        ["grpo-verifiable"] = Grpo,
        ["grpo-remote"] = Grpo,
        ["reinforce-pp"] = Grpo,
        ["remax"] = Grpo,
        ["gspo"] = Grpo,
        ["dapo"] = Grpo,
    };

    private static object Grpo(string text, string name) => ConfigBinder.LoadFromText<GrpoConfig>(text, name);

    private static IEnumerable<string> Examples() =>
        Directory.EnumerateFiles(Path.Combine(Root, "examples"), "*.yaml").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal);

    [Fact]
    public void EveryExampleBindsAndValidatesAsItsVerb()
    {
        var names = Examples().ToList();
        Assert.True(names.Count >= 17, $"only {names.Count} examples found under {Root}/examples");
        foreach (var name in names)
        {
            Assert.True(Binders.TryGetValue(name, out var bind), $"examples/{name}.yaml has no config class in this test: add it to Binders");
            var e = Record.Exception(() => bind(File.ReadAllText(Path.Combine(Root, "examples", name + ".yaml")), $"examples/{name}.yaml"));
            Assert.True(e is null, $"examples/{name}.yaml: {e?.Message}");
        }
    }

    [Fact]
    public void EveryPipelineStageShipsItsExampleConfig()
    {
        var configs = PipelineCommand.StageConfigs(PipelineStages.All);
        Assert.Equal(PipelineStages.All, configs.Keys);
        Assert.All(PipelineStages.All, s => Assert.Contains(s, Examples()));
        // The rule-reward and remote examples read files or servers a stage cannot assume.
        Assert.DoesNotContain("grpo-verifiable", PipelineStages.All);
        Assert.DoesNotContain("grpo-remote", PipelineStages.All);
    }

    [Fact]
    public void TheReadmeAlgorithmTableNamesOnlyExamplesThatExist()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        int start = readme.IndexOf("## Algorithms", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no Algorithms section");
        int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..end];
        var named = ExampleFile().Matches(section).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(named.Count >= 15, $"the table names {named.Count} example files");
        Assert.All(named, n => Assert.True(File.Exists(Path.Combine(Root, "examples", n + ".yaml")), $"README names examples/{n}.yaml, which does not exist"));
        // ... and every example is reachable from the table.
        Assert.All(Examples(), n => Assert.Contains(n, named));
    }

    [GeneratedRegex(@"`([a-z0-9-]+)\.yaml`")]
    private static partial Regex ExampleFile();
}
