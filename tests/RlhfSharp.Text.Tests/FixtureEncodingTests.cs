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

    [Fact]
    public void Random_strings_match_the_reference_implementation()
    {
        int n = 0;
        foreach (var line in File.ReadLines(Fixtures.PathOf("random_reference.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var r = doc.RootElement;
            string text = r.GetProperty("text").GetString()!;
            int[] gpt2 = [.. r.GetProperty("gpt2").EnumerateArray().Select(e => e.GetInt32())];
            int[] qwen3 = [.. r.GetProperty("qwen3").EnumerateArray().Select(e => e.GetInt32())];
            Assert.Equal(gpt2, Fixtures.Gpt2.Encode(text));
            Assert.Equal(qwen3, Fixtures.Qwen3.Encode(text));
            n++;
        }
        Assert.Equal(303, n);
    }
}
