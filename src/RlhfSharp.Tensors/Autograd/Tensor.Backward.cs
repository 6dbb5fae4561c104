using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Records <paramref name="result"/> as the output of a differentiable op when grad mode is on
    /// and some input requires grad. <paramref name="backward"/> gets dL/d(result) and returns
    /// dL/d(input) per input (null where not needed), shaped like each input.
    /// A Float64 result is never recorded: float64 arithmetic has no backward, so an op that mixes
    /// a Float64 operand with a float32 one that requires grad (grad mode on) throws here.
    /// </summary>
    internal static Tensor Record(Tensor result, string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (!GradMode.IsEnabled)
            return result;
        bool any = false;
        foreach (var t in inputs)
            any |= t.RequiresGrad;
        if (!any)
            return result;
        if (result.Dtype == DType.Float64)
        {
            throw new InvalidOperationException(
                $"{op}: float64 ops carry no gradient, but a float32 input requires grad; convert the Float64 operand with Float() first (or compute under GradMode.NoGrad())");
        }
        result.GradFn = new Node(op, inputs, backward);
        result._requiresGrad = true;
        return result;
    }

    /// <summary>A tensor sharing this one's storage, cut from the graph (no grad).</summary>
    public Tensor Detach()
    {
        if (G is not null)
            return new Tensor(G, ShapeArr, StridesArr, Offset);
        return Dtype switch
        {
            DType.Float32 => new Tensor(F!, ShapeArr, StridesArr, Offset),
            DType.BFloat16 => new Tensor(H!, ShapeArr, StridesArr, Offset),
            DType.Int32 => new Tensor(I!, ShapeArr, StridesArr, Offset),
            DType.Float64 => new Tensor(D!, ShapeArr, StridesArr, Offset),
            _ => throw UnknownDtype("Detach"),
        };
    }

    /// <summary>
    /// Runs when a backward pass has finished accumulating this leaf's gradient (every path from
    /// the loss to the leaf has been walked), while the pass goes on with the rest of the graph.
    /// Data-parallel training starts sending a parameter's gradient from here, so communication
    /// overlaps the rest of the backward pass. Called once per <see cref="Backward"/> that reaches
    /// the leaf, on the thread running it.
    /// </summary>
    public Action<Tensor>? GradReadyHook
    {
        get => _leaf?.GradReadyHook;
        set
        {
            if (value is not null || _leaf is not null)
                Leaf.GradReadyHook = value;
        }
    }

    /// <summary>
    /// Backpropagates from this tensor: a scalar by default, or any shape with a supplied
    /// <paramref name="gradient"/>. Leaf gradients accumulate into <see cref="Grad"/>. The graph
    /// is freed afterwards unless <paramref name="retainGraph"/>; a second backward through a
    /// freed graph throws.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward: this tensor does not require grad (no input of the ops that produced it requires grad, or it was computed under NoGrad)");
        if (gradient is null)
        {
            if (Numel != 1)
                throw new InvalidOperationException($"Backward: a gradient must be supplied for a non-scalar tensor of shape {ShapeUtil.Format(ShapeArr)}");
            gradient = G is null ? Ones(ShapeArr) : Full(1f, ShapeArr, Device);
        }
        else if (!ShapeUtil.SameShape(gradient.ShapeArr, ShapeArr))
        {
            throw new ShapeMismatchException("Backward", $"gradient shape {ShapeUtil.Format(gradient.ShapeArr)} does not match tensor shape {ShapeUtil.Format(ShapeArr)}");
        }
        else
        {
            gradient = gradient.Float(); // an int32, bf16 or float64 seed gradient still accumulates as float32
        }

        using var _ = GradMode.NoGrad();
        using var buffers = GradBuffers.Begin();
        if (GradFn is null)
        {
            AccumulateLeaf(this, gradient);
            GradReadyHook?.Invoke(this);
            return;
        }
        if (GradFn.Freed)
            throw FreedGraph(GradFn);

        // The walk's tables are reused from the last backward on this thread (a nested backward,
        // as in checkpointing, finds none spare and makes its own).
        var tables = _spareTables ?? new BackwardTables();
        _spareTables = null;
        try
        {
            BackwardFrom(GradFn, gradient, retainGraph, tables);
        }
        finally
        {
            tables.Clear();
            _spareTables = tables;
        }
    }

    [ThreadStatic]
    private static BackwardTables? _spareTables;

    private sealed class BackwardTables
    {
        public readonly List<Node> Order = [];
        public readonly HashSet<Node> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Node Node, int Next)> Stack = new();
        public readonly Dictionary<Node, Tensor> Pending = new(ReferenceEqualityComparer.Instance);

        public void Clear()
        {
            Order.Clear();
            Visited.Clear();
            Stack.Clear();
            Pending.Clear();
        }
    }

    private static void BackwardFrom(Node root, Tensor gradient, bool retainGraph, BackwardTables tables)
    {
        var order = TopologicalOrder(root, tables);
        var hooked = HookedLeaves(order);
        var pending = tables.Pending;
        pending[root] = gradient;
        for (int n = order.Count - 1; n >= 0; n--)
        {
            var node = order[n];
            if (!pending.Remove(node, out var g))
            {
                if (hooked is not null)
                    Settle(node, hooked);
                continue;
            }
            var inputs = node.Inputs!;
            var grads = node.BackwardFn!(g);
            for (int i = 0; i < inputs.Length; i++)
            {
                var gi = grads[i];
                var input = inputs[i];
                if (gi is null || !input.RequiresGrad)
                    continue;
                if (!ShapeUtil.SameShape(gi.ShapeArr, input.ShapeArr))
                    throw new InvalidOperationException($"internal: backward of '{node.Op}' returned a gradient of shape {ShapeUtil.Format(gi.ShapeArr)} for input {i} of shape {ShapeUtil.Format(input.ShapeArr)}");
                if (input.GradFn is null)
                {
                    AccumulateLeaf(input, gi);
                    ReleaseIfDead(gi.F, grads, i + 1, pending);
                }
                else
                {
                    if (input.GradFn.Freed)
                        throw FreedGraph(input.GradFn);
                    if (pending.TryGetValue(input.GradFn, out var prev))
                    {
                        pending[input.GradFn] = prev.Add(gi);
                        ReleaseIfDead(prev.F, grads, i + 1, pending);
                        ReleaseIfDead(gi.F, grads, i + 1, pending);
                    }
                    else
                    {
                        pending[input.GradFn] = gi;
                    }
                }
            }
            if (hooked is not null)
                Settle(node, hooked);
            // This node's incoming gradient has been used; recycle it unless a result shares it.
            ReleaseIfDead(g.F, grads, 0, pending);
            if (!retainGraph)
                node.Free();
        }
        if (hooked is not null)
        {
            foreach (var leaf in hooked.Keys.ToArray())
                leaf.GradReadyHook?.Invoke(leaf);
        }
    }

    // For each leaf with a GradReadyHook: how many graph edges lead into it (each is walked once).
    private static Dictionary<Tensor, int>? HookedLeaves(List<Node> order)
    {
        Dictionary<Tensor, int>? hooked = null;
        foreach (var node in order)
        {
            foreach (var input in node.Inputs!)
            {
                if (input.GradFn is null && input.RequiresGrad && input.GradReadyHook is not null)
                {
                    hooked ??= new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
                    hooked[input] = hooked.GetValueOrDefault(input) + 1;
                }
            }
        }
        return hooked;
    }

    // A node's edges into hooked leaves are done; a leaf whose last edge this was is ready.
    private static void Settle(Node node, Dictionary<Tensor, int> hooked)
    {
        foreach (var input in node.Inputs!)
        {
            if (!hooked.TryGetValue(input, out int left))
                continue;
            if (left > 1)
            {
                hooked[input] = left - 1;
                continue;
            }
            hooked.Remove(input);
            input.GradReadyHook!(input);
        }
    }

    // Returns storage rented during this backward pass to the pool when no gradient still waiting
    // to be used (grads[from..] or a pending one) shares it.
    private static void ReleaseIfDead(float[]? storage, Tensor?[] grads, int from, Dictionary<Node, Tensor> pending)
    {
        if (!Autograd.GradBuffers.Owns(storage))
            return;
        for (int j = from; j < grads.Length; j++)
        {
            if (grads[j] is { } other && ReferenceEquals(other.F, storage))
                return;
        }
        foreach (var other in pending.Values)
        {
            if (ReferenceEquals(other.F, storage))
                return;
        }
        Autograd.GradBuffers.Release(storage);
    }

    private static InvalidOperationException FreedGraph(Node node) => new(
        $"Backward: the graph through '{node.Op}' was already freed by an earlier Backward(). " +
        "Run the forward pass again, or pass retainGraph: true to the first Backward() if you need to backpropagate twice.");

    private static void AccumulateLeaf(Tensor leaf, Tensor g)
    {
        if (g.G is not null || leaf.G is not null)
        {
            // Device gradients: a copy of its own the first time, then a new sum (not in place).
            leaf.Grad = leaf.Grad is null ? g.Backend.Copy(g) : leaf.Grad.Add(g);
            return;
        }
        if (leaf.Grad is null)
        {
            // Storage of its own (not rented), the retired gradient's when there is one: the leaf
            // keeps this gradient after backward returns.
            var data = leaf.TakeRetiredGrad(g.Numel) ?? new float[g.Numel];
            StridedCopy.Copy(g.F!, g.Offset, g.ShapeArr, g.StridesArr, data);
            leaf.Grad = new Tensor(data, g.ShapeArr);
        }
        else
        {
            var dst = leaf.Grad.Span;
            var src = g.Contiguous().Span;
            System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
        }
    }

    private static List<Node> TopologicalOrder(Node root, BackwardTables tables)
    {
        // Iterative post-order DFS: inputs before the nodes that consume them.
        var order = tables.Order;
        var visited = tables.Visited;
        var stack = tables.Stack;
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node.Inputs!;
            if (next < inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = inputs[next].GradFn;
                if (child is not null && inputs[next].RequiresGrad && visited.Add(child))
                {
                    if (child.Freed)
                        throw FreedGraph(child);
                    stack.Push((child, 0));
                }
            }
            else
            {
                order.Add(node);
            }
        }
        return order;
    }
}
