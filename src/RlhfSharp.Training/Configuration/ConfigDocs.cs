using System.Text;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Lists the keys of a config class for <c>--help-config</c>: key path, type, default and
/// description, in declaration order, with a nested section's keys under it as
/// <c>section.key</c> (their defaults are those of a fresh section when the section defaults to null).
/// </summary>
public static class ConfigDocs
{
    public static IReadOnlyList<ConfigKeyInfo> Describe<T>()
        where T : new() => Describe(typeof(T));

    public static IReadOnlyList<ConfigKeyInfo> Describe(Type configType)
    {
        ConfigSchema schema = ConfigSchema.For(configType);
        var rows = new List<ConfigKeyInfo>();
        AddRows(rows, schema, schema.CreateInstance(), "");
        return rows;
    }

    /// <summary>The rows as an aligned plain-text table (key, type, default, description).</summary>
    public static string FormatTable(IReadOnlyList<ConfigKeyInfo> rows)
    {
        string[] headers = ["key", "type", "default", "description"];
        string[][] cells = [.. rows.Select(r => new[] { r.Key, r.Type, r.Default, r.Description ?? "" })];
        int[] widths = [.. Enumerable.Range(0, 3).Select(c => cells.Select(r => r[c].Length).Append(headers[c].Length).Max())];
        var builder = new StringBuilder();
        AppendRow(builder, headers, widths);
        AppendRow(builder, [.. headers.Select((h, c) => new string('-', c < 3 ? widths[c] : 11))], widths);
        foreach (string[] row in cells)
        {
            AppendRow(builder, row, widths);
        }
        return builder.ToString();
    }

    private static void AppendRow(StringBuilder builder, string[] row, int[] widths)
    {
        for (int c = 0; c < 3; c++)
        {
            builder.Append(row[c].PadRight(widths[c])).Append("  ");
        }
        builder.Append(row[3]);
        while (builder.Length > 0 && builder[^1] == ' ')
        {
            builder.Length--;
        }
        builder.Append('\n');
    }

    private static void AddRows(List<ConfigKeyInfo> rows, ConfigSchema schema, object defaults, string prefix)
    {
        foreach (ConfigField field in schema.Fields)
        {
            string path = prefix.Length == 0 ? field.Key : $"{prefix}.{field.Key}";
            object? value = field.GetValue(defaults);
            if (field.Kind == ConfigFieldKind.Section)
            {
                string shown = value is null ? "null" : "(see keys below)";
                rows.Add(new ConfigKeyInfo(path, field.AllowsNull ? "section?" : "section", shown,
                    field.Description, field.Property.PropertyType, IsSection: true));
                AddRows(rows, field.Section, value ?? field.Section.CreateInstance(), path);
                continue;
            }
            rows.Add(new ConfigKeyInfo(path, TypeName(field), ConfigWriter.FormatValue(value, field.Kind),
                field.Description, field.Property.PropertyType, IsSection: false));
        }
    }

    private static string TypeName(ConfigField field)
    {
        string name = ScalarText.ShortName(field.ScalarType);
        if (field.Kind == ConfigFieldKind.List)
        {
            return $"list<{name}>";
        }
        if (!field.AllowsNull)
        {
            return name;
        }
        return field.ScalarType.IsEnum ? $"{name}|null" : $"{name}?";
    }
}
