using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Text;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Sampling;

/// <summary>
/// A batch of sampled responses. Sequences are the left-padded prompt followed by the response,
/// right-padded after EOS (P prompt columns, T response columns); response tensors are [B, T].
/// </summary>
/// <param name="Prompts">The prompts, in row order.</param>
/// <param name="Sequences">int32 [B, P+T].</param>
/// <param name="AttentionMask">float [B, P+T]: 1 on real prompt and response tokens.</param>
/// <param name="PromptLength">P.</param>
/// <param name="ResponseIds">int32 [B, T].</param>
/// <param name="ResponseMask">float [B, T]: 1 on generated tokens (EOS included), 0 after the response ended.</param>
/// <param name="Lengths">Generated tokens per row.</param>
/// <param name="Ended">Whether the row generated EOS (false: cut at the length limit).</param>
/// <param name="Texts">Each response decoded without special tokens.</param>
public sealed record RolloutBatch(
    IReadOnlyList<PromptExample> Prompts,
    Tensor Sequences,
    Tensor AttentionMask,
    int PromptLength,
    Tensor ResponseIds,
    Tensor ResponseMask,
    int[] Lengths,
    bool[] Ended,
    string[] Texts)
{
    public int Count => Prompts.Count;

    public int ResponseColumns => ResponseIds.Size(1);

    /// <summary>The rows <paramref name="rows"/> of this batch, in that order.</summary>
    public RolloutBatch Select(IReadOnlyList<int> rows) => new(
        [.. rows.Select(r => Prompts[r])],
        Rollouts.Rows(Sequences, rows),
        Rollouts.Rows(AttentionMask, rows),
        PromptLength,
        Rollouts.Rows(ResponseIds, rows),
        Rollouts.Rows(ResponseMask, rows),
        [.. rows.Select(r => Lengths[r])],
        [.. rows.Select(r => Ended[r])],
        [.. rows.Select(r => Texts[r])]);
}

/// <summary>Sampling and teacher-forced scoring of rollouts, shared by the RL trainers.</summary>
public static class Rollouts
{
    /// <summary>Samples one response per prompt with the KV cache.</summary>
    public static RolloutBatch Generate(CausalLM policy, PromptCollator collator, BpeTokenizer tokenizer, IReadOnlyList<PromptExample> prompts, GenerationOptions options, Generator rng)
    {
        var batch = collator.Collate(prompts);
        using (TensorArena.Phase())
            return Build(prompts, tokenizer, Kept(Sampler.Generate(policy, batch.InputIds, batch.AttentionMask, options, rng)));
    }

    /// <summary>Samples one response per prompt, row r drawing from <paramref name="rowRngs"/>[r] alone.</summary>
    public static RolloutBatch Generate(CausalLM policy, PromptCollator collator, BpeTokenizer tokenizer, IReadOnlyList<PromptExample> prompts, GenerationOptions options, IReadOnlyList<Generator> rowRngs)
    {
        var batch = collator.Collate(prompts);
        using (TensorArena.Phase())
            return Build(prompts, tokenizer, Kept(Sampler.Generate(policy, batch.InputIds, batch.AttentionMask, options, rowRngs)));
    }

    // Sampling runs in a phase of the step: the prefill's activations and the decode scratch go back
    // to the pool when it ends, and only the batch's tensors stay for the rest of the step.
    private static GenerationResult Kept(GenerationResult g)
    {
        TensorArena.Keep(g.Sequences);
        TensorArena.Keep(g.AttentionMask);
        TensorArena.Keep(g.ResponseIds);
        TensorArena.Keep(g.ResponseMask);
        TensorArena.Keep(g.LogProbs);
        return g;
    }

    private static RolloutBatch Build(IReadOnlyList<PromptExample> prompts, BpeTokenizer tokenizer, GenerationResult g)
    {
        var ids = g.ResponseIds.ToIntArray();
        int t = g.ResponseIds.Size(1);
        var texts = new string[prompts.Count];
        for (int r = 0; r < texts.Length; r++)
            texts[r] = tokenizer.Decode(ids.AsSpan(r * t, g.ResponseLengths[r]).ToArray(), skipSpecialTokens: true).Trim();
        return new RolloutBatch(prompts, g.Sequences, g.AttentionMask, g.PromptLength, g.ResponseIds, g.ResponseMask, g.ResponseLengths, g.Ended, texts);
    }

    /// <summary>
    /// Response-token log-probs [B, T] and per-token entropies [B, T] of softmax(logits / T) in one
    /// forward pass, with the graph when gradients are enabled. Padding columns hold garbage; mask them.
    /// </summary>
    public static (Tensor LogProbs, Tensor Entropy) LogProbsAndEntropy(CausalLM model, RolloutBatch batch, float temperature)
    {
        int p = batch.PromptLength, t = batch.ResponseColumns;
        var logits = model.Forward(batch.Sequences, batch.AttentionMask);     // [B, P+T, V]
        var pred = logits.Narrow(1, p - 1, t);                                 // position P-1+i predicts response token i
        if (temperature != 1f)
            pred = pred.Mul(1f / temperature);
        return (F.TokenLogProbs(pred, batch.ResponseIds), F.Entropy(pred));
    }

    /// <summary>
    /// Reference log-probs [B, T] without gradients: from the frozen reference model, or, without
    /// one, from the policy with its LoRA adapters switched off.
    /// </summary>
    public static Tensor ReferenceLogProbs(CausalLM policy, CausalLM? reference, RolloutBatch batch, float temperature)
    {
        if (reference is not null)
            return LogProbs(reference, batch, temperature);
        policy.SetAdaptersEnabled(false);
        try
        {
            return LogProbs(policy, batch, temperature);
        }
        finally
        {
            policy.SetAdaptersEnabled(true);
        }
    }

    /// <summary>Response-token log-probs [B, T] without gradients, zero on padding.</summary>
    public static Tensor LogProbs(CausalLM model, RolloutBatch batch, float temperature)
    {
        using var _ = GradMode.NoGrad();
        bool training = model.Training;
        model.Eval();
        try
        {
            // In a phase: the forward's activations go back to the pool at once; the [B, T] result stays.
            using (TensorArena.Phase())
                return TensorArena.Keep(TeacherForcing.ResponseLogProbs(model, batch.Sequences, batch.AttentionMask, batch.PromptLength, batch.ResponseMask, temperature));
        }
        finally
        {
            model.Train(training);
        }
    }

    /// <summary>
    /// The critic's value of the state before each response token: V_t is read at the position
    /// that predicts token t (P−1+t). [B, T], with the graph when gradients are enabled.
    /// </summary>
    public static Tensor Values(SequenceScorer critic, RolloutBatch batch) =>
        critic.ForwardAll(batch.Sequences, batch.AttentionMask).Narrow(1, batch.PromptLength - 1, batch.ResponseColumns);

    /// <summary>Rows <paramref name="rows"/> of a [B, …] tensor, in that order (an index-select on dim 0). -> [rows.Count, …]</summary>
    public static Tensor Rows(Tensor t, IReadOnlyList<int> rows) => t.IndexSelect(0, Tensor.FromArray([.. rows], rows.Count));
}
