using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Foundation;

/// <summary>Optimisation settings every trainer shares (TRL's names where they exist).</summary>
public abstract class TrainLoopConfig : IValidatableConfig
{
    [ConfigKey("seed", "Seed of initialisation, data order and sampling")]
    public int Seed { get; set; } = 1;

    [ConfigKey("threads", "Kernel threads (0 = RLHFSHARP_THREADS, else the cores, shared out among the ranks on this machine)")]
    public int Threads { get; set; }

    [ConfigKey("batch_size", "Examples per micro-batch")]
    public int BatchSize { get; set; } = 32;

    [ConfigKey("gradient_accumulation_steps", "Micro-batches per optimizer step")]
    public int GradientAccumulationSteps { get; set; } = 1;

    [ConfigKey("max_steps", "Optimizer steps")]
    public int MaxSteps { get; set; } = 300;

    [ConfigKey("learning_rate", "Peak learning rate")]
    public float LearningRate { get; set; } = 1e-3f;

    [ConfigKey("lr_scheduler", "constant, linear or cosine (after warm-up)")]
    public string LrScheduler { get; set; } = "cosine";

    [ConfigKey("warmup_steps", "Linear warm-up steps")]
    public int WarmupSteps { get; set; } = 20;

    [ConfigKey("min_lr_ratio", "Floor of the decay, as a fraction of the peak")]
    public float MinLrRatio { get; set; } = 0.1f;

    [ConfigKey("weight_decay", "AdamW decoupled weight decay (not applied to norms and biases)")]
    public float WeightDecay { get; set; }

    [ConfigKey("max_grad_norm", "Global gradient-norm clip (0 = off)")]
    public float MaxGradNorm { get; set; } = 1f;

    [ConfigKey("on_nonfinite", "When a step's loss, gradient norm or updated weights hold NaN or infinity: stop (exit code 3, naming the step and the last good checkpoint) or skip (drop that update; weights and optimizer state stay as they were)")]
    public string OnNonFinite { get; set; } = "stop";

    [ConfigKey("max_nonfinite_skips", "on_nonfinite: skip: updates skipped in a row before the run gives up and stops as with stop")]
    public int MaxNonFiniteSkips { get; set; } = 3;

    [ConfigKey("log_every", "Log training metrics every N steps")]
    public int LogEvery { get; set; } = 10;

    [ConfigKey("eval_every", "Evaluate on held-out data every N steps (0 = only at the end)")]
    public int EvalEvery { get; set; } = 100;

    [ConfigKey("save_every", "Write a checkpoint every N steps (0 = only at the end)")]
    public int SaveEvery { get; set; } = 100;

    [ConfigKey("keep_checkpoints", "Checkpoints kept on disk")]
    public int KeepCheckpoints { get; set; } = 2;

    [ConfigKey("resume_from_checkpoint", "A checkpoint-N folder of the run folder to continue from, instead of the newest whole one (implies resume; a damaged one is an error, not a fallback)")]
    public string? ResumeFromCheckpoint { get; set; }

    [ConfigKey("gradient_checkpointing", "Recompute each block in backward to save activation memory")]
    public bool GradientCheckpointing { get; set; }

    [ConfigKey("device", "Where models train and run: cpu, cuda, cuda:N, or cpu-accelerator (the GPU kernels on host threads)")]
    public string Device { get; set; } = "cpu";

    [ConfigKey("dtype", "Matrix products in fp32, or bf16 (bf16 inputs, fp32 accumulation; weights and optimizer state stay fp32); bf16 needs a GPU device")]
    public string Dtype { get; set; } = "fp32";

    [ConfigKey("zero_stage", "Data-parallel runs (mpirun -np N): 0 keeps AdamW's moments whole on every rank, 1 splits them across the ranks (ZeRO-1)")]
    public int ZeroStage { get; set; }

    [ConfigKey("dist_timeout_s", "Data-parallel runs: seconds a collective waits for the other ranks before the run stops naming the missing rank")]
    public double DistTimeoutSeconds { get; set; } = 1800;

    [ConfigKey("grad_bucket_mb", "Data-parallel runs: megabytes of gradients per all-reduce bucket")]
    public double GradBucketMb { get; set; } = 25;

    [ConfigKey("overlap_grad_sync", "Data-parallel runs: send each gradient bucket while the backward pass goes on (false: all after it)")]
    public bool OverlapGradSync { get; set; } = true;

    public virtual IEnumerable<string> Validate()
    {
        if (ZeroStage is not (0 or 1))
            yield return $"zero_stage must be 0 or 1 (ZeRO-1 splits the optimizer's moments across the ranks), got {ZeroStage}";
        if (!(DistTimeoutSeconds > 0))
            yield return $"dist_timeout_s must be positive, got {DistTimeoutSeconds}";
        if (!(GradBucketMb > 0))
            yield return $"grad_bucket_mb must be positive, got {GradBucketMb}";
        foreach (var e in TrainerSetup.DeviceErrors(Device, Dtype))
            yield return e;
        if (BatchSize <= 0)
            yield return $"batch_size must be positive, got {BatchSize}";
        if (GradientAccumulationSteps <= 0)
            yield return $"gradient_accumulation_steps must be positive, got {GradientAccumulationSteps}";
        if (MaxSteps < 0)
            yield return $"max_steps must be >= 0, got {MaxSteps}";
        if (!(LearningRate > 0))
            yield return $"learning_rate must be positive, got {LearningRate}";
        if (LrScheduler is not ("constant" or "linear" or "cosine"))
            yield return $"lr_scheduler must be constant, linear or cosine, got '{LrScheduler}'";
        if (WarmupSteps < 0 || LogEvery <= 0 || EvalEvery < 0 || SaveEvery < 0 || KeepCheckpoints <= 0 || Threads < 0)
            yield return "warmup_steps, eval_every, save_every and threads must be >= 0; log_every and keep_checkpoints positive";
        if (WarmupSteps > MaxSteps && MaxSteps > 0)
            yield return $"warmup_steps ({WarmupSteps}) must not exceed max_steps ({MaxSteps})";
        if (OnNonFinite is not ("stop" or "skip"))
            yield return $"on_nonfinite must be stop or skip, got '{OnNonFinite}'";
        if (MaxNonFiniteSkips <= 0)
            yield return $"max_nonfinite_skips must be positive (updates skipped in a row before the run stops), got {MaxNonFiniteSkips}";
        if (MinLrRatio is < 0 or > 1)
            yield return $"min_lr_ratio must be in [0, 1], got {MinLrRatio}";
    }
}
