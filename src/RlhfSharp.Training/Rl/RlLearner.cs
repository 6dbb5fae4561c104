using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// The shape every online RL learner shares (PPO, GRPO/RLOO): built from its config and the
/// <see cref="RlContext"/>, it samples rollouts with its own checkpointed generator, and runs its
/// update as passes of shuffled minibatches split into micro-batches. A learner adds only its
/// scoring and its loss.
/// </summary>
public abstract class RlLearner<TConfig> : IRlLearner
    where TConfig : RlConfig
{
    protected RlLearner(TConfig cfg, RlContext ctx, Func<Optimizer> optimizer)
    {
        if (ctx.Reference is null && ctx.Policy.SetAdaptersEnabled(true) == 0)
            throw new ArgumentException("without a reference model the policy must carry LoRA adapters (the reference is the policy with them off)", nameof(ctx));
        Cfg = cfg;
        Ctx = ctx;
        Generation = cfg.RolloutSampling(ctx.Tokenizer);
        Optimizer = optimizer();
        Schedule = TrainerSetup.Schedule(cfg);
        Rng = new Generator((ulong)cfg.Seed + 11);
    }

    protected TConfig Cfg { get; }

    protected RlContext Ctx { get; }

    protected GenerationOptions Generation { get; }

    protected LrSchedule Schedule { get; }

    public Optimizer Optimizer { get; }

    /// <summary>Draws rollouts and minibatch orders; checkpointed.</summary>
    public Generator Rng { get; }

    public abstract IReadOnlyDictionary<string, Module> Models { get; }

    public IReadOnlyDictionary<string, double> LastMetrics { get; protected set; } = new Dictionary<string, double>();

    public abstract RlStepResult Step(IReadOnlyList<PromptExample> prompts, int stepIndex);

    public virtual void SaveState(TrainerState state) => state.Set("rng", Rng.GetState());

    public virtual void LoadState(TrainerState state) => Rng.SetState(state.GetWords("rng"));

    /// <summary>One response per row of <paramref name="prompts"/>, sampled from the policy.</summary>
    protected RolloutBatch Generate(IReadOnlyList<PromptExample> prompts) =>
        Rollouts.Generate(Ctx.Policy, Ctx.PromptCollator, Ctx.Tokenizer, prompts, Generation, Rng);

    /// <summary>
    /// Up to <paramref name="passes"/> passes over <paramref name="rows"/> rollout rows in a fresh
    /// shuffled order each: per minibatch of <paramref name="miniBatch"/> rows, gradients are zeroed,
    /// <paramref name="microStep"/> runs on each of its gradient_accumulation_steps micro-batches
    /// (and calls Backward), <paramref name="beforeStep"/> runs (gradient clipping) and the optimizer
    /// steps. <paramref name="afterPass"/> returning false ends the update early. Returns the passes run.
    /// </summary>
    protected int Minibatches(int rows, int passes, int miniBatch, Action<List<int>> microStep, Action beforeStep, Func<bool>? afterPass = null)
    {
        int micro = miniBatch / Cfg.GradientAccumulationSteps;
        int done = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            done++;
            var order = Enumerable.Range(0, rows).ToList();
            Rng.Shuffle(order);
            for (int start = 0; start < rows; start += miniBatch)
            {
                Optimizer.ZeroGrad();
                for (int ms = start; ms < start + miniBatch; ms += micro)
                    microStep(order.GetRange(ms, micro));
                beforeStep();
                Optimizer.Step();
            }
            if (afterPass is not null && !afterPass())
                break;
        }
        return done;
    }
}

/// <summary>
/// Sums of metrics over an update, reported as means: keys added once per micro-batch are divided
/// by the micro-batches, keys added once per optimizer step (gradient norms) by the steps.
/// </summary>
public sealed class UpdateMetrics
{
    private readonly Dictionary<string, double> _sums = [];
    private readonly HashSet<string> _perStep = [];
    private int _micros;
    private int _steps;

    /// <summary>Adds a micro-batch's value of <paramref name="key"/>.</summary>
    public void Add(string key, double value) => _sums[key] = _sums.GetValueOrDefault(key) + value;

    /// <summary>Adds an optimizer step's value of <paramref name="key"/>.</summary>
    public void AddPerStep(string key, double value)
    {
        _perStep.Add(key);
        Add(key, value);
    }

    /// <summary>Counts one micro-batch.</summary>
    public void EndMicroBatch() => _micros++;

    /// <summary>Counts one optimizer step.</summary>
    public void EndStep() => _steps++;

    public Dictionary<string, double> Means()
    {
        var m = new Dictionary<string, double>();
        foreach (var (k, v) in _sums)
            m[k] = v / (_perStep.Contains(k) ? _steps : _micros);
        return m;
    }
}
