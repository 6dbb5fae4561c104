using System.Globalization;
using System.Text;

namespace RlhfSharp.Cli.Reporting;

/// <summary>Text and numbers as the report writes them: escaped for HTML/SVG, formatted in the invariant culture.</summary>
internal static class Html
{
    /// <summary>
    /// Escapes <c>&amp; &lt; &gt; " '</c> so model text (which may contain markup) shows as text; control
    /// characters other than tab and newline, which HTML cannot carry, become U+FFFD.
    /// </summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&':
                    sb.Append("&amp;");
                    break;
                case '<':
                    sb.Append("&lt;");
                    break;
                case '>':
                    sb.Append("&gt;");
                    break;
                case '"':
                    sb.Append("&quot;");
                    break;
                case '\'':
                    sb.Append("&#39;");
                    break;
                default:
                    sb.Append(char.IsControl(c) && c is not '\n' and not '\t' ? '\uFFFD' : c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A string safe in an id attribute and a URL fragment: letters, digits, '-' and '_'.</summary>
    public static string Id(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? char.ToLowerInvariant(c) : '-');
        return sb.ToString();
    }

    /// <summary>A metric value: 4 significant digits, or NaN / Infinity / -Infinity.</summary>
    public static string Value(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity" : v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>A fixed-point number, or an em dash for a missing one.</summary>
    public static string Fixed(double? v, int decimals) =>
        v is { } x && double.IsFinite(x) ? x.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "—";

    /// <summary>An SVG coordinate: one decimal, invariant culture.</summary>
    public static string Coord(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

    public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
}
