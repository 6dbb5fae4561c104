using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Tests;

public class MetricsTensorBoardTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_763_755_515_250);

    [Fact]
    public void FileName_HasUnixSecondsAndHost()
    {
        using var dir = new TempDir();
        using var sink = new TensorBoardSink(dir.Path, clock: new ManualClock(Start), hostName: "box-1");
        Assert.Equal("events.out.tfevents.1763755515.box-1", Path.GetFileName(sink.FilePath));
    }

    [Fact]
    public void SameSecondInSameFolder_GetsDistinctFiles()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        using var a = new TensorBoardSink(dir.Path, clock: clock, hostName: "h");
        using var b = new TensorBoardSink(dir.Path, clock: clock, hostName: "h");
        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*tfevents*").Length);
    }

    [Fact]
    public void Scalars_ReadBackWithIndependentReader()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(Start);
        string path;
        var steps = new (long Step, Dictionary<string, double> Scalars)[]
        {
            (0, new() { ["train/loss"] = 2.5, ["objective/kl"] = 0.0 }),
            (1, new() { ["train/loss"] = -1.25, ["objective/kl"] = 1e30, ["rewards/margins"] = -3.75e-5 }),
            (7, new() { ["train/loss"] = double.NaN, ["objective/kl"] = double.PositiveInfinity, ["rewards/margins"] = 1e39 }),
            (5_000_000_000, new() { ["train/loss"] = 0.1 }),
        };
        using (var sink = new TensorBoardSink(dir.Path, clock: clock, hostName: "h"))
        {
            path = sink.FilePath;
            foreach (var (step, scalars) in steps)
            {
                clock.Now = clock.Now.AddSeconds(1);
                sink.Log(step, scalars);
            }
        }

        var events = EventFileReader.ReadEvents(path);
        Assert.Equal(2 + steps.Length, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(1_763_755_515.25, events[0].WallTime);
        Assert.Empty(events[0].Values);
        Assert.Equal(1, events[1].SessionStatus); // SessionLog.START at step 0 for a fresh run
        Assert.Equal(0, events[1].Step);
        for (var i = 0; i < steps.Length; i++)
        {
            var e = events[i + 2];
            Assert.Null(e.FileVersion);
            Assert.Equal(steps[i].Step, e.Step);
            Assert.Equal(1_763_755_515.25 + i + 1, e.WallTime);
            Assert.Equal(steps[i].Scalars.Keys, e.Values.Select(v => v.Tag));
            foreach (var v in e.Values)
                Assert.Equal((float)steps[i].Scalars[v.Tag], v.SimpleValue);
        }
        // 1e39 overflows float32; the documented result is +Inf
        Assert.Equal(float.PositiveInfinity, events[4].Values[2].SimpleValue);
        Assert.True(float.IsNaN(events[4].Values[0].SimpleValue!.Value));
    }

    [Fact]
    public void EmptyScalars_WriteNoRecord()
    {
        using var dir = new TempDir();
        string path;
        using (var sink = new TensorBoardSink(dir.Path, clock: new ManualClock(Start), hostName: "h"))
        {
            path = sink.FilePath;
            sink.Log(3, new Dictionary<string, double>());
        }
        Assert.Equal(2, EventFileReader.ReadEvents(path).Count); // file_version and session start only
    }

    [Fact]
    public void Text_IsStringTensorForTextPlugin()
    {
        using var dir = new TempDir();
        string path;
        using (var sink = new TensorBoardSink(dir.Path, clock: new ManualClock(Start), hostName: "h"))
        {
            path = sink.FilePath;
            sink.LogText(4, "samples/generation", "Q: 2+2?\nA: 4 ✓");
        }
        var e = EventFileReader.ReadEvents(path)[2];
        Assert.Equal(4, e.Step);
        var v = Assert.Single(e.Values);
        Assert.Equal("samples/generation", v.Tag);
        Assert.Null(v.SimpleValue);
        Assert.Equal("text", v.PluginName);
        Assert.Equal(2, v.DataClass);  // DATA_CLASS_TENSOR
        Assert.Equal(7, v.Dtype);      // DT_STRING
        Assert.Equal([1L], v.ShapeDims);
        Assert.Equal(["Q: 2+2?\nA: 4 ✓"], v.Strings);
    }

    [Fact]
    public void Resume_WritesSessionStartAfterResumeStep()
    {
        using var dir = new TempDir();
        string path;
        using (var sink = new TensorBoardSink(dir.Path, resumeFromStep: 40, clock: new ManualClock(Start), hostName: "h"))
        {
            path = sink.FilePath;
            sink.Log(41, new Dictionary<string, double> { ["train/loss"] = 1 });
        }
        var events = EventFileReader.ReadEvents(path);
        Assert.Equal(3, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(1, events[1].SessionStatus); // SessionLog.START
        Assert.Equal(41, events[1].Step);
        Assert.Equal(41, events[2].Step);
    }

    [Fact]
    public void EveryLoggedEvent_IsReadableBeforeDispose()
    {
        using var dir = new TempDir();
        using var sink = new TensorBoardSink(dir.Path, clock: new ManualClock(Start), hostName: "h");
        sink.Log(1, new Dictionary<string, double> { ["train/loss"] = 1 });
        sink.Log(2, new Dictionary<string, double> { ["train/loss"] = 0.5 });
        using var reader = new FileStream(sink.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[reader.Length];
        reader.ReadExactly(bytes);
        Assert.Equal(4, EventFileReader.ReadRecords(bytes).Count);
    }

    [Fact]
    public void CorruptingAnyByte_IsDetectedByCrc()
    {
        using var dir = new TempDir();
        string path;
        using (var sink = new TensorBoardSink(dir.Path, clock: new ManualClock(Start), hostName: "h"))
        {
            path = sink.FilePath;
            sink.Log(1, new Dictionary<string, double> { ["train/loss"] = 1.5, ["objective/kl"] = -0.25 });
            sink.LogText(1, "samples/text", "hello");
        }
        var original = File.ReadAllBytes(path);
        Assert.Equal(4, EventFileReader.ReadRecords(original).Count);
        for (var i = 0; i < original.Length; i++)
        {
            var corrupt = (byte[])original.Clone();
            corrupt[i] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => EventFileReader.ReadRecords(corrupt));
        }
    }
}
