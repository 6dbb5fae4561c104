using System.Diagnostics;
using System.Globalization;
using System.Text;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Cli;

/// <summary>
/// Progress on the console: on a terminal, one line redrawn in place with a bar, the ETA and the
/// latest key metrics; when the output is redirected (logs, CI), a plain line every tenth of the
/// run so the log stays short.
/// </summary>
public sealed class ConsoleProgress(TextWriter output, bool interactive) : IProgressReporter
{
    // The few numbers that say whether a stage is going well: losses and accuracies for SFT, RM and
    // DPO; proxy score (PPO objective/scores, GRPO reward), gold score and KL for the RL stages.
    private static readonly string[] Keys = ["train/loss", "eval/loss", "eval/accuracy", "rewards/accuracies", "objective/scores", "reward", "objective/gold_score", "objective/kl", "kl", "eval/gold_score"];

    private readonly Dictionary<string, double> _latest = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = new();
    private string _stage = "";
    private long _total; // 0 until Begin
    private long _start;
    private long _lastPrinted = -1;

    public static ConsoleProgress ForConsole(TextWriter output) =>
        new(output, ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);

    public void Begin(string stage, long totalSteps, long startStep)
    {
        _stage = stage;
        _total = Math.Max(totalSteps, 1);
        _start = startStep;
        _latest.Clear();
        _clock.Restart();
        output.WriteLine(startStep > 0 ? $"[{stage}] resuming at step {startStep} of {totalSteps}" : $"[{stage}] {totalSteps} steps");
    }

    public void Update(long step, IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var (k, v) in metrics)
            _latest[k] = v;
        if (_total == 0)
            return;
        if (interactive)
        {
            output.Write("\r" + Line(step) + "\u001b[K");
            return;
        }
        long bucket = step * 10 / _total;
        if (bucket != _lastPrinted || step == _total)
        {
            _lastPrinted = bucket;
            output.WriteLine(Line(step));
        }
    }

    public void Message(string text)
    {
        if (interactive)
            output.Write("\r\u001b[K");
        // Messages before a stage begins (a resume skipping a damaged checkpoint) carry no stage tag.
        output.WriteLine(_stage.Length == 0 ? text : $"[{_stage}] {text}");
    }

    public void End()
    {
        if (interactive)
            output.WriteLine();
        output.WriteLine($"[{_stage}] done in {Format(_clock.Elapsed)}");
    }

    private string Line(long step)
    {
        double done = (double)(step - _start) / Math.Max(_total - _start, 1);
        var eta = done > 0 ? TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds * (1 - done) / done) : TimeSpan.Zero;
        const int width = 24;
        int filled = (int)Math.Round(width * step / (double)_total);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"[{_stage}] {new string('#', filled)}{new string('.', width - filled)} {step}/{_total} ETA {Format(eta)}");
        foreach (var k in Keys)
        {
            if (_latest.TryGetValue(k, out var v))
                sb.Append(CultureInfo.InvariantCulture, $" {k} {v:G4}");
        }
        return sb.ToString();
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
