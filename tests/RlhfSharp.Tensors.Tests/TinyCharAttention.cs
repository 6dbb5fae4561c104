namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// A one-block causal self-attention language model over characters, from core ops only:
/// token + learned position embeddings, one single-head attention with a residual, one GELU
/// MLP with a residual, and a linear head to the vocabulary; next-character cross-entropy.
/// </summary>
internal sealed class TinyCharAttention
{
    private readonly int _c;

    public TinyCharAttention(Generator g, int vocab, int blockSize, int channels)
    {
        _c = channels;
        float s = 1f / MathF.Sqrt(channels);
        Wte = TinyModels.Param(g.Normal([vocab, channels], 0f, 0.5f), "wte.weight");
        Wpe = TinyModels.Param(g.Normal([blockSize, channels], 0f, 0.5f), "wpe.weight");
        Wq = TinyModels.Param(g.Normal([channels, channels], 0f, s), "attn.q.weight");
        Wk = TinyModels.Param(g.Normal([channels, channels], 0f, s), "attn.k.weight");
        Wv = TinyModels.Param(g.Normal([channels, channels], 0f, s), "attn.v.weight");
        Wo = TinyModels.Param(g.Normal([channels, channels], 0f, s), "attn.proj.weight");
        W1 = TinyModels.Param(g.Normal([channels, 2 * channels], 0f, s), "mlp.fc.weight");
        W2 = TinyModels.Param(g.Normal([2 * channels, channels], 0f, 1f / MathF.Sqrt(2 * channels)), "mlp.proj.weight");
        Head = TinyModels.Param(g.Normal([channels, vocab], 0f, s), "lm_head.weight");
        HeadBias = TinyModels.Param(Tensor.Zeros(vocab), "lm_head.bias");
    }

    public Tensor Wte { get; }

    public Tensor Wpe { get; }

    public Tensor Wq { get; }

    public Tensor Wk { get; }

    public Tensor Wv { get; }

    public Tensor Wo { get; }

    public Tensor W1 { get; }

    public Tensor W2 { get; }

    public Tensor Head { get; }

    public Tensor HeadBias { get; }

    public IEnumerable<(string Name, Tensor P)> Named =>
        new[] { Wte, Wpe, Wq, Wk, Wv, Wo, W1, W2, Head, HeadBias }.Select(p => (p.Name!, p));

    /// <summary>ids int32 [B, T] -> logits [B, T, V]</summary>
    public Tensor Forward(Tensor ids)
    {
        int b = ids.Size(0), t = ids.Size(1);
        var x = Wte.IndexSelect(0, ids.Reshape(-1)).Reshape(b, t, _c) + Wpe.Narrow(0, 0, t); // [B, T, C]
        var q = x.Matmul(Wq); // [B, T, C]
        var k = x.Matmul(Wk); // [B, T, C]
        var v = x.Matmul(Wv); // [B, T, C]
        var scores = q.Matmul(k.Transpose(-1, -2)) * (1f / MathF.Sqrt(_c)); // [B, T, T]
        var future = Tensor.Triu(t, t, 1); // [T, T], 1 above the diagonal
        scores = scores.MaskedFill(future, float.NegativeInfinity);
        var att = (scores - scores.LogSumExp(-1, keepDim: true)).Exp(); // softmax over keys [B, T, T]
        x = x + att.Matmul(v).Matmul(Wo); // [B, T, C]
        x = x + x.Matmul(W1).Gelu().Matmul(W2); // [B, T, C]
        return x.Matmul(Head) + HeadBias; // [B, T, V]
    }

    /// <summary>Mean next-token cross-entropy in nats. ids, targets int32 [B, T] -> []</summary>
    public Tensor Loss(Tensor ids, Tensor targets)
    {
        var logits = Forward(ids); // [B, T, V]
        var logProbs = logits - logits.LogSumExp(-1, keepDim: true); // [B, T, V]
        var picked = logProbs.Gather(-1, targets.Reshape(targets.Size(0), targets.Size(1), 1)); // [B, T, 1]
        return -picked.Mean();
    }
}

/// <summary>A repeating text as character ids, with seeded random windows.</summary>
internal sealed class CharCorpus
{
    public CharCorpus(string text)
    {
        Vocab = [.. text.Distinct().Order()];
        Ids = [.. text.Select(c => Array.IndexOf(Vocab, c))];
    }

    public char[] Vocab { get; }

    public int[] Ids { get; }

    /// <summary>B windows of T+1 characters at random offsets: (inputs [B, T], next-character targets [B, T]).</summary>
    public (Tensor Inputs, Tensor Targets) Batch(Generator g, int batch, int t)
    {
        var x = new int[batch * t];
        var y = new int[batch * t];
        for (int b = 0; b < batch; b++)
        {
            int start = g.NextInt(Ids.Length - t - 1);
            for (int i = 0; i < t; i++)
            {
                x[(b * t) + i] = Ids[start + i];
                y[(b * t) + i] = Ids[start + i + 1];
            }
        }
        return (Tensor.FromArray(x, batch, t), Tensor.FromArray(y, batch, t));
    }
}
