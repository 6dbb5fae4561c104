namespace RlhfSharp.Alignment.Kl;

/// <summary>A constant KL coefficient β (Ziegler et al. 2019, §2.2, the fixed-β baseline).</summary>
public sealed class FixedKlController : IKlController
{
    /// <summary>β ≥ 0.</summary>
    public FixedKlController(double beta)
    {
        if (!(beta >= 0) || double.IsInfinity(beta))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "FixedKlController: beta must be a finite number >= 0");
        Beta = beta;
    }

    /// <inheritdoc />
    public double Beta { get; private set; }

    /// <summary>Does nothing: β stays fixed.</summary>
    public void Update(double currentKl, int nSteps)
    {
    }

    /// <inheritdoc />
    public KlControllerState State
    {
        get => new(Beta);
        set => Beta = value.Beta;
    }
}
