using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// What the online RL trainer tests start from: a small built-in task (vocabulary 320) and a tiny
/// random llama policy saved as the "SFT" model with the task's tokenizer, optionally with a
/// random reward model that scores every answer differently (the gold scorer gives a random
/// policy's answers all −1).
/// </summary>
internal static class TinyRlTask
{
    /// <summary>The tiny policy's shape: 2 layers of width 32, grouped-query attention, 64 positions.</summary>
    public static ModelConfig PolicyConfig(int vocab) => new()
    {
        ModelType = "llama",
        VocabSize = vocab,
        HiddenSize = 32,
        NumLayers = 2,
        NumHeads = 2,
        NumKeyValueHeads = 1,
        IntermediateSize = 48,
        MaxPositions = 64,
    };

    /// <summary>Writes the task to <paramref name="dataDir"/> and the policy (seed 3) to <paramref name="sftDir"/>; returns the tokenizer.</summary>
    public static BpeTokenizer Write(string dataDir, string sftDir, int trainPrompts = 120, int evalPrompts = 12, int preferencePairs = 20)
    {
        BuiltinTaskGenerator.Write(dataDir, new BuiltinTaskOptions { TrainPrompts = trainPrompts, EvalPrompts = evalPrompts, PreferencePairs = preferencePairs, TokenizerVocabSize = 320 });
        var tokenizer = BpeTokenizer.FromDirectory(Path.Combine(dataDir, "tokenizer"));
        PretrainedIO.Save(new CausalLM(PolicyConfig(tokenizer.VocabSize), new Generator(3)), sftDir);
        tokenizer.Save(sftDir);
        return tokenizer;
    }

    /// <summary>A random reward model of the policy's shape (seeds 4 and 5, score head weights N(0, 0.5²)) in <paramref name="rmDir"/>.</summary>
    public static void WriteRewardModel(BpeTokenizer tokenizer, string rmDir)
    {
        var rm = new SequenceScorer(PolicyConfig(tokenizer.VocabSize), new Generator(4));
        rm.Score.Weight.Assign(new Generator(5).Normal(rm.Score.Weight.Shape, 0f, 0.5f));
        PretrainedIO.Save(rm, rmDir);
        tokenizer.Save(rmDir);
    }
}
