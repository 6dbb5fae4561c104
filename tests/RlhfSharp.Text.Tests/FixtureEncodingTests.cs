namespace RlhfSharp.Text.Tests;

public class FixtureEncodingTests
{
    [Theory]
    [MemberData(nameof(Fixtures.ExpectedIndices), MemberType = typeof(Fixtures))]
    public void Gpt2_encodes_expected_ids(int index)
    {
        var c = Fixtures.Expected[index];
        Assert.Equal(c.Gpt2, Fixtures.Gpt2.Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(Fixtures.ExpectedIndices), MemberType = typeof(Fixtures))]
    public void Qwen3_encodes_expected_ids(int index)
    {
        var c = Fixtures.Expected[index];
        Assert.Equal(c.Qwen3, Fixtures.Qwen3.Encode(c.Text));
    }

    [Theory]
    [MemberData(nameof(Fixtures.ExpectedIndices), MemberType = typeof(Fixtures))]
    public void Decode_inverts_encode_on_fixture_texts(int index)
    {
        var c = Fixtures.Expected[index];
        Assert.Equal(c.Text, Fixtures.Gpt2.Decode(Fixtures.Gpt2.Encode(c.Text)));
        Assert.Equal(c.Text, Fixtures.Qwen3.Decode(Fixtures.Qwen3.Encode(c.Text)));
        Assert.Equal(c.Text, Fixtures.Gpt2.Decode(c.Gpt2));
        Assert.Equal(c.Text, Fixtures.Qwen3.Decode(c.Qwen3));
    }
}
