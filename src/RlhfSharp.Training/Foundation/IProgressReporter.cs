namespace RlhfSharp.Training.Foundation;

/// <summary>Where a trainer reports its progress: a console progress bar, a log, or nothing.</summary>
public interface IProgressReporter
{
    /// <summary>A stage begins (e.g. "sft") with this many optimizer steps, from <paramref name="startStep"/> when resuming.</summary>
    void Begin(string stage, long totalSteps, long startStep);

    /// <summary>Progress to <paramref name="step"/>, with the latest metrics worth showing.</summary>
    void Update(long step, IReadOnlyDictionary<string, double> metrics);

    /// <summary>A one-line message (evaluation results, checkpoint written…).</summary>
    void Message(string text);

    void End();
}

/// <summary>Reports nothing (tests, library use).</summary>
public sealed class NullProgress : IProgressReporter
{
    public static NullProgress Instance { get; } = new();

    public void Begin(string stage, long totalSteps, long startStep)
    {
    }

    public void Update(long step, IReadOnlyDictionary<string, double> metrics)
    {
    }

    public void Message(string text)
    {
    }

    public void End()
    {
    }
}
