namespace RlhfSharp.Tensors.Autograd;

/// <summary>
/// One recorded op: its inputs and a closure that maps the gradient of its output to the
/// gradients of its inputs (null where an input needs none). Saved tensors live in the closure
/// and are dropped by <see cref="Free"/> once backward has used them.
/// </summary>
internal sealed class Node
{
    public Node(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        Op = op;
        Inputs = inputs;
        BackwardFn = backward;
    }

    public string Op { get; }

    public Tensor[]? Inputs { get; private set; }

    public Func<Tensor, Tensor?[]>? BackwardFn { get; private set; }

    public bool Freed => BackwardFn is null;

    public void Free()
    {
        Inputs = null;
        BackwardFn = null;
    }
}
