using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Export;

/// <summary>Shard sizes as Hugging Face's <c>max_shard_size</c> spells them: "5GB", "500MB", "200KB", "1000000" (bytes); powers of 1000.</summary>
public static partial class ShardSize
{
    public static long Parse(string text, string flag)
    {
        var m = SizePattern().Match(text.Trim());
        if (!m.Success)
            throw new ExportException($"{flag} '{text}' is not a size; write a whole number with an optional unit, e.g. 2GB, 500MB, 200KB or 1000000");
        long unit = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "KB" => 1000L,
            "MB" => 1000L * 1000,
            "GB" => 1000L * 1000 * 1000,
            _ => 1L,
        };
        if (!long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > long.MaxValue / unit)
            throw new ExportException($"{flag} '{text}' must be a positive size of at most {long.MaxValue / (1000L * 1000 * 1000)}GB");
        return n * unit;
    }

    [GeneratedRegex(@"^([0-9]+)\s*(B|KB|MB|GB)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();
}
