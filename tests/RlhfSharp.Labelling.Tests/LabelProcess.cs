namespace RlhfSharp.Labelling.Tests;

/// <summary><c>rlhf label --judge human</c> as a separate process (<see cref="RlhfProcess"/>).</summary>
internal static class LabelProcess
{
    /// <summary>Starts <c>rlhf label --judge human</c> with <paramref name="args"/> and waits until it listens.</summary>
    public static RlhfProcess Start(params string[] args) => RlhfProcess.StartServer(["label", "--judge", "human", .. args]);
}
