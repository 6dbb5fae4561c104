using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>C's strftime as Python calls it (C locale), with glibc's <c>%-d</c> flag that drops padding.</summary>
internal static class Strftime
{
    public static string Format(DateTime t, string format)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            bool unpadded = format[i + 1] == '-' && i + 2 < format.Length;
            char d = format[i + (unpadded ? 2 : 1)];
            i += unpadded ? 2 : 1;
            string Num(int v, int width) => unpadded ? v.ToString(c) : v.ToString(new string('0', width), c);
            sb.Append(d switch
            {
                'Y' => t.Year.ToString(c),
                'y' => Num(t.Year % 100, 2),
                'm' => Num(t.Month, 2),
                'd' => Num(t.Day, 2),
                'e' => unpadded ? t.Day.ToString(c) : t.Day.ToString(c).PadLeft(2),
                'H' => Num(t.Hour, 2),
                'I' => Num(t.Hour % 12 == 0 ? 12 : t.Hour % 12, 2),
                'M' => Num(t.Minute, 2),
                'S' => Num(t.Second, 2),
                'j' => Num(t.DayOfYear, 3),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'a' => t.ToString("ddd", c),
                'A' => t.ToString("dddd", c),
                'b' or 'h' => t.ToString("MMM", c),
                'B' => t.ToString("MMMM", c),
                'F' => t.ToString("yyyy-MM-dd", c),
                'T' => t.ToString("HH:mm:ss", c),
                '%' => "%",
                _ => "%" + (unpadded ? "-" : "") + d,
            });
        }
        return sb.ToString();
    }
}
