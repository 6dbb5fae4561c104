namespace RlhfSharp.Tensors.Autograd;

/// <summary>
/// Gradient checkpointing (Chen et al. 2016): run a block without keeping its activations, and
/// recompute them from the saved input when backward reaches the block. Memory for the block's
/// intermediates is traded for one extra forward. The block must be deterministic (no dropout
/// drawing fresh random numbers), or the recomputed graph would differ from the original.
/// </summary>
public static class Checkpoint
{
    /// <summary>
    /// y = f(x), recorded as one node. In backward, f is rerun on a detached copy of x with grad
    /// enabled and backpropagated: the gradients of the block's parameters accumulate directly in
    /// their <c>.Grad</c>, and dL/dx flows on to the rest of the graph.
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor> f, Tensor x)
    {
        if (!GradMode.IsEnabled)
            return f(x);
        Tensor y;
        using (GradMode.NoGrad())
            y = f(x);
        // Recorded even when x needs no grad: the block's own parameters still do.
        var result = y.Detach();
        result.GradFn = new Node("checkpoint", [x], g =>
        {
            using var _ = GradMode.EnableGrad();
            var xi = x.Detach();
            xi.RequiresGrad = x.RequiresGrad;
            var yi = f(xi);
            if (yi.RequiresGrad)
                yi.Backward(g);
            return [xi.RequiresGrad ? xi.Grad : null];
        });
        result.MarkRequiresGrad();
        return result;
    }
}
