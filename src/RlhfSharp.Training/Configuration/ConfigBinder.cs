namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Builds a config object from its declared defaults, a YAML file and command-line overrides.
/// <para>
/// Precedence, lowest to highest: the class's defaults, then the YAML file, then the overrides
/// in list order (a later override of the same key wins). The <c>rlhf</c> command passes every
/// <c>--set key=value</c> first and the <c>--key value</c> flags after them, so on the command
/// line: <c>--key value</c> &gt; <c>--set key=value</c> &gt; YAML &gt; default.
/// </para>
/// <para>
/// The YAML file is a mapping of <see cref="ConfigKeyAttribute"/> keys; nested sections are
/// nested mappings and lists are sequences. Override keys are dotted paths (<c>model_init.hidden_size</c>,
/// hyphens read as underscores) and their values are YAML scalars (<c>true</c>, <c>1e-4</c>,
/// <c>"text"</c>) or flow collections (<c>[a, b]</c>, <c>{rank: 8}</c>); a value for a string key
/// is taken verbatim unless it starts with a quote or is <c>null</c>/<c>~</c>. Setting a key inside
/// a section that is null creates the section with its defaults first.
/// </para>
/// <para>
/// Every problem a user can cause throws <see cref="ConfigException"/>: unknown keys (with the
/// valid keys at that level and the nearest one), values of the wrong type, duplicate keys,
/// malformed YAML, and the problems reported by <see cref="IValidatableConfig.Validate"/>.
/// </para>
/// </summary>
public static class ConfigBinder
{
    /// <summary>Loads <typeparamref name="T"/> from an optional YAML file and <c>key=value</c> overrides.</summary>
    public static T Load<T>(string? yamlPath, IReadOnlyList<string> overrides)
        where T : new() =>
        Load<T>(yamlPath, overrides.Select(o => ConfigOverride.Parse(o)).ToList());

    /// <summary>Loads <typeparamref name="T"/> from an optional YAML file and parsed overrides.</summary>
    public static T Load<T>(string? yamlPath, IReadOnlyList<ConfigOverride> overrides)
        where T : new()
    {
        if (yamlPath is null)
        {
            return Bind<T>(null, yamlPath, overrides);
        }
        string text;
        try
        {
            text = File.ReadAllText(yamlPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message;
            throw new ConfigException(yamlPath, null, $"cannot read the config file: {why}");
        }
        return Bind<T>(text, yamlPath, overrides);
    }

    /// <summary>
    /// Loads <typeparamref name="T"/> from YAML text; <paramref name="sourceName"/> is the name
    /// error messages give it (a file name, or something like "&lt;stdin&gt;").
    /// </summary>
    public static T LoadFromText<T>(string yamlText, string sourceName, IReadOnlyList<string>? overrides = null)
        where T : new() =>
        Bind<T>(yamlText, sourceName, (overrides ?? []).Select(o => ConfigOverride.Parse(o)).ToList());

    private static T Bind<T>(string? yamlText, string? sourceName, IReadOnlyList<ConfigOverride> overrides)
        where T : new()
    {
        ConfigSchema schema = ConfigSchema.For(typeof(T));
        var config = new T();
        if (yamlText is not null)
        {
            var source = new YamlSource(sourceName ?? "<config>", HasLines: true);
            switch (YamlDocumentReader.Read(yamlText, source))
            {
                case null:
                    break; // an empty file is an empty config
                case YamlMapping mapping:
                    NodeBinder.BindMapping(config, schema, mapping, "");
                    break;
                case YamlScalar { IsNull: true }:
                    break; // a file holding only '~' or '---'
                case YamlNode other:
                    throw new ConfigException(other.Location, null,
                        "a config file must be a mapping of keys such as 'learning_rate: 1e-4', not a list or a single value",
                        other.FileLine);
            }
        }
        foreach (ConfigOverride item in overrides)
        {
            Apply(config, schema, item);
        }
        Validate(config, schema);
        return config;
    }

    private static void Apply(object config, ConfigSchema schema, ConfigOverride item)
    {
        string[] parts = item.Key.Replace('-', '_').Split('.');
        if (parts.Any(p => p.Length == 0))
        {
            throw new ConfigException(item.Origin, item.Key,
                $"'{item.Key}' is not a key path; write key or section.key, for example model_init.hidden_size");
        }
        object owner = config;
        ConfigSchema level = schema;
        string prefix = "";
        for (int i = 0; i < parts.Length - 1; i++)
        {
            ConfigField sectionField = NodeBinder.FindField(level, parts[i], prefix, item.Origin, null);
            prefix = NodeBinder.Join(prefix, sectionField.Key);
            if (sectionField.Kind != ConfigFieldKind.Section)
            {
                throw new ConfigException(item.Origin, prefix,
                    $"'{prefix}' is a single value, not a section, so '{item.Key}' names nothing");
            }
            object? section = sectionField.GetValue(owner);
            if (section is null)
            {
                section = sectionField.Section.CreateInstance();
                sectionField.SetValue(owner, section);
            }
            owner = section;
            level = sectionField.Section;
        }

        ConfigField field = NodeBinder.FindField(level, parts[^1], prefix, item.Origin, null);
        string path = NodeBinder.Join(prefix, field.Key);
        var source = new YamlSource(item.Origin, HasLines: false);
        YamlNode node;
        bool quoted = item.Value.StartsWith('"') || item.Value.StartsWith('\'');
        bool verbatim = field is { Kind: ConfigFieldKind.Scalar } && field.ScalarType == typeof(string)
            && !quoted && !ScalarText.IsNull(item.Value, plain: true);
        if (verbatim)
        {
            node = new YamlScalar(source, 1, 1, item.Value, Plain: false);
        }
        else
        {
            node = YamlDocumentReader.Read(item.Value, source) ?? new YamlScalar(source, 1, 1, "", Plain: true);
        }
        NodeBinder.BindField(owner, field, node, path);
    }

    private static void Validate(object config, ConfigSchema schema)
    {
        var problems = new List<string>();
        Collect(config, schema, "", problems);
        if (problems.Count > 0)
        {
            throw new ConfigException(null, null,
                $"invalid configuration:{Environment.NewLine}  - " +
                string.Join($"{Environment.NewLine}  - ", problems));
        }
    }

    private static void Collect(object config, ConfigSchema schema, string prefix, List<string> problems)
    {
        if (config is IValidatableConfig validatable)
        {
            foreach (string problem in validatable.Validate())
            {
                problems.Add(prefix.Length == 0 ? problem : $"{prefix}: {problem}");
            }
        }
        foreach (ConfigField field in schema.Fields)
        {
            if (field.Kind == ConfigFieldKind.Section && field.GetValue(config) is { } section)
            {
                Collect(section, field.Section, NodeBinder.Join(prefix, field.Key), problems);
            }
        }
    }
}
