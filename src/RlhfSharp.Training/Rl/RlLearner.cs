using RlhfSharp.Alignment;
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

    /// <summary>The run's ranks (one process: a single rank).</summary>
    protected DataParallel Dp => Ctx.Dp;

    /// <summary>
    /// One response per row of <paramref name="rows"/> (the step's whole batch), sampled from the
    /// policy. This rank answers only its contiguous share of the prompts (whole groups of
    /// <paramref name="rowsPerPrompt"/> rows), and row r draws from its own generator, keyed by the
    /// step and r: the responses are those one process would draw, whatever the number of ranks.
    /// </summary>
    protected (RolloutBatch Rollout, RolloutShard Shard) Generate(IReadOnlyList<PromptExample> rows, int rowsPerPrompt = 1)
    {
        ulong stepSeed = Rng.NextUInt64();
        var (firstPrompt, prompts) = Dp.Share(rows.Count / rowsPerPrompt);
        int start = firstPrompt * rowsPerPrompt, count = prompts * rowsPerPrompt;
        var mine = new List<PromptExample>(count);
        var rngs = new Generator[count];
        for (int r = 0; r < count; r++)
        {
            mine.Add(rows[start + r]);
            rngs[r] = Generator.Stream(stepSeed, start + r);
        }
        var rollout = Rollouts.Generate(Ctx.Policy, Ctx.PromptCollator, Ctx.Tokenizer, mine, Generation, rngs);
        var lengths = Dp.Size == 1 ? rollout.Lengths : Dp.Comm.AllGatherV<int>(rollout.Lengths, out _, "rollout lengths");
        return (rollout, new RolloutShard(start, count, rows.Count, lengths));
    }

    /// <summary>
    /// Up to <paramref name="passes"/> passes over the step's rollout rows (every rank's) in a fresh
    /// shuffled order each: per minibatch of <paramref name="miniBatch"/> rows, gradients are zeroed,
    /// <paramref name="microStep"/> runs on this rank's rows of each of its gradient_accumulation_steps
    /// micro-batches (local indices, and the weight of this rank's part of the micro-batch's loss under
    /// <paramref name="aggregation"/>; it calls Backward and returns the loss), the gradients are
    /// summed over the ranks, each of <paramref name="clipGroups"/> has its global norm clipped at
    /// max_grad_norm (only measured when that is 0) and added to the metrics under its name, and the
    /// optimizer steps unless the run's <see cref="NonFiniteGuard"/> skips the update.
    /// <paramref name="afterPass"/> returning false ends the update early. Micro-batch metrics added
    /// to <paramref name="metrics"/> are weighted the same way. Returns the passes run.
    /// </summary>
    protected int Minibatches(RolloutShard shard, int passes, int miniBatch, UpdateMetrics metrics, LossAggregation aggregation,
        Func<List<int>, double, double> microStep, IReadOnlyList<(string Metric, IReadOnlyList<Tensor> Parameters)> clipGroups, Func<bool>? afterPass = null)
    {
        int micro = miniBatch / Cfg.GradientAccumulationSteps;
        int done = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            done++;
            var order = Enumerable.Range(0, shard.Total).ToList();
            Rng.Shuffle(order);
            for (int start = 0; start < shard.Total; start += miniBatch)
            {
                // Each minibatch in a phase of the step: its activations and gradients go back to
                // the pool when its update is done, for the next minibatch to reuse.
                using var phase = TensorArena.Phase();
                Optimizer.ZeroGrad();
                double loss = 0;
                for (int ms = start; ms < start + miniBatch; ms += micro)
                {
                    var rows = order.GetRange(ms, micro);
                    if (ms + micro >= start + miniBatch)
                        Dp.BeginSync();
                    var local = rows.Where(shard.Holds).Select(r => r - shard.Start).ToList();
                    double weight = shard.Weight(rows, aggregation);
                    metrics.Scale = weight;
                    if (local.Count > 0)
                        loss += microStep(local, weight);
                    metrics.EndMicroBatch();
                }
                var norms = Dp.Update(Optimizer, loss, clipGroups);
                for (int g = 0; g < clipGroups.Count; g++)
                    metrics.AddPerStep(clipGroups[g].Metric, norms[g]);
                metrics.EndStep();
            }
            if (afterPass is not null && !afterPass())
                break;
        }
        return done;
    }
}

/// <summary>
/// This rank's rows of a step's rollout: rows [<paramref name="Start"/>, Start + Count) of
/// <paramref name="Total"/>, and every row's response length (all ranks'), so the share of a
/// micro-batch's tokens on this rank is known without asking the others.
/// </summary>
public sealed record RolloutShard(int Start, int Count, int Total, int[] Lengths)
{
    public bool Holds(int row) => row >= Start && row < Start + Count;

    /// <summary>
    /// The weight of this rank's part of a loss over <paramref name="rows"/>: its share of their
    /// real tokens for a token mean, else its share of the rows (1 with one rank). Summed over the
    /// ranks, the weighted losses are the loss of the whole micro-batch.
    /// </summary>
    public double Weight(IReadOnlyList<int> rows, LossAggregation aggregation)
    {
        if (Count == Total)
            return 1;
        if (aggregation == LossAggregation.TokenMean)
        {
            long all = 0, mine = 0;
            foreach (var r in rows)
            {
                all += Lengths[r];
                if (Holds(r))
                    mine += Lengths[r];
            }
            return all == 0 ? 0 : (double)mine / all;
        }
        return (double)rows.Count(Holds) / rows.Count;
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

    /// <summary>
    /// Multiplies the micro-batch values added next: on several ranks, this rank's weight in the
    /// micro-batch, so that the values summed over the ranks are the micro-batch's (1 on one rank).
    /// </summary>
    public double Scale { get; set; } = 1;

    /// <summary>Adds a micro-batch's value of <paramref name="key"/>.</summary>
    public void Add(string key, double value) => _sums[key] = _sums.GetValueOrDefault(key) + (Scale == 1 ? value : value * Scale);

    /// <summary>Adds an optimizer step's value of <paramref name="key"/> (the same on every rank).</summary>
    public void AddPerStep(string key, double value)
    {
        _perStep.Add(key);
        _sums[key] = _sums.GetValueOrDefault(key) + value;
    }

    /// <summary>The means over the update, with the micro-batch values summed over the ranks first.</summary>
    public Dictionary<string, double> Means(DataParallel dp)
    {
        if (dp.Size == 1)
            return Means();
        var micro = dp.SumMetrics(_sums.Where(kv => !_perStep.Contains(kv.Key)).ToDictionary());
        var m = new Dictionary<string, double>();
        foreach (var (k, v) in micro)
            m[k] = v / _micros;
        foreach (var k in _perStep)
            m[k] = _sums[k] / _steps;
        return m;
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
