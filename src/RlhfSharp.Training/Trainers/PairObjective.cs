using RlhfSharp.Alignment.Dpo;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// The reference-free pairwise objectives (ORPO, SimPO): chosen and rejected go through the policy
/// in one forward pass, giving length-normalised log-probs of both sides and, when the method adds
/// one, the token-mean NLL of the chosen responses (TRL's cross-entropy over the chosen batch).
/// </summary>
internal abstract class PairObjective(CausalLM policy, PreferenceCollator collator, bool withNll) : IPreferenceObjective<PreferenceExample>
{
    public int Length(PreferenceExample example) => collator.LongerLength(example);

    public long TruncatedExamples => collator.Stats.TruncatedExamples;

    public Tensor? Loss(IReadOnlyList<PreferenceExample> rows, PreferenceStep step)
    {
        var batch = rows.Count > 0 ? collator.Collate(rows) : null;
        float localTokens = batch is null ? 0 : ResponseTokens(batch.Chosen);
        // The NLL is a token mean over the whole batch's chosen responses: a data-parallel rank divides by the
        // global count over its weight, so its part (later scaled by the weight) is its share of the global mean.
        float tokens = withNll && step.Dp is { Size: > 1 } dp ? (float)(dp.Sum(localTokens, "chosen tokens") * step.Weight) : localTokens;
        if (batch is null)
            return null;
        var (chosenSum, chosenMean, rejectedMean) = Logps(policy, batch);
        var nll = withNll ? chosenSum.Sum().Mul(-1f / Math.Max(tokens, 1f)) : null;
        var (loss, metrics) = Compute(chosenMean, rejectedMean, nll);
        foreach (var (k, v) in metrics)
            step.Metrics.Add(k, v, rows.Count);
        return loss;
    }

    public void Complete(Dictionary<string, double> means)
    {
    }

    /// <summary>chosen [B], rejected [B] length-normalised log-probs, nll [] or null -> the mean loss [] and its metrics.</summary>
    protected abstract (Tensor Loss, IReadOnlyDictionary<string, double> Metrics) Compute(Tensor chosen, Tensor rejected, Tensor? nll);

    // Response tokens that are predicted (position 0 never is), as SequenceLogProbs counts them.
    private static float ResponseTokens(SequenceBatch side)
        => side.ResponseMask.Slice(1, 1, side.ResponseMask.Size(1)).Sum().Item();

    // One forward pass over both sides -> chosen sums [B], chosen means [B], rejected means [B].
    private static (Tensor ChosenSum, Tensor ChosenMean, Tensor RejectedMean) Logps(CausalLM model, PreferenceBatch batch)
    {
        int b = batch.Chosen.InputIds.Size(0);
        var ids = Tensor.Cat([batch.Chosen.InputIds, batch.Rejected.InputIds], 0);               // [2B, T]
        var mask = Tensor.Cat([batch.Chosen.AttentionMask, batch.Rejected.AttentionMask], 0);    // [2B, T]
        var response = Tensor.Cat([batch.Chosen.ResponseMask, batch.Rejected.ResponseMask], 0); // [2B, T]
        var sums = SequenceLogProbs.Sum(model.Forward(ids, mask), ids, response);                 // [2B]
        int t = ids.Size(1);
        var counts = response.Slice(1, 1, t).Sum(1).Clamp(min: 1f);                               // [2B]
        var means = sums.Div(counts);                                                            // [2B]
        return (sums.Narrow(0, 0, b), means.Narrow(0, 0, b), means.Narrow(0, b, b));
    }
}
