using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.TestSupport;

/// <summary>A random two-layer Llama with a tokenizer trained on a few conversations, saved as an HF model folder.</summary>
internal static class TinyChatModel
{
    /// <summary>
    /// Writes the model and tokenizer into <paramref name="dir"/>. Without <paramref name="withEos"/>
    /// the tokenizer has no EOS, so under the llama3 template (whose end-of-turn token this
    /// vocabulary lacks) an answer runs to its token limit.
    /// </summary>
    /// <param name="dir">The folder.</param>
    /// <param name="conversations">(prompt, response) pairs the 300-token vocabulary is trained on.</param>
    /// <param name="seed">The weights' seed.</param>
    /// <param name="maxPositions">The model's positions.</param>
    /// <param name="withEos">Whether the tokenizer keeps its EOS.</param>
    public static string Write(string dir, IReadOnlyList<(string, string)> conversations, ulong seed, int maxPositions, bool withEos)
    {
        var tokenizer = BuiltinTaskTokenizer.Train(Enumerable.Repeat(conversations, 4).SelectMany(c => c), vocabSize: 300);
        if (!withEos)
            tokenizer.SetSpecialToken(SpecialTokenRole.Eos, null);
        var config = new ModelConfig
        {
            ModelType = "llama",
            VocabSize = tokenizer.VocabSize,
            HiddenSize = 32,
            NumLayers = 2,
            NumHeads = 2,
            NumKeyValueHeads = 1,
            IntermediateSize = 48,
            MaxPositions = maxPositions,
        };
        PretrainedIO.Save(new CausalLM(config, new Generator(seed)), dir);
        tokenizer.Save(dir);
        return dir;
    }
}
