using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Labelling.Tests;

/// <summary>Pairs sampled from one policy or two, kept beside the output so a restart shows the same ones.</summary>
public sealed class SampledPairsTests : IDisposable
{
    private static readonly string[] Prompts = ["What is 7 + 5?", "Reverse the word 'cat'.", "Is 14 even or odd?", "Sort 3, 1, 2."];

    private readonly string _dir = Directory.CreateTempSubdirectory("label-sampled-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A random two-layer Llama with a tokenizer trained on the prompts: its samples are varied text.
    private string Model(string name, ulong seed)
    {
        var dir = Path.Combine(_dir, name);
        var tokenizer = BuiltinTaskTokenizer.Train(Prompts.Select(p => (p, "The answer is 12.")), vocabSize: 300);
        var config = new ModelConfig { ModelType = "llama", VocabSize = tokenizer.VocabSize, HiddenSize = 16, NumLayers = 1, NumHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 32, MaxPositions = 128 };
        PretrainedIO.Save(new CausalLM(config, new Generator(seed)), dir);
        tokenizer.Save(dir);
        return dir;
    }

    private LabelConfig Config(string? modelB = null)
    {
        var prompts = Path.Combine(_dir, "prompts.jsonl");
        File.WriteAllLines(prompts, Prompts.Select(p => $$"""{"prompt": "{{p}}"}"""));
        return new LabelConfig { Judge = "human", Model = Model("policy", 3), ModelB = modelB, PromptsFile = prompts, SamplesPerPrompt = 4, MaxNewTokens = 6, Threads = 1 };
    }

    [Fact]
    public void OnePolicySampledTwicePerPairIsSavedAndReusedOnRestart()
    {
        var prefs = Path.Combine(_dir, "out", "prefs.jsonl");
        var log = new StringWriter();
        var first = PairSource.Resolve(Config(), prefs, log);
        Assert.Equal(Prompts.Length * 2, first.Items.Count + first.Duplicates + first.Unusable);
        Assert.True(first.Items.Count > 0);
        Assert.Equal(LabelFiles.PairsPath(prefs), first.Source);
        Assert.True(File.Exists(Path.Combine(_dir, "out", "prefs.pairs.jsonl")));
        Assert.All(first.Items, i => Assert.Contains(i.Prompt.Single().Content, Prompts));

        // A restart reads the saved pairs instead of sampling (even with another seed).
        var config = Config();
        config.Seed = 99;
        var again = PairSource.Resolve(config, prefs, log);
        Assert.Equal(first.Items.Select(i => i.Id), again.Items.Select(i => i.Id));
        Assert.Contains("sampled when this session started", log.ToString());
    }

    [Fact]
    public void TwoPoliciesGiveOneResponseEach()
    {
        var modelB = Model("policy-b", 11);
        var config = Config(modelB);
        var sampler = PairSampler.Create(config);
        var batches = sampler.Sample().ToList();
        int pairs = batches.Sum(b => b.Items.Count + b.Empty + b.Identical);
        Assert.Equal(Prompts.Length * 2, pairs); // samples_per_prompt 4: two from each policy, paired

        // The same seed samples the same pairs.
        var again = PairSampler.Create(Config(modelB)).Sample().SelectMany(b => b.Items).Select(i => (i.A, i.B));
        Assert.Equal(batches.SelectMany(b => b.Items).Select(i => (i.A, i.B)), again);
    }
}
