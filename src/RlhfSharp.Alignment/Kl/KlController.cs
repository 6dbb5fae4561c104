namespace RlhfSharp.Alignment.Kl;

/// <summary>
/// The coefficient β of the per-token KL penalty −β·KL_t and how it moves between PPO steps
/// (Ziegler et al. 2019, §2.2). <see cref="State"/> is what a checkpoint saves and restores.
/// </summary>
public interface IKlController
{
    /// <summary>The current KL coefficient β.</summary>
    double Beta { get; }

    /// <summary>
    /// Moves β after a PPO step. currentKl: the observed KL(π ‖ π_ref) per sequence (summed over its
    /// tokens, averaged over the batch); nSteps: how many samples the step consumed (batch size).
    /// </summary>
    void Update(double currentKl, int nSteps);

    /// <summary>The controller's mutable state, for checkpoints.</summary>
    KlControllerState State { get; set; }
}

/// <summary>What a KL controller checkpoints: the current β.</summary>
public sealed record KlControllerState(double Beta);
