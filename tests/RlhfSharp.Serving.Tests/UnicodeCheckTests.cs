using System.Text;

namespace RlhfSharp.Serving.Tests;

/// <summary>The request bodies' Unicode check on its own: which field it names, and what it lets through.</summary>
public sealed class UnicodeCheckTests
{
    [Theory]
    [InlineData("""{"a": "\ud800"}""", "a")]
    [InlineData("""{"a": {"b": [1, "x", {"c": "\udc00"}]}}""", "a.b[2].c")]
    [InlineData("""[[], ["ok", "\ud800\ud800"]]""", "[1][1]")]
    [InlineData("""{"list": [{"x": 1}, {"y": [true, null, "\udbff"]}]}""", "list[1].y[2]")]
    public void ALoneSurrogateIsRefusedWithItsPath(string json, string param)
    {
        var e = Assert.Throws<ApiError>(() => JsonApi.CheckUnicode(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(400, e.Status);
        Assert.Equal("invalid_unicode", e.Code);
        Assert.Equal(param, e.Param);
    }

    [Fact]
    public void ABadKeyNamesTheObjectThatHoldsIt()
    {
        var inner = Assert.Throws<ApiError>(() => JsonApi.CheckUnicode(Encoding.UTF8.GetBytes("""{"ratings": {"\ud800": 1}}""")));
        var top = Assert.Throws<ApiError>(() => JsonApi.CheckUnicode(Encoding.UTF8.GetBytes("""{"\ud800": 1}""")));

        Assert.Equal("ratings", inner.Param);
        Assert.Contains("a key in ratings", inner.Message);
        Assert.Null(top.Param);
        Assert.Contains("a key in the body", top.Message);
    }

    [Fact]
    public void InvalidUtf8InAStringIsRefusedWithItsPath()
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("""{"note": "a"""), 0xED, 0xA0, 0x80, .. Encoding.UTF8.GetBytes("\"}")]; // UTF-8 of a surrogate: not allowed

        var e = Assert.Throws<ApiError>(() => JsonApi.CheckUnicode(body));

        Assert.Equal("note", e.Param);
    }

    [Theory]
    [InlineData("""{"a": "\ud83d\ude00 caf\u00e9", "b": ["日本", 1.5, null, {"c": "ok"}]}""")]
    [InlineData("""{"a": """)] // not JSON: left to the parser
    [InlineData("")]
    public void ValidTextAndBodiesThatAreNotJsonPass(string json)
    {
        JsonApi.CheckUnicode(Encoding.UTF8.GetBytes(json));
    }
}
