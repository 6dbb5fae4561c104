namespace RlhfSharp.Text.Jinja;

/// <summary>Variables visible at a point of the template: each for-loop iteration and macro call opens a child scope.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;

    public Scope? Parent { get; } = parent;
}
