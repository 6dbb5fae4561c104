using RlhfSharp.Tensors;

namespace RlhfSharp.Alignment.Preference;

/// <summary>
/// The Bradley–Terry preference model used to train reward models (Ouyang et al. 2022, eq. 1):
/// P(chosen ≻ rejected) = σ(r_c − r_r), so the loss per pair is −log σ(r_c − r_r − m) with an
/// optional margin m (Llama 2, Touvron et al. 2023, eq. 2).
/// </summary>
public static class BradleyTerry
{
    /// <summary>Mean loss over pairs. chosen [N], rejected [N], margin [N] or null -> []</summary>
    public static Tensor Loss(Tensor chosen, Tensor rejected, Tensor? margin = null)
    {
        var diff = chosen.Sub(rejected);
        if (margin is not null)
            diff = diff.Sub(margin);
        // −log σ(x) = softplus(−x), computed without overflow for large |x|.
        return diff.Neg().Softplus().Mean();
    }

    /// <summary>The same loss on plain numbers (for metrics and hand-worked tests).</summary>
    public static double Loss(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<double> margin = default)
    {
        if (chosen.Length != rejected.Length || (!margin.IsEmpty && margin.Length != chosen.Length))
            throw new ArgumentException($"BradleyTerry.Loss: {chosen.Length} chosen, {rejected.Length} rejected and {margin.Length} margins must have equal length");
        if (chosen.Length == 0)
            return double.NaN;
        double total = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            double x = chosen[i] - rejected[i] - (margin.IsEmpty ? 0 : margin[i]);
            total += x > 0 ? Math.Log(1 + Math.Exp(-x)) : -x + Math.Log(1 + Math.Exp(x));
        }
        return total / chosen.Length;
    }

    /// <summary>
    /// Mean loss with soft labels: p is the probability that the labeller prefers the first response
    /// (1 for a preference, ½ for a tie), and a pair costs −p·log σ(Δ) − (1 − p)·log σ(−Δ) with
    /// Δ = r_first − r_second (less the margin, if any). With p = 1 this is <see cref="Loss(Tensor, Tensor, Tensor?)"/>;
    /// a tie (p = ½) is smallest, log 2, at Δ = 0, so it pulls the two rewards together (its gradient in Δ is σ(Δ) − ½).
    /// chosen [N], rejected [N], labels [N], margin [N] or null -> []
    /// </summary>
    public static Tensor SoftLoss(Tensor chosen, Tensor rejected, Tensor labels, Tensor? margin = null)
    {
        var diff = chosen.Sub(rejected);
        if (margin is not null)
            diff = diff.Sub(margin);
        // −log σ(Δ) = softplus(−Δ) and −log σ(−Δ) = softplus(Δ).
        return diff.Neg().Softplus().Mul(labels).Add(diff.Softplus().Mul(1f - labels)).Mean();
    }

    /// <summary>The soft-label loss on plain numbers (for metrics and hand-worked tests).</summary>
    public static double SoftLoss(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<double> labels)
    {
        if (chosen.Length != rejected.Length || labels.Length != chosen.Length)
            throw new ArgumentException($"BradleyTerry.SoftLoss: {chosen.Length} chosen, {rejected.Length} rejected and {labels.Length} labels must have equal length");
        if (chosen.Length == 0)
            return double.NaN;
        static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));
        double total = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            double d = chosen[i] - rejected[i];
            total += (labels[i] * Softplus(-d)) + ((1 - labels[i]) * Softplus(d));
        }
        return total / chosen.Length;
    }

    /// <summary>Fraction of pairs whose chosen reward is strictly higher (ties count half).</summary>
    public static double Accuracy(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected)
    {
        if (chosen.Length != rejected.Length)
            throw new ArgumentException($"BradleyTerry.Accuracy: {chosen.Length} chosen vs {rejected.Length} rejected");
        if (chosen.Length == 0)
            return double.NaN;
        double wins = 0;
        for (int i = 0; i < chosen.Length; i++)
            wins += chosen[i] > rejected[i] ? 1 : chosen[i] == rejected[i] ? 0.5 : 0;
        return wins / chosen.Length;
    }
}
