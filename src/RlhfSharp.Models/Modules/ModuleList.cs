namespace RlhfSharp.Models.Modules;

/// <summary>Children named "0", "1", … as torch.nn.ModuleList names them.</summary>
public sealed class ModuleList<T> : Module
    where T : Module
{
    private readonly List<T> _items = [];

    public ModuleList(IEnumerable<T> items)
    {
        foreach (var m in items)
        {
            RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), m);
            _items.Add(m);
        }
    }

    public int Count => _items.Count;

    public T this[int i] => _items[i];

    public IReadOnlyList<T> Items => _items;
}
