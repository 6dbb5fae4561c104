using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Tests;

/// <summary>A tokenizer whose ids do not fit the model's vocabulary fails when the two are loaded, before the weights.</summary>
public sealed class TokenizerModelCheckTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static ModelConfig Config(int vocab) => new()
    {
        ModelType = "llama",
        VocabSize = vocab,
        HiddenSize = 8,
        NumLayers = 1,
        NumHeads = 2,
        NumKeyValueHeads = 2,
        IntermediateSize = 8,
        MaxPositions = 32,
    };

    /// <summary>A reward-model folder holding the shared tokenizer and a model of <paramref name="vocab"/> tokens.</summary>
    private string ScorerFolder(int vocab)
    {
        var dir = Path.Combine(_folder.Path, $"rm-{vocab}");
        PretrainedIO.Save(new SequenceScorer(Config(vocab), new Generator(1)), dir);
        DataTestSupport.Tokenizer.Save(dir);
        return dir;
    }

    [Fact]
    public void ATokenizerIdPastVocabSizeFailsAtLoadNamingFileTokenAndBothNumbers()
    {
        var tokenizer = DataTestSupport.Tokenizer;
        var largest = tokenizer.Vocabulary.Select(kv => (Content: kv.Key, Id: kv.Value))
            .Concat(tokenizer.AddedTokens.Select(t => (t.Content, t.Id))).MaxBy(t => t.Id);
        var dir = ScorerFolder(largest.Id);
        var e = Assert.Throws<TokenizerModelMismatchException>(() => RewardModelSource.Load(dir, ChatTemplate.Get("chatml"), 32, 16));
        Assert.IsAssignableFrom<IUserError>(e);
        Assert.StartsWith(Path.Combine(dir, "tokenizer.json"), e.Message);
        Assert.Contains($"\"{largest.Content}\" has id {largest.Id}", e.Message);
        Assert.Contains($"vocab_size {largest.Id}", e.Message);
    }

    [Fact]
    public void AVocabularyCoveringEveryIdPasses()
    {
        var dir = ScorerFolder(DataTestSupport.Tokenizer.VocabSize + 5);
        var source = RewardModelSource.Load(dir, ChatTemplate.Get("chatml"), 32, 16);
        Assert.NotNull(source);
    }

    [Theory]
    [InlineData("""{"eos_token_id": [3, 100000]}""", "'eos_token_id' is 100000")]
    [InlineData("""{"pad_token_id": -1}""", "'pad_token_id' is -1")]
    [InlineData("""{"bos_token_id": "x"}""", "'bos_token_id' must be a token id")]
    public void GenerationConfigIdsMustLieInTheVocabulary(string json, string expected)
    {
        var dir = Path.Combine(_folder.Path, "gen");
        Directory.CreateDirectory(dir);
        Config(DataTestSupport.Tokenizer.VocabSize).Save(Path.Combine(dir, "config.json"));
        File.WriteAllText(Path.Combine(dir, TokenizerModelCheck.GenerationConfigFileName), json);
        var e = Assert.Throws<TokenizerModelMismatchException>(() => TokenizerModelCheck.Check(DataTestSupport.Tokenizer, null, dir));
        Assert.StartsWith(Path.Combine(dir, "generation_config.json"), e.Message);
        Assert.Contains(expected, e.Message);
    }
}
