namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// One label as a labeller's page sends it: which pair, which response the page showed on the left
/// (the page echoes it, so a label given before a server restart still means what was on screen),
/// the choice, optional ratings of the left and right responses, an optional note, and the seconds
/// the page measured from showing the pair to the choice.
/// </summary>
public sealed record Submission(
    string Labeller,
    string ItemId,
    Side Left,
    HumanChoice Choice,
    Ratings? LeftRatings = null,
    Ratings? RightRatings = null,
    string? Note = null,
    double Seconds = 0)
{
    /// <summary>The response the labeller preferred, for left and right; null for the other choices.</summary>
    public Side? Preferred => Choice switch
    {
        HumanChoice.Left => Left,
        HumanChoice.Right => Other(Left),
        _ => null,
    };

    public static Side Other(Side side) => side == Side.A ? Side.B : Side.A;
}
