namespace RlhfSharp.Tensors.Kernels;

/// <summary>A loop body over a chunk [start, end) held in a struct, so a loop allocates no closure.</summary>
internal interface IChunkBody
{
    void Run(int start, int end);
}

/// <summary>
/// <see cref="ParallelFor.RunChunks(int, int, Action{int, int})"/> for a struct body: a loop that
/// captured its locals in a lambda allocated a closure and a delegate on every call (a training
/// step runs a few hundred loops). Each thread keeps one box per body type whose delegate is made
/// once; a loop copies its body into the box, runs, and hands the box back. A loop started from
/// inside a running body of the same type finds no box on its thread and makes a new one, so an
/// outer loop's body is never overwritten. The body is shared by the chunks running at once and
/// must not change its own fields.
/// </summary>
internal static class StructLoop<TBody> where TBody : struct, IChunkBody
{
    [ThreadStatic]
    private static Box? _spare;

    public static void RunChunks(int count, int threads, in TBody body)
    {
        var box = _spare ?? new Box();
        _spare = null;
        box.Body = body;
        try
        {
            ParallelFor.RunChunks(count, threads, box.Invoke);
        }
        finally
        {
            box.Body = default;
            _spare = box;
        }
    }

    private sealed class Box
    {
        public TBody Body;

        public Box() => Invoke = Run;

        public Action<int, int> Invoke { get; }

        private void Run(int start, int end) => Body.Run(start, end);
    }
}
