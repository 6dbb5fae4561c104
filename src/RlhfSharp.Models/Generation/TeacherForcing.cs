using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Generation;

/// <summary>Log-probs of given response tokens in one forward pass (the quantity RL losses use).</summary>
public static class TeacherForcing
{
    /// <summary>
    /// log π(response_t | prompt, response_&lt;t) under softmax(logits / T), zero where the
    /// response mask is 0. sequences/mask [B, P+N], prompt length P -> [B, N]
    /// </summary>
    public static Tensor ResponseLogProbs(CausalLM model, Tensor sequences, Tensor attentionMask, int promptLength, Tensor responseMask, float temperature = 1f)
    {
        int total = sequences.Size(1), n = total - promptLength;
        var logits = model.Forward(sequences, attentionMask);                          // [B, P+N, V]
        var pred = logits.Narrow(1, promptLength - 1, n);                               // [B, N, V] predicts tokens P..P+N-1
        if (temperature != 1f)
            pred = pred.Mul(1f / temperature);
        var lp = F.TokenLogProbs(pred, sequences.Narrow(1, promptLength, n).Contiguous()); // [B, N]
        return lp.Mul(responseMask);
    }
}
