using System.Reflection;

namespace RlhfSharp.Training.Configuration;

/// <summary>One [ConfigKey] property of a config class, with what the binder needs to set it.</summary>
internal sealed class ConfigField
{
    public ConfigField(PropertyInfo property, ConfigKeyAttribute attribute, ConfigFieldKind kind,
        Type scalarType, bool allowsNull)
    {
        Property = property;
        Key = attribute.Key;
        Description = attribute.Description;
        Kind = kind;
        ScalarType = scalarType;
        AllowsNull = allowsNull;
    }

    public PropertyInfo Property { get; }

    public string Key { get; }

    public string? Description { get; }

    public ConfigFieldKind Kind { get; }

    /// <summary>
    /// For a scalar, its non-nullable type; for a list, the element type; for a section, the
    /// section class.
    /// </summary>
    public Type ScalarType { get; }

    /// <summary>True when <c>null</c> (or <c>~</c>) is an accepted value.</summary>
    public bool AllowsNull { get; }

    /// <summary>The section schema of a <see cref="ConfigFieldKind.Section"/> field.</summary>
    public ConfigSchema Section => ConfigSchema.For(ScalarType);

    public object? GetValue(object owner) => Property.GetValue(owner);

    public void SetValue(object owner, object? value) => Property.SetValue(owner, value);
}
