namespace RlhfSharp.Bench.Tests;

/// <summary>Reading what the PyTorch peers print, without running them.</summary>
public sealed class PeerOutputTests
{
    [Fact]
    public void EachNonBlankLineIsOneJsonObject()
    {
        var lines = TorchPeer.JsonLines("{\"a\":1}\n\n  {\"b\":2}  \n", "torch_lm.py");
        Assert.Equal(2, lines.Count);
        Assert.Equal(2, lines[1].GetProperty("b").GetInt32());
    }

    [Fact]
    public void ALineThatIsNotJsonNamesTheScriptAndTheLine()
    {
        var e = Assert.Throws<PeerOutputException>(() => TorchPeer.JsonLines("{\"a\":1}\nWarning: OpenBLAS was built for another CPU\n", "torch_lm.py"));
        Assert.Contains("torch_lm.py", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("Warning: OpenBLAS", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALineThatIsJsonButNotAnObjectIsRefused()
    {
        var e = Assert.Throws<PeerOutputException>(() => TorchPeer.JsonLines("[1, 2]", "torch_lm.py"));
        Assert.Contains("line 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("Array", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimesAreReadFromTimesMs()
    {
        var line = TorchPeer.JsonLines("{\"mode\":\"train\",\"times_ms\":[12.5,10,11]}", "p")[0];
        Assert.Equal([12.5, 10, 11], TorchPeer.Times(line, "p"));
    }

    [Theory]
    [InlineData("{\"mode\":\"train\"}", "no \"times_ms\"")]
    [InlineData("{\"times_ms\":\"12\"}", "no \"times_ms\"")]
    [InlineData("{\"times_ms\":[]}", "is empty")]
    [InlineData("{\"times_ms\":[3,0]}", "\"times_ms\"[1] is 0")]
    [InlineData("{\"times_ms\":[3,null]}", "\"times_ms\"[1] is null")]
    public void MissingOrBadTimesSayWhatIsWrong(string json, string expected)
    {
        var line = TorchPeer.JsonLines(json, "torch_lm.py")[0];
        var e = Assert.Throws<PeerOutputException>(() => TorchPeer.Times(line, "torch_lm.py"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("torch_lm.py:", e.Message, StringComparison.Ordinal);
    }
}
