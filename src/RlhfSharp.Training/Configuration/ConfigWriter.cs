using System.Text;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Writes a config as YAML that <see cref="ConfigBinder"/> reads back to an equal config: every
/// key, defaults included, in declaration order, nested sections as indented mappings, lists in
/// flow style (<c>[a, b]</c>), strings double-quoted, each key under a <c># description</c>
/// comment when its attribute carries one. Run folders store this as <c>config.resolved.yaml</c>.
/// </summary>
public static class ConfigWriter
{
    /// <summary>The resolved config as YAML; <paramref name="comments"/> adds the key descriptions.</summary>
    public static string ToYaml(object config, bool comments = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        var builder = new StringBuilder();
        Write(builder, config, ConfigSchema.For(config.GetType()), indent: 0, comments);
        return builder.ToString();
    }

    /// <summary>Writes one field's value as YAML text on one line (a section is written as <c>{...}</c> flow).</summary>
    internal static string FormatValue(object? value, ConfigFieldKind kind)
    {
        if (value is null)
        {
            return "null";
        }
        return kind switch
        {
            ConfigFieldKind.Scalar => ScalarText.Format(value),
            ConfigFieldKind.List => FormatList((System.Collections.IList)value),
            _ => FormatFlowSection(value),
        };
    }

    private static void Write(StringBuilder builder, object config, ConfigSchema schema, int indent, bool comments)
    {
        string pad = new(' ', indent);
        foreach (ConfigField field in schema.Fields)
        {
            if (comments && !string.IsNullOrWhiteSpace(field.Description))
            {
                foreach (string line in field.Description.Split('\n'))
                {
                    builder.Append(pad).Append("# ").Append(line.TrimEnd('\r')).Append('\n');
                }
            }
            object? value = field.GetValue(config);
            builder.Append(pad).Append(field.Key).Append(':');
            if (field.Kind == ConfigFieldKind.Section && value is not null)
            {
                if (field.Section.Fields.Count == 0)
                {
                    builder.Append(" {}\n");
                    continue;
                }
                builder.Append('\n');
                Write(builder, value, field.Section, indent + 2, comments);
                continue;
            }
            builder.Append(' ').Append(FormatValue(value, field.Kind)).Append('\n');
        }
    }

    private static string FormatList(System.Collections.IList list)
    {
        var items = new List<string>(list.Count);
        foreach (object? item in list)
        {
            items.Add(ScalarText.Format(item));
        }
        return $"[{string.Join(", ", items)}]";
    }

    private static string FormatFlowSection(object section)
    {
        ConfigSchema schema = ConfigSchema.For(section.GetType());
        IEnumerable<string> entries = schema.Fields.Select(f => $"{f.Key}: {FormatValue(f.GetValue(section), f.Kind)}");
        return $"{{{string.Join(", ", entries)}}}";
    }
}
