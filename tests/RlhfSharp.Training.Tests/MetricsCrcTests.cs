using System.Text;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Training.Tests;

public class MetricsCrcTests
{
    [Fact]
    public void Crc32C_MatchesStandardCheckValue()
    {
        var check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, Crc32C.Compute(check));
        Assert.Equal(0xE3069283u, EventFileReader.Crc32C(check));
    }

    // RFC 3720 (iSCSI), appendix B.4: CRC-32C test vectors.
    [Theory]
    [InlineData("zeros", 0x8A9136AAu)]
    [InlineData("ones", 0x62A8AB43u)]
    [InlineData("ascending", 0x46DD794Eu)]
    [InlineData("descending", 0x113FDB5Cu)]
    public void Crc32C_MatchesIscsiVectors(string pattern, uint expected)
    {
        var data = new byte[32];
        for (var i = 0; i < 32; i++)
        {
            data[i] = pattern switch
            {
                "zeros" => 0,
                "ones" => 0xFF,
                "ascending" => (byte)i,
                _ => (byte)(31 - i),
            };
        }
        Assert.Equal(expected, Crc32C.Compute(data));
    }

    [Fact]
    public void Crc32C_EmptyInputIsZero() => Assert.Equal(0u, Crc32C.Compute([]));

    [Fact]
    public void Mask_OfCheckValue_IsRotatedAndOffset()
    {
        // rotr15(0xE3069283) = 0x2507C60D; 0x2507C60D + 0xA282EAD8 = 0xC78AB0E5 (mod 2^32)
        Assert.Equal(0xC78AB0E5u, Crc32C.Mask(0xE3069283u));
        Assert.Equal(0xC78AB0E5u, Crc32C.ComputeMasked(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xA282EAD8u, Crc32C.ComputeMasked([]));
    }

    [Fact]
    public void TableAndBitwiseCrc_AgreeOnAssortedLengths()
    {
        var rng = new Random(7);
        foreach (var n in new[] { 1, 3, 8, 17, 129, 1000 })
        {
            var data = new byte[n];
            rng.NextBytes(data);
            Assert.Equal(EventFileReader.Crc32C(data), Crc32C.Compute(data));
        }
    }
}
