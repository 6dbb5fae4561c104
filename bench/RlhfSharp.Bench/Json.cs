using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RlhfSharp.Bench;

/// <summary>Builds one flat JSON object, written as a single line (the benchmark output format).</summary>
public sealed class JsonLine
{
    private readonly StringBuilder _sb = new("{");
    private bool _first = true;

    public JsonLine Add(string key, string value) => Raw(key, JsonSerializer.Serialize(value));

    public JsonLine Add(string key, long value) => Raw(key, value.ToString(CultureInfo.InvariantCulture));

    public JsonLine Add(string key, bool value) => Raw(key, value ? "true" : "false");

    // Rounded to `digits` decimals; NaN and infinities become null.
    public JsonLine Add(string key, double value, int digits = 3) =>
        Raw(key, double.IsFinite(value) ? Math.Round(value, digits).ToString("R", CultureInfo.InvariantCulture) : "null");

    private JsonLine Raw(string key, string json)
    {
        if (!_first)
            _sb.Append(',');
        _first = false;
        _sb.Append(JsonSerializer.Serialize(key)).Append(':').Append(json);
        return this;
    }

    public override string ToString() => _sb.ToString() + "}";

    // Prints the object as one line on stdout and flushes, so a reader sees it at once.
    public void WriteLine()
    {
        Console.Out.WriteLine(ToString());
        Console.Out.Flush();
    }
}
