using RlhfSharp.Tensors.Kernels;
using static RlhfSharp.Tensors.Tests.FunctionalTestUtil;

namespace RlhfSharp.Tensors.Tests;

/// <summary>
/// Decode attention when the process's thread count changes under a caller: a decoder sizes its
/// score scratch once, and another caller in the same process may raise Engine.Threads later.
/// </summary>
[Collection(GlobalEngineStateCollection.Name)]
public class AttendThreadCountTests
{
    [Fact]
    public void ScratchSizedForFewerThreadsThanNowSetGivesTheSameBits()
    {
        int b = 8, h = 8, hkv = 2, d = 32, cap = 40, len = 40; // 2·b·h·len·d multiply-adds: above the parallel threshold
        var q = Randn(50, b, h, 1, d).ToArray();
        var kc = Randn(51, b, hkv, cap, d);
        var vc = Randn(52, b, hkv, cap, d);
        int saved = Engine.Threads;
        try
        {
            Engine.Threads = 1;
            var one = new float[b * h * d];
            DecodeKernels.Attend(q, 0, h * d, h, kc, vc, len, null, 0, one, new float[cap]);
            foreach (int scratchThreads in new[] { 1, 2, 3 })
            {
                Engine.Threads = 4; // raised after the scratch was sized for scratchThreads
                var y = new float[b * h * d];
                DecodeKernels.Attend(q, 0, h * d, h, kc, vc, len, null, 0, y, new float[scratchThreads * cap]);
                Assert.Equal(one, y);
            }
            var e = Assert.Throws<ArgumentException>(() => DecodeKernels.Attend(q, 0, h * d, h, kc, vc, len, null, 0, new float[b * h * d], new float[cap - 1]));
            Assert.Contains($"at least {cap} scores", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Engine.Threads = saved;
        }
    }
}
