namespace RlhfSharp.Bench.Tests;

/// <summary>Allocation counting, alone: the count covers every thread, so no other test may run meanwhile.</summary>
[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
[Collection(nameof(AllocationTests))]
public sealed class AllocationTests
{
    [Fact]
    public void TheMeterCountsAllocationsPerRun()
    {
        var meter = new GcPerRun.Meter();
        byte[]? keep = null;
        for (int i = 0; i < 4; i++)
            Assert.True(meter.Time(() => keep = new byte[1 << 20]) >= 0);
        Assert.NotNull(keep);
        var per = meter.PerRun;
        // Each run allocated its megabyte (and a little more at most); the total is divided by the runs.
        Assert.InRange(per.AllocatedBytes, 1 << 20, 2 << 20);
        Assert.True(per.Gen0 >= per.Gen1 && per.Gen1 >= per.Gen2);
    }
}
