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
