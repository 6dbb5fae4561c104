namespace RlhfSharp.Training.Judges.Human;

/// <summary>How often two raters gave the same label on the pairs both labelled, and Cohen's kappa.</summary>
/// <param name="Count">Pairs both labelled (skips left out).</param>
/// <param name="Agreed">Pairs they labelled the same.</param>
/// <param name="Observed">p_o = Agreed / Count; null when Count is 0.</param>
/// <param name="Chance">p_e, the agreement expected by chance from each rater's own label frequencies; null when Count is 0.</param>
/// <param name="Kappa">(p_o − p_e) / (1 − p_e); null when Count is 0 or p_e is 1 (both used one and the same label throughout, where kappa is undefined).</param>
public sealed record AgreementResult(int Count, int Agreed, double? Observed, double? Chance, double? Kappa);

/// <summary>Agreement between two raters over nominal labels.</summary>
public static class Agreement
{
    /// <summary>
    /// Observed agreement and Cohen's kappa, κ = (p_o − p_e) / (1 − p_e) with
    /// p_e = Σ_k (n_k^X / n)(n_k^Y / n) (Cohen 1960, "A coefficient of agreement for nominal scales", eq. 1),
    /// over <paramref name="pairs"/>: each pair is the two raters' labels of one item.
    /// </summary>
    public static AgreementResult Compute(IReadOnlyList<(Judgement X, Judgement Y)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int n = pairs.Count;
        if (n == 0)
            return new AgreementResult(0, 0, null, null, null);
        int agreed = pairs.Count(p => p.X == p.Y);
        double observed = (double)agreed / n;
        double chance = 0;
        foreach (var k in Enum.GetValues<Judgement>())
        {
            double px = (double)pairs.Count(p => p.X == k) / n;
            double py = (double)pairs.Count(p => p.Y == k) / n;
            chance += px * py;
        }
        double? kappa = chance >= 1 ? null : (observed - chance) / (1 - chance);
        return new AgreementResult(n, agreed, observed, chance, kappa);
    }

    /// <summary>Several rater pairs' counts pooled: the agreed share of all the items they shared (no kappa).</summary>
    public static AgreementResult Pool(IEnumerable<AgreementResult> results)
    {
        int n = 0, agreed = 0;
        foreach (var r in results)
        {
            n += r.Count;
            agreed += r.Agreed;
        }
        return new AgreementResult(n, agreed, n == 0 ? null : (double)agreed / n, null, null);
    }
}
