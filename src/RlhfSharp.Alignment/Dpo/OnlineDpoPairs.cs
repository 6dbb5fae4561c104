using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Dpo;

/// <summary>
/// One prompt's two sampled answers after judging: which one is chosen, the judge's scores after the
/// missing-EOS penalty, and whether they tied (a tied pair carries no preference and is left out of the loss).
/// </summary>
/// <param name="FirstChosen">The first answer (row 2p) is chosen; else the second (row 2p + 1).</param>
/// <param name="Tied">The penalised scores are equal; the pair is dropped from the loss.</param>
/// <param name="ChosenScore">The chosen answer's penalised score.</param>
/// <param name="RejectedScore">The rejected answer's penalised score.</param>
public readonly record struct JudgedPair(bool FirstChosen, bool Tied, double ChosenScore, double RejectedScore)
{
    /// <summary>The chosen answer's row among the 2B rows (pair <paramref name="pair"/>'s answers are rows 2p and 2p + 1).</summary>
    public int ChosenRow(int pair) => 2 * pair + (FirstChosen ? 0 : 1);

    /// <summary>The rejected answer's row.</summary>
    public int RejectedRow(int pair) => 2 * pair + (FirstChosen ? 1 : 0);
}

/// <summary>
/// Online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback"; TRL
/// <c>OnlineDPOTrainer</c>): two answers per prompt are sampled from the current policy, a judge scores
/// both, the higher is chosen, and the DPO loss (<see cref="DpoLoss"/>) trains on the pair against the
/// frozen reference. As in TRL, an answer that did not end with EOS has <c>missing_eos_penalty</c>
/// subtracted from its score before the comparison. Unlike TRL, which keeps the first answer of a tied
/// pair as chosen, a tie is no preference: the pair is dropped from the loss.
/// </summary>
public static class OnlineDpoPairs
{
    /// <summary>
    /// Judges B pairs. scores [2B] and ended [2B] hold the answers of prompt p at rows 2p and 2p + 1;
    /// s' = s − penalty · [answer did not end]; chosen = the higher s'. -> B judged pairs.
    /// </summary>
    public static JudgedPair[] Judge(IReadOnlyList<double> scores, IReadOnlyList<bool> ended, double missingEosPenalty)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(ended);
        if (scores.Count % 2 != 0 || ended.Count != scores.Count)
            throw new ArgumentException($"expected two answers per prompt: an even number of scores and one ended flag each, got {scores.Count} scores and {ended.Count} flags", nameof(scores));
        var pairs = new JudgedPair[scores.Count / 2];
        for (int p = 0; p < pairs.Length; p++)
        {
            double a = Penalised(scores[2 * p], ended[2 * p], missingEosPenalty);
            double b = Penalised(scores[2 * p + 1], ended[2 * p + 1], missingEosPenalty);
            bool firstChosen = a >= b;
            pairs[p] = new JudgedPair(firstChosen, a == b, firstChosen ? a : b, firstChosen ? b : a);
        }
        return pairs;
    }

    /// <summary>A score after TRL's missing-EOS penalty.</summary>
    public static double Penalised(double score, bool ended, double missingEosPenalty) => ended ? score : score - missingEosPenalty;

    /// <summary>
    /// The DPO loss on the untied pairs of <paramref name="pairs"/>, null when every pair tied.
    /// policy [2B] (with its graph) and reference [2B]: the sequence log-probs of rows 2p and 2p + 1
    /// (sums for sigmoid, means for IPO, as <see cref="SequenceLogProbs"/> gives them) -> <see cref="DpoOutput"/> over the K untied pairs.
    /// </summary>
    public static DpoOutput? Loss(Tensor policy, Tensor reference, IReadOnlyList<JudgedPair> pairs, double beta, DpoLossType lossType)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(pairs);
        if (policy.Rank != 1 || policy.Numel != 2 * pairs.Count || reference.Rank != 1 || reference.Numel != policy.Numel)
            throw new ShapeMismatchException("OnlineDpoPairs.Loss", $"expected policy and reference log-probs [2B] for B = {pairs.Count} pairs; got [{string.Join(", ", policy.Shape)}] and [{string.Join(", ", reference.Shape)}]");
        var chosen = new List<int>();
        var rejected = new List<int>();
        for (int p = 0; p < pairs.Count; p++)
        {
            if (pairs[p].Tied)
                continue;
            chosen.Add(pairs[p].ChosenRow(p));
            rejected.Add(pairs[p].RejectedRow(p));
        }
        if (chosen.Count == 0)
            return null;
        var c = Tensor.FromArray([.. chosen], chosen.Count);   // [K]
        var r = Tensor.FromArray([.. rejected], rejected.Count); // [K]
        return DpoLoss.Compute(policy.IndexSelect(0, c), policy.IndexSelect(0, r), reference.IndexSelect(0, c), reference.IndexSelect(0, r), beta, lossType);
    }
}
