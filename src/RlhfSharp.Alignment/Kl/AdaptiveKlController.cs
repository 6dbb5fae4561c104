namespace RlhfSharp.Alignment.Kl;

/// <summary>
/// Adaptive KL coefficient (Ziegler et al. 2019, §2.2): e = clip(KL/target − 1, −0.2, 0.2);
/// β ← β·(1 + e·nSteps/horizon). β grows while the policy drifts further than the target KL and
/// shrinks while it stays closer, by at most 20% per horizon samples.
/// </summary>
public sealed class AdaptiveKlController : IKlController
{
    /// <summary>The bound on the proportional error e.</summary>
    public const double ErrorClip = 0.2;

    /// <summary>initBeta ≥ 0; target &gt; 0 (KL per sequence, nats); horizon &gt; 0 (samples).</summary>
    public AdaptiveKlController(double initBeta, double target, double horizon)
    {
        if (!(initBeta >= 0) || double.IsInfinity(initBeta))
            throw new ArgumentOutOfRangeException(nameof(initBeta), initBeta, "AdaptiveKlController: initBeta must be a finite number >= 0");
        if (!(target > 0) || double.IsInfinity(target))
            throw new ArgumentOutOfRangeException(nameof(target), target, "AdaptiveKlController: target must be a finite number > 0");
        if (!(horizon > 0) || double.IsInfinity(horizon))
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "AdaptiveKlController: horizon must be a finite number > 0");
        Beta = initBeta;
        Target = target;
        Horizon = horizon;
    }

    /// <inheritdoc />
    public double Beta { get; private set; }

    /// <summary>The KL the controller steers towards.</summary>
    public double Target { get; }

    /// <summary>The number of samples over which β may change by at most the clipped error.</summary>
    public double Horizon { get; }

    /// <inheritdoc />
    public void Update(double currentKl, int nSteps)
    {
        if (double.IsNaN(currentKl))
            throw new ArgumentException("AdaptiveKlController.Update: currentKl is NaN", nameof(currentKl));
        if (nSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(nSteps), nSteps, "AdaptiveKlController.Update: nSteps must be >= 0");
        double error = Math.Clamp((currentKl / Target) - 1, -ErrorClip, ErrorClip);
        Beta *= 1 + (error * nSteps / Horizon);
    }

    /// <inheritdoc />
    public KlControllerState State
    {
        get => new(Beta);
        set
        {
            if (!(value.Beta >= 0) || double.IsInfinity(value.Beta))
                throw new ArgumentOutOfRangeException(nameof(value), value.Beta, "AdaptiveKlController.State: beta must be a finite number >= 0");
            Beta = value.Beta;
        }
    }
}
