using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Converts YAML scalars to config values and back, following the YAML 1.2 core schema:
/// <c>true</c>/<c>false</c>, decimal or <c>0x</c>/<c>0o</c> integers, floats such as <c>1e-4</c>,
/// <c>.inf</c> and <c>.nan</c>, and <c>null</c>/<c>~</c>/empty for null (plain scalars only).
/// The target type decides how a scalar is read, so <c>model: 1e-4</c> is the string "1e-4".
/// Enums are written as snake_case names and read case-insensitively, underscores optional.
/// </summary>
internal static partial class ScalarText
{
    public static bool IsScalarType(Type type) =>
        type == typeof(string) || type == typeof(int) || type == typeof(long) || type == typeof(float)
        || type == typeof(double) || type == typeof(bool) || type.IsEnum;

    /// <summary>True for a plain scalar that YAML reads as null.</summary>
    public static bool IsNull(string text, bool plain) =>
        plain && text is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The type as error messages and docs name it: "an integer", "a float"...</summary>
    public static string Describe(Type type) => type switch
    {
        _ when type == typeof(string) => "a string",
        _ when type == typeof(int) => "an integer (32-bit)",
        _ when type == typeof(long) => "an integer (64-bit)",
        _ when type == typeof(float) => "a number (float)",
        _ when type == typeof(double) => "a number (double)",
        _ when type == typeof(bool) => "true or false",
        _ when type.IsEnum => $"one of {string.Join(", ", EnumNames(type))}",
        _ => type.Name,
    };

    /// <summary>The short type name docs show: int, float, bool, enum...</summary>
    public static string ShortName(Type type) => type switch
    {
        _ when type == typeof(string) => "string",
        _ when type == typeof(int) => "int",
        _ when type == typeof(long) => "long",
        _ when type == typeof(float) => "float",
        _ when type == typeof(double) => "double",
        _ when type == typeof(bool) => "bool",
        _ when type.IsEnum => string.Join("|", EnumNames(type)),
        _ => type.Name,
    };

    /// <summary>Parses a non-null scalar into <paramref name="type"/>; false when the text does not fit.</summary>
    public static bool TryParse(string text, Type type, out object? value)
    {
        value = null;
        if (type == typeof(string))
        {
            value = text;
            return true;
        }
        if (type == typeof(bool))
        {
            switch (text)
            {
                case "true" or "True" or "TRUE":
                    value = true;
                    return true;
                case "false" or "False" or "FALSE":
                    value = false;
                    return true;
                default:
                    return false;
            }
        }
        if (type == typeof(int) || type == typeof(long))
        {
            if (!TryParseInteger(text, out long integer))
            {
                return false;
            }
            if (type == typeof(int))
            {
                if (integer is < int.MinValue or > int.MaxValue)
                {
                    return false;
                }
                value = (int)integer;
                return true;
            }
            value = integer;
            return true;
        }
        if (type == typeof(float) || type == typeof(double))
        {
            if (!TryParseFloat(text, out double number))
            {
                return false;
            }
            if (type == typeof(float))
            {
                float single = (float)number;
                if (float.IsInfinity(single) && !double.IsInfinity(number))
                {
                    return false; // finite text beyond float's range
                }
                value = single;
                return true;
            }
            value = number;
            return true;
        }
        if (type.IsEnum)
        {
            string wanted = Normalize(text);
            foreach (object member in Enum.GetValues(type))
            {
                if (Normalize(member.ToString()!) == wanted)
                {
                    value = member;
                    return true;
                }
            }
            return false;
        }
        return false;
    }

    /// <summary>Writes a value so that <see cref="TryParse"/> reads it back to the same value.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => Quote(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        float f => FormatFloat(f, f.ToString("R", CultureInfo.InvariantCulture)),
        double d => FormatFloat(d, d.ToString("R", CultureInfo.InvariantCulture)),
        Enum e => SnakeCase(e.ToString()),
        _ => throw new InvalidOperationException($"{value.GetType().Name} is not a config scalar."),
    };

    /// <summary>PascalCase to snake_case: <c>CosineWithRestarts</c> → <c>cosine_with_restarts</c>.</summary>
    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
                    || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (boundary)
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    public static IEnumerable<string> EnumNames(Type type) =>
        Enum.GetNames(type).Select(SnakeCase);

    /// <summary>A YAML double-quoted string; escapes backslash, quote and control characters.</summary>
    public static string Quote(string s)
    {
        var builder = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085' or '\uFEFF')
                    {
                        builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                    break;
            }
        }
        return builder.Append('"').ToString();
    }

    private static string FormatFloat(double value, string roundTrip) =>
        double.IsNaN(value) ? ".nan"
        : double.IsPositiveInfinity(value) ? ".inf"
        : double.IsNegativeInfinity(value) ? "-.inf"
        : roundTrip.Replace("E+", "e+", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);

    private static bool TryParseInteger(string text, out long value)
    {
        value = 0;
        if (DecimalInteger().IsMatch(text))
        {
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        }
        if (text.StartsWith("0x", StringComparison.Ordinal) && text.Length > 2)
        {
            return long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
                && value >= 0;
        }
        if (text.StartsWith("0o", StringComparison.Ordinal) && text.Length > 2 && text[2..].All(c => c is >= '0' and <= '7'))
        {
            try
            {
                value = Convert.ToInt64(text[2..], 8);
                return value >= 0;
            }
            catch (OverflowException)
            {
                return false;
            }
        }
        // An integral float such as 1e3 or 2048.0 is accepted: max_steps: 1e4 means 10000.
        if (TryParseFloat(text, out double number) && double.IsFinite(number) && Math.Floor(number) == number
            && number is >= -9.2e18 and <= 9.2e18)
        {
            value = (long)number;
            return true;
        }
        return false;
    }

    private static bool TryParseFloat(string text, out double value)
    {
        value = 0;
        if (FloatNumber().IsMatch(text))
        {
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
        switch (text)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                value = double.PositiveInfinity;
                return true;
            case "-.inf" or "-.Inf" or "-.INF":
                value = double.NegativeInfinity;
                return true;
            case ".nan" or ".NaN" or ".NAN":
                value = double.NaN;
                return true;
            default:
                return false;
        }
    }

    private static string Normalize(string name) =>
        name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex DecimalInteger();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatNumber();
}
