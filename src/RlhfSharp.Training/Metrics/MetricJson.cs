using System.Text.Json;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// How metric files spell doubles: finite values as JSON numbers (shortest round-trip form), and
/// NaN, +Inf and -Inf as the strings <c>"NaN"</c>, <c>"Infinity"</c> and <c>"-Infinity"</c>, which JSON
/// has no number for. These are the spellings of .NET's
/// <see cref="System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals"/>,
/// and the literals Python's <c>float()</c> accepts, so the files stay valid JSON and read back losslessly.
/// </summary>
internal static class MetricJson
{
    public const string NaN = "NaN";
    public const string PositiveInfinity = "Infinity";
    public const string NegativeInfinity = "-Infinity";

    public static void WriteDouble(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
            writer.WriteNumber(name, value);
        else
            writer.WriteString(name, double.IsNaN(value) ? NaN : value > 0 ? PositiveInfinity : NegativeInfinity);
    }

    public static double ToUnixSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;
}
