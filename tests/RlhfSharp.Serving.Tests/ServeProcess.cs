namespace RlhfSharp.Serving.Tests;

/// <summary><c>rlhf serve</c> as a separate process (<see cref="RlhfProcess"/>).</summary>
internal static class ServeProcess
{
    /// <summary>Starts <c>rlhf serve</c> with <paramref name="args"/> and waits until it listens.</summary>
    public static RlhfProcess Start(params string[] args) => RlhfProcess.StartServer(["serve", .. args]);

    /// <summary>Starts <c>rlhf serve</c> without waiting for it to listen (for runs expected to fail).</summary>
    public static RlhfProcess Launch(params string[] args) => RlhfProcess.Launch(["serve", .. args]);
}
