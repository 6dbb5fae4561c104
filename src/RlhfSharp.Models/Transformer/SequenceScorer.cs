using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// A transformer with a linear score head on every position (HF ...ForSequenceClassification:
/// <c>score.weight</c> [num_labels, C], no bias). Reward models read the score at the last real
/// token; critics (value models) read it at every response token.
/// </summary>
public sealed class SequenceScorer : Module
{
    public SequenceScorer(ModelConfig cfg, Generator? init = null)
    {
        Config = cfg.NumLabels is null ? cfg with { NumLabels = 1 } : cfg;
        Body = RegisterModule(cfg.Family == ModelFamily.Gpt2 ? "transformer" : "model", new TransformerBody(Config, init));
        Score = RegisterModule("score", new Linear(cfg.HiddenSize, Config.NumLabels!.Value, bias: false, init));
    }

    public ModelConfig Config { get; }

    public TransformerBody Body { get; }

    public Linear Score { get; }

    /// <summary>Scores at every position: ids [B, T], mask [B, T] -> [B, T] (first label).</summary>
    public Tensor ForwardAll(Tensor ids, Tensor? attentionMask = null)
    {
        var s = Score.Forward(Body.Forward(ids, attentionMask));                      // [B, T, L]
        return s.Narrow(2, 0, 1).Squeeze(2);                                          // [B, T]
    }

    /// <summary>
    /// The score at the last real (mask = 1) token of each row, as HF reads a reward model.
    /// ids [B, T], mask [B, T] -> [B]
    /// </summary>
    public Tensor Forward(Tensor ids, Tensor? attentionMask = null)
    {
        var all = ForwardAll(ids, attentionMask);                                      // [B, T]
        int b = ids.Size(0), t = ids.Size(1);
        var last = LastRealIndex(attentionMask, b, t);
        return all.Gather(1, Tensor.FromArray(last, b, 1)).Squeeze(1);
    }

    internal static int[] LastRealIndex(Tensor? mask, int b, int t)
    {
        var last = new int[b];
        if (mask is null)
        {
            Array.Fill(last, t - 1);
            return last;
        }
        var m = mask.ToArray();
        for (int r = 0; r < b; r++)
        {
            last[r] = t - 1;
            for (int j = t - 1; j >= 0; j--)
            {
                if (m[(r * t) + j] != 0)
                {
                    last[r] = j;
                    break;
                }
            }
        }
        return last;
    }
}
