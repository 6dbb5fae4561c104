namespace RlhfSharp.Alignment.Dpo;

/// <summary>Which preference loss <see cref="DpoLoss"/> applies to the log-ratio difference (TRL <c>loss_type</c>).</summary>
public enum DpoLossType
{
    /// <summary>
    /// <c>sigmoid</c>: DPO (Rafailov et al. 2023, eq. 7), −log σ(h); with label smoothing ε it is
    /// conservative DPO (Mitchell 2023), −(1−ε)·log σ(h) − ε·log σ(−h).
    /// </summary>
    Sigmoid,

    /// <summary><c>ipo</c>: IPO (Azar et al. 2023, eq. 17), (u − 1/(2β))² with u the log-ratio difference.</summary>
    Ipo,
}
