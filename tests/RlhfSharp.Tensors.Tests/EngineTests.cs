using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Tensors.Tests;

public class EngineTests
{
    [Fact]
    public void ThreadsRejectsZero()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Engine.Threads = 0);
    }
}
