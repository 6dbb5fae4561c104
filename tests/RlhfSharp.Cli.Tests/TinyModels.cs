using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;

namespace RlhfSharp.Cli.Tests;

/// <summary>A tiny random policy and reward model with a data folder's tokenizer, saved as the RL trainers read them.</summary>
public static class TinyModels
{
    /// <summary>Writes dir/sft-model and dir/rm-model; returns their paths.</summary>
    public static (string Sft, string Rm) Write(string dir, string data)
    {
        var tokenizer = BpeTokenizer.FromDirectory(Path.Combine(data, "tokenizer"));
        var cfg = new ModelConfig { ModelType = "llama", VocabSize = tokenizer.VocabSize, HiddenSize = 32, NumLayers = 2, NumHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 48, MaxPositions = 64 };
        string sft = Path.Combine(dir, "sft-model"), rm = Path.Combine(dir, "rm-model");
        PretrainedIO.Save(new CausalLM(cfg, new Generator(3)), sft);
        tokenizer.Save(sft);
        var scorer = new SequenceScorer(cfg, new Generator(4));
        scorer.Score.Weight.Assign(new Generator(5).Normal(scorer.Score.Weight.Shape, 0f, 0.5f));
        PretrainedIO.Save(scorer, rm);
        tokenizer.Save(rm);
        return (sft, rm);
    }
}
