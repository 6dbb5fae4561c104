using RlhfSharp.Tensors;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>
/// What an offline preference trainer computes on a batch of its examples (pairs for ORPO and
/// SimPO, unpaired examples for KTO); <see cref="OfflinePreferenceTrainer"/> runs the rest.
/// </summary>
internal interface IPreferenceObjective<T>
{
    /// <summary>
    /// The mean loss over <paramref name="rows"/> [], or null when this rank has no rows; adds the
    /// batch's metrics to <see cref="PreferenceStep.Metrics"/>. During training it is called on every
    /// data-parallel rank, also one with no rows, so collectives (<see cref="PreferenceStep.Dp"/>) match.
    /// </summary>
    Tensor? Loss(IReadOnlyList<T> rows, PreferenceStep step);

    /// <summary>Metrics derived from the combined means (KTO's rewards/margins), set in <paramref name="means"/>.</summary>
    void Complete(Dictionary<string, double> means);

    /// <summary>The tokens of an example's longest row after truncation (what its batch is padded to), for grouping by length.</summary>
    int Length(T example);

    /// <summary>Examples truncated by the collator so far.</summary>
    long TruncatedExamples { get; }
}

/// <summary>
/// The context of one objective call: the data-parallel group (null when evaluating, which each
/// rank does alone), this rank's share of the global micro-batch, and where metrics go.
/// </summary>
internal sealed record PreferenceStep(DataParallel? Dp, double Weight, MetricMeans Metrics);
