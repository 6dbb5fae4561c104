namespace RlhfSharp.Tensors;

/// <summary>
/// Thrown when a tensor's elements are used after its storage was handed on: the training step
/// that owned it ended (<see cref="TensorArena.Step"/> gives that storage to the next step), or it
/// was a gradient that <c>ZeroGrad</c> retired and a later backward reused. Keep a result past the
/// step with <see cref="TensorArena.Keep"/> (or copy it out with <see cref="Tensor.ToArray"/>)
/// before the step scope closes.
/// </summary>
public sealed class TensorReleasedException : InvalidOperationException
{
    internal TensorReleasedException(Tensor tensor)
        : base($"a tensor {ShapeUtil.Format(tensor.ShapeArr)}{(tensor.Name is null ? "" : $" '{tensor.Name}'")} was used after its storage was handed on (the training step that owned it ended, or it was a gradient that ZeroGrad retired); " +
               "keep a step's result with TensorArena.Keep(tensor), or copy what you need (ToArray, Item, Clone) inside the step")
    {
    }
}
