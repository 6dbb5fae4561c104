namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>softmax or log-softmax over the last dim on x's device; backward from the saved output.</summary>
    private static Tensor DeviceSoftmax(Tensor x, bool log)
    {
        var backend = x.Backend;
        int cols = x.ShapeArr[^1];
        int rows = cols == 0 ? 0 : x.Numel / cols;
        var xc = x.Float().Detach().Contiguous();
        var y = backend.Softmax(xc, rows, cols, log);
        return Tensor.Record(y, log ? "log_softmax" : "softmax", [x], g => [backend.SoftmaxGrad(y, g.Contiguous(), rows, cols, log)]);
    }
}
