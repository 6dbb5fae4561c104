namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Sets config properties from YAML nodes. A mapping binds onto an existing object, so keys it
/// does not mention keep their current values; a list replaces the whole list.
/// </summary>
internal static class NodeBinder
{
    /// <summary>Binds each entry of <paramref name="mapping"/> onto <paramref name="target"/>.</summary>
    public static void BindMapping(object target, ConfigSchema schema, YamlMapping mapping, string prefix)
    {
        foreach ((YamlScalar key, YamlNode value) in mapping.Entries)
        {
            ConfigField field = FindField(schema, key.Text, prefix, key.Location, key.FileLine);
            BindField(target, field, value, Join(prefix, field.Key));
        }
    }

    /// <summary>The field named <paramref name="key"/>, or a ConfigException listing the valid keys.</summary>
    public static ConfigField FindField(ConfigSchema schema, string key, string prefix, string location, int? line)
    {
        if (schema.TryGetField(key, out ConfigField field))
        {
            return field;
        }
        string path = Join(prefix, key);
        string? suggestion = KeySuggestions.Closest(key, schema.SortedKeys);
        string hint = suggestion is null ? "" : $" Did you mean '{suggestion}'?";
        string level = prefix.Length == 0 ? "" : $" in '{prefix}'";
        string valid = schema.SortedKeys.Count == 0 ? "(none)" : string.Join(", ", schema.SortedKeys);
        throw new ConfigException(location, path,
            $"unknown key '{path}'.{hint} Valid keys{level}: {valid}.", line);
    }

    /// <summary>Sets one field from a node of any shape, checking the shape against the field's kind.</summary>
    public static void BindField(object owner, ConfigField field, YamlNode node, string path)
    {
        if (node is YamlScalar { IsNull: true })
        {
            if (field.Kind == ConfigFieldKind.List && !field.AllowsNull)
            {
                field.SetValue(owner, CreateList(field.ScalarType)); // `stop_strings:` with nothing means no items
                return;
            }
            if (!field.AllowsNull)
            {
                throw new ConfigException(node.Location, path,
                    $"'{path}' expects {Expected(field)}, got null.", node.FileLine);
            }
            field.SetValue(owner, null);
            return;
        }

        switch (field.Kind)
        {
            case ConfigFieldKind.Scalar:
                if (node is not YamlScalar scalar)
                {
                    throw WrongShape(node, path, field);
                }
                field.SetValue(owner, Convert(scalar, field.ScalarType, path));
                break;
            case ConfigFieldKind.List:
                System.Collections.IList list = CreateList(field.ScalarType);
                IReadOnlyList<YamlNode> items = node switch
                {
                    YamlSequence sequence => sequence.Items,
                    YamlScalar single => [single], // one item may be written without brackets
                    _ => throw WrongShape(node, path, field),
                };
                for (int i = 0; i < items.Count; i++)
                {
                    string itemPath = $"{path}[{i}]";
                    if (items[i] is not YamlScalar item || item.IsNull)
                    {
                        throw new ConfigException(items[i].Location, path,
                            $"'{itemPath}' expects {ScalarText.Describe(field.ScalarType)}, got {Shape(items[i])}.",
                            items[i].FileLine);
                    }
                    list.Add(Convert(item, field.ScalarType, itemPath));
                }
                field.SetValue(owner, list);
                break;
            case ConfigFieldKind.Section:
                if (node is not YamlMapping mapping)
                {
                    throw WrongShape(node, path, field);
                }
                object section = field.GetValue(owner) ?? field.Section.CreateInstance();
                BindMapping(section, field.Section, mapping, path);
                field.SetValue(owner, section);
                break;
        }
    }

    public static string Join(string prefix, string key) => prefix.Length == 0 ? key : $"{prefix}.{key}";

    public static string Expected(ConfigField field) => field.Kind switch
    {
        ConfigFieldKind.Scalar => ScalarText.Describe(field.ScalarType),
        ConfigFieldKind.List => $"a list of {ScalarText.ShortName(field.ScalarType)} values such as [a, b]",
        _ => $"a mapping of the keys {string.Join(", ", field.Section.SortedKeys)}",
    };

    private static object Convert(YamlScalar scalar, Type type, string path)
    {
        if (scalar.IsNull && type != typeof(string))
        {
            throw new ConfigException(scalar.Location, path,
                $"'{path}' expects {ScalarText.Describe(type)}, got null.", scalar.FileLine);
        }
        if (ScalarText.TryParse(scalar.Text, type, out object? value))
        {
            return value!;
        }
        throw new ConfigException(scalar.Location, path,
            $"'{path}' expects {ScalarText.Describe(type)}, got {scalar.Shown}.", scalar.FileLine);
    }

    private static ConfigException WrongShape(YamlNode node, string path, ConfigField field) =>
        new(node.Location, path, $"'{path}' expects {Expected(field)}, got {Shape(node)}.", node.FileLine);

    private static string Shape(YamlNode node) => node switch
    {
        YamlScalar scalar => scalar.Shown,
        YamlSequence => "a list",
        _ => "a mapping",
    };

    private static System.Collections.IList CreateList(Type element) =>
        (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
}
