using System.Diagnostics;
using System.Threading.Channels;
using RlhfSharp.Tensors;

namespace RlhfSharp.Serving;

/// <summary>
/// The one thread that runs the model. Requests wait in a channel; each round the worker takes
/// everything queued, picks the oldest request and generates it together with up to
/// <c>maxBatch − 1</c> later requests that have the same sampling settings, in one
/// <see cref="ChatModel.Generate"/> call. Requests that arrive while a batch runs wait for a later
/// round. A sampled request with a seed of its own is generated alone, so its seed alone decides
/// its answer.
/// </summary>
internal sealed class BatchWorker
{
    private readonly ChatModel _model;
    private readonly int _maxBatch;
    private readonly Generator _seeds;
    private readonly TextWriter? _log;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _solo;
    private long _batches;

    public BatchWorker(ChatModel model, int maxBatch, ulong seed, TextWriter? log)
    {
        _model = model;
        _maxBatch = maxBatch;
        _seeds = new Generator(seed);
        _log = log;
        _thread = new Thread(Run) { IsBackground = true, Name = "rlhf-serve-worker" };
    }

    public void Start() => _thread.Start();

    /// <summary>
    /// Queues a request; the task completes with its answer (or the generation's exception). With
    /// <paramref name="onText"/> the answer's text also comes piece by piece, on the worker thread, as
    /// it is drawn. When <paramref name="aborted"/> fires, the request leaves the queue or, once
    /// generating, stops (finish reason "cancelled"); a batch whose requests have all stopped ends.
    /// </summary>
    public Task<Completion> Submit(int[] promptIds, SamplingSettings sampling, long? seed, CancellationToken aborted, Action<string>? onText = null)
    {
        string key = sampling.Greedy ? sampling.GroupKey
            : seed is null ? "sampled\u0000" + sampling.GroupKey
            : $"seeded\u0000{Interlocked.Increment(ref _solo)}";
        var pending = new Pending(promptIds, sampling, seed, key, aborted, onText);
        if (!_queue.Writer.TryWrite(pending))
            pending.Result.TrySetException(new ApiError(503, "The server is shutting down.", null, "shutting_down", "server_error"));
        return pending.Result.Task;
    }

    /// <summary>Stops taking requests, answers the queued ones, and waits for the thread to end.</summary>
    public Task StopAsync()
    {
        _queue.Writer.TryComplete();
        return _finished.Task;
    }

    private void Run()
    {
        var backlog = new List<Pending>();
        try
        {
            while (true)
            {
                if (backlog.Count == 0 && !_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                    break;
                while (_queue.Reader.TryRead(out var next))
                    backlog.Add(next);
                backlog.RemoveAll(p => p.Aborted.IsCancellationRequested && p.Result.TrySetCanceled(p.Aborted));
                if (backlog.Count == 0)
                    continue;
                string key = backlog[0].Key;
                var batch = backlog.Where(p => p.Key == key).Take(_maxBatch).ToList();
                backlog.RemoveAll(batch.Contains);
                RunBatch(batch);
            }
        }
        finally
        {
            _finished.TrySetResult();
        }
    }

    private void RunBatch(List<Pending> batch)
    {
        var first = batch[0];
        var rng = first.Sampling.Greedy ? new Generator(0)
            : first.Seed is long s ? new Generator(unchecked((ulong)s))
            : new Generator(_seeds.NextUInt64());
        var clock = Stopwatch.StartNew();
        try
        {
            var results = _model.Generate([.. batch.Select(p => p.PromptIds)], first.Sampling, rng,
                [.. batch.Select(p => new RowWatcher(p.OnText, p.Aborted))]);
            int cancelled = results.Count(r => r.FinishReason == Completion.Cancelled);
            _log?.WriteLine($"batch {++_batches}: {batch.Count} request(s), prompts up to {batch.Max(p => p.PromptIds.Length)} tokens, " +
                $"{results.Max(r => r.CompletionTokens)} new tokens, {clock.Elapsed.TotalMilliseconds:F0} ms" +
                (cancelled > 0 ? $", {cancelled} cancelled by the client" : ""));
            for (int i = 0; i < batch.Count; i++)
                batch[i].Result.TrySetResult(results[i]);
        }
        catch (Exception e)
        {
            foreach (var p in batch)
                p.Result.TrySetException(e);
        }
    }

    private sealed class Pending(int[] promptIds, SamplingSettings sampling, long? seed, string key, CancellationToken aborted, Action<string>? onText)
    {
        public Action<string>? OnText { get; } = onText;

        public int[] PromptIds { get; } = promptIds;

        public SamplingSettings Sampling { get; } = sampling;

        public long? Seed { get; } = seed;

        public string Key { get; } = key;

        public CancellationToken Aborted { get; } = aborted;

        public TaskCompletionSource<Completion> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
