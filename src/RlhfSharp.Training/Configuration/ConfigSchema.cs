using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// The [ConfigKey] properties of one config class in declaration order, checked once per type:
/// a property of an unsupported type or a repeated key is a programming error and throws
/// <see cref="InvalidOperationException"/> the first time the class is used.
/// </summary>
internal sealed partial class ConfigSchema
{
    private static readonly ConcurrentDictionary<Type, ConfigSchema> Cache = new();

    [ThreadStatic]
    private static HashSet<Type>? _building;

    private readonly Dictionary<string, ConfigField> _byKey;

    private ConfigSchema(Type type, IReadOnlyList<ConfigField> fields)
    {
        Type = type;
        Fields = fields;
        _byKey = fields.ToDictionary(f => f.Key, StringComparer.Ordinal);
        SortedKeys = [.. fields.Select(f => f.Key).Order(StringComparer.Ordinal)];
    }

    public Type Type { get; }

    /// <summary>The fields in declaration order (base class first).</summary>
    public IReadOnlyList<ConfigField> Fields { get; }

    /// <summary>The keys sorted ordinally, as error messages list them.</summary>
    public IReadOnlyList<string> SortedKeys { get; }

    public bool TryGetField(string key, out ConfigField field) => _byKey.TryGetValue(key, out field!);

    public static ConfigSchema For(Type type)
    {
        if (Cache.TryGetValue(type, out ConfigSchema? schema))
        {
            return schema;
        }
        _building ??= [];
        if (!_building.Add(type))
        {
            throw new InvalidOperationException($"Config class {type.FullName} contains itself as a section.");
        }
        try
        {
            return Cache.GetOrAdd(type, Build(type));
        }
        finally
        {
            _building.Remove(type);
        }
    }

    /// <summary>Creates an instance with its declared defaults (the class needs a public parameterless constructor).</summary>
    public object CreateInstance() => Activator.CreateInstance(Type)
        ?? throw new InvalidOperationException($"{Type.Name} could not be created.");

    private static ConfigSchema Build(Type type)
    {
        if (type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new InvalidOperationException(
                $"Config class {type.FullName} needs a public parameterless constructor.");
        }

        var nullability = new NullabilityInfoContext();
        var fields = new List<ConfigField>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<PropertyInfo> properties = type
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .OrderBy(p => InheritanceDepth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken);
        foreach (PropertyInfo property in properties)
        {
            ConfigKeyAttribute? attribute = property.GetCustomAttribute<ConfigKeyAttribute>();
            if (attribute is null)
            {
                continue;
            }
            string where = $"{type.Name}.{property.Name}";
            if (!KeyPattern().IsMatch(attribute.Key))
            {
                throw new InvalidOperationException(
                    $"{where}: config key '{attribute.Key}' must be snake_case ([a-z][a-z0-9_]*).");
            }
            if (!seen.Add(attribute.Key))
            {
                throw new InvalidOperationException($"{where}: config key '{attribute.Key}' is used twice.");
            }
            if (!property.CanRead || property.SetMethod is not { IsPublic: true })
            {
                throw new InvalidOperationException($"{where}: a config property needs a public getter and setter.");
            }
            fields.Add(Classify(property, attribute, nullability, where));
        }
        return new ConfigSchema(type, fields);
    }

    private static ConfigField Classify(PropertyInfo property, ConfigKeyAttribute attribute,
        NullabilityInfoContext nullability, string where)
    {
        Type type = property.PropertyType;
        Type? underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null)
        {
            if (!ScalarText.IsScalarType(underlying))
            {
                throw Unsupported(where, type);
            }
            return new ConfigField(property, attribute, ConfigFieldKind.Scalar, underlying, allowsNull: true);
        }

        bool referenceNullable = !type.IsValueType
            && nullability.Create(property).WriteState == NullabilityState.Nullable;
        if (ScalarText.IsScalarType(type))
        {
            return new ConfigField(property, attribute, ConfigFieldKind.Scalar, type, referenceNullable);
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            Type element = type.GetGenericArguments()[0];
            if (!ScalarText.IsScalarType(element))
            {
                throw Unsupported(where, type);
            }
            return new ConfigField(property, attribute, ConfigFieldKind.List, element, referenceNullable);
        }
        if (type.IsClass && type != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type))
        {
            For(type); // validate the section's own keys now, so errors surface at the outer class
            return new ConfigField(property, attribute, ConfigFieldKind.Section, type, referenceNullable);
        }
        throw Unsupported(where, type);
    }

    private static InvalidOperationException Unsupported(string where, Type type) => new(
        $"{where}: config properties may be string, int, long, float, double, bool, an enum, their " +
        $"nullable forms, List<T> of those, or a nested config class; {type.Name} is not supported.");

    private static int InheritanceDepth(Type type)
    {
        int depth = 0;
        for (Type? t = type.BaseType; t is not null; t = t.BaseType)
        {
            depth++;
        }
        return depth;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex KeyPattern();
}
