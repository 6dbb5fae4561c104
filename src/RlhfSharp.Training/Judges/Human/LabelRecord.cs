namespace RlhfSharp.Training.Judges.Human;

/// <summary>Which of a labelling session's two files a line lives in.</summary>
public enum LabelFileKind
{
    /// <summary>The preference file (<c>--out</c>): left and right choices as chosen/rejected pairs.</summary>
    Preference,

    /// <summary>The side file of ties, both-bad and skips, which the trainers never read.</summary>
    NoPreference,
}

/// <summary>One label read back from a labelling file.</summary>
/// <param name="ItemId">The pair's <see cref="PairItem.Id"/>, computed from its content.</param>
/// <param name="Labeller">Who labelled it.</param>
/// <param name="Choice">What they pressed.</param>
/// <param name="Judgement">The label in order-free terms; null for a skip.</param>
/// <param name="LeftText">The response that was shown on the left.</param>
/// <param name="Seq">The session-wide order of labels (undo takes a labeller's highest).</param>
/// <param name="Seconds">Seconds from showing the pair to the choice, as the page measured them.</param>
/// <param name="LabelledAt">When the server saved it.</param>
/// <param name="Kind">The file it is in.</param>
public sealed record LabelRecord(
    string ItemId,
    string Labeller,
    HumanChoice Choice,
    Judgement? Judgement,
    string LeftText,
    long Seq,
    double Seconds,
    DateTimeOffset? LabelledAt,
    LabelFileKind Kind);
