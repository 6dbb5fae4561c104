using System.Collections;

namespace RlhfSharp.Training.Data;

/// <summary>Examples loaded from a JSONL file, in file order, with the report of what was read and skipped.</summary>
public abstract class JsonlDataset<T> : IReadOnlyList<T>
{
    private readonly List<T> _examples;

    private protected JsonlDataset(List<T> examples, LoadReport report)
    {
        _examples = examples;
        Report = report;
    }

    /// <summary>Lines read, examples kept and lines skipped.</summary>
    public LoadReport Report { get; }

    public int Count => _examples.Count;

    public T this[int index] => _examples[index];

    public IEnumerator<T> GetEnumerator() => _examples.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
