using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Tests;

public class MetricsLoggerTests
{
    private sealed class RecordingSink(string name, List<string> log, bool fail = false) : IMetricSink
    {
        public void Log(long step, IReadOnlyDictionary<string, double> scalars)
        {
            log.Add($"{name}:log:{step}:{string.Join(",", scalars.Keys)}");
            if (fail)
                throw new InvalidOperationException(name);
        }

        public void LogText(long step, string tag, string text) => log.Add($"{name}:text:{step}:{tag}");

        public void Flush() => log.Add($"{name}:flush");

        public void Dispose() => log.Add($"{name}:dispose");
    }

    [Fact]
    public void FansOutToEverySinkInOrder()
    {
        var log = new List<string>();
        using (var logger = new MetricLogger(new RecordingSink("a", log), new RecordingSink("b", log)))
        {
            logger.Log(3, MetricNames.Train.Loss, 1.0);
            logger.LogText(3, "samples/generation", "hi");
            logger.Flush();
        }
        Assert.Equal(
            ["a:log:3:train/loss", "b:log:3:train/loss", "a:text:3:samples/generation", "b:text:3:samples/generation", "a:flush", "b:flush", "a:dispose", "b:dispose"],
            log);
    }

    [Fact]
    public void FailingSink_DoesNotStopOthers()
    {
        var log = new List<string>();
        using var logger = new MetricLogger(new RecordingSink("a", log, fail: true), new RecordingSink("b", log));
        var ex = Assert.Throws<InvalidOperationException>(() => logger.Log(1, MetricNames.Objective.Kl, 0.1));
        Assert.Equal("a", ex.Message);
        Assert.Contains("b:log:1:objective/kl", log);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/loss")]
    [InlineData("train//loss")]
    [InlineData("train/loss/")]
    [InlineData(" train/loss")]
    [InlineData("step")]
    public void BadNames_AreRejectedBeforeAnySinkSeesThem(string name)
    {
        var log = new List<string>();
        using var logger = new MetricLogger(new RecordingSink("a", log));
        var ex = Assert.Throws<ArgumentException>(() => logger.Log(1, name, 1.0));
        Assert.Contains("train/loss", ex.Message); // suggests a good name
        Assert.DoesNotContain(log, l => l.Contains(":log:", StringComparison.Ordinal));
    }

    [Fact]
    public void NegativeStep_IsRejected()
    {
        using var logger = new MetricLogger();
        Assert.Throws<ArgumentOutOfRangeException>(() => logger.Log(-1, "train/loss", 1));
    }

    [Fact]
    public void Console_PrintsFirstStepThenEveryNAndPendingOnDispose()
    {
        var writer = new StringWriter { NewLine = "\n" };
        using (var sink = new ConsoleMetricSink(writer, everySteps: 10, keys: [MetricNames.Train.Loss, MetricNames.Objective.Kl]))
        {
            for (var step = 1; step <= 23; step++)
                sink.Log(step, new Dictionary<string, double> { ["objective/kl"] = step / 1000.0, ["train/loss"] = 1.0 / step, ["other"] = 5 });
        }
        Assert.Equal(
            "step 1 | train/loss 1 | objective/kl 0.001\n"
            + "step 10 | train/loss 0.1 | objective/kl 0.01\n"
            + "step 20 | train/loss 0.05 | objective/kl 0.02\n"
            + "step 23 | train/loss 0.04348 | objective/kl 0.023\n",
            writer.ToString());
    }

    [Fact]
    public void Console_SparseStepsStillPrint()
    {
        var writer = new StringWriter { NewLine = "\n" };
        using (var sink = new ConsoleMetricSink(writer, everySteps: 10))
        {
            foreach (var step in new long[] { 3, 13, 14, 23 })
                sink.Log(step, new Dictionary<string, double> { ["train/loss"] = double.NaN });
        }
        Assert.Equal("step 3 | train/loss NaN\nstep 13 | train/loss NaN\nstep 23 | train/loss NaN\n", writer.ToString());
    }

    [Fact]
    public void Console_TextOnlyWhenAsked()
    {
        var quiet = new StringWriter();
        using (var sink = new ConsoleMetricSink(quiet))
            sink.LogText(1, "samples/x", "hello");
        Assert.Equal("", quiet.ToString());

        var loud = new StringWriter { NewLine = "\n" };
        using (var sink = new ConsoleMetricSink(loud, showText: true))
            sink.LogText(1, "samples/x", "a\nb");
        Assert.Equal("step 1 | samples/x: a\\nb\n", loud.ToString());
    }
}
