namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Binds a config property to its snake_case key in YAML files and on the command line
/// (<c>learning_rate: 1e-4</c>, <c>--learning_rate 1e-4</c>), with a one-line description that
/// <see cref="ConfigDocs"/> and <see cref="ConfigWriter"/> show.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class ConfigKeyAttribute : Attribute
{
    public ConfigKeyAttribute(string key, string? description = null)
    {
        Key = key;
        Description = description;
    }

    /// <summary>The snake_case key, unique within its class: <c>[a-z][a-z0-9_]*</c>.</summary>
    public string Key { get; }

    /// <summary>What the key means, with its unit or range where it has one.</summary>
    public string? Description { get; }
}
