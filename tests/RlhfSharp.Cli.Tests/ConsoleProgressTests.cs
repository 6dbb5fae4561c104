namespace RlhfSharp.Cli.Tests;

/// <summary>The console progress line: stage, bar, ETA and the key metrics.</summary>
public sealed class ConsoleProgressTests
{
    [Fact]
    public void RedirectedOutputGetsAPlainLineEveryTenthOfTheRun()
    {
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, interactive: false);
        progress.Begin("ppo 3/6", 20, 0);
        for (int step = 1; step <= 20; step++)
            progress.Update(step, new Dictionary<string, double> { ["objective/scores"] = step / 10.0, ["objective/kl"] = 0.25, ["time/update"] = 1 });
        progress.End();

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[ppo 3/6] 20 steps", lines[0]);
        Assert.InRange(lines.Length, 10, 13);
        Assert.Matches(@"^\[ppo 3/6\] #{24} 20/20 ETA 0:00 objective/scores 2 objective/kl 0\.25$", lines[^2]);
        Assert.Matches(@"^\[ppo 3/6\] #{12}\.{12} 10/20 ETA \d+:\d\d ", lines.Single(l => l.Contains(" 10/20 ", StringComparison.Ordinal)));
        Assert.DoesNotContain("time/update", output.ToString()); // only the key metrics
        Assert.StartsWith("[ppo 3/6] done in ", lines[^1]);
    }

    [Fact]
    public void ATerminalGetsOneLineRedrawnInPlace()
    {
        var output = new StringWriter();
        var progress = new ConsoleProgress(output, interactive: true);
        progress.Begin("grpo", 4, 0);
        for (int step = 1; step <= 4; step++)
            progress.Update(step, new Dictionary<string, double> { ["reward"] = 0.5, ["kl"] = 0.01 });
        progress.Message("evaluated");
        progress.End();
        var text = output.ToString();
        Assert.Equal(4, text.Split("\r[grpo] ").Length - 1);
        Assert.Contains("\r[grpo] ######################## 4/4 ETA 0:00 reward 0.5 kl 0.01\u001b[K", text);
        Assert.Contains("\r\u001b[K[grpo] evaluated\n", text);
    }
}
