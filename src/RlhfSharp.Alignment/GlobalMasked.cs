using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;

namespace RlhfSharp.Alignment;

/// <summary>
/// The statistics of <see cref="Masked"/> over the real tokens of every rank of a data-parallel
/// run, each rank holding a share of the batch's rows: sums are combined by all-reduce, the
/// variance in two passes around the global mean. With one rank they are <see cref="Masked"/>'s own.
/// </summary>
public static class GlobalMasked
{
    /// <summary>Mean over every rank's real tokens. x [B, T], mask [B, T] -> float64</summary>
    public static double Mean(Tensor x, Tensor mask, Communicator comm)
    {
        if (comm.Size == 1)
            return Masked.Mean(x, mask).ItemDouble();
        ResponseMask.CheckShape(x, mask, "GlobalMasked.Mean", "x");
        Span<double> sums = [Masked.Zeroed(x.Double(), mask).Sum().ItemDouble(), Masked.Count(mask)];
        comm.AllReduce(sums, ReduceOp.Sum, "masked mean");
        if (sums[1] == 0)
            throw new ArgumentException("GlobalMasked.Mean: no rank's response mask has real tokens");
        return sums[0] / sums[1];
    }

    /// <summary>Variance over every rank's real tokens around their global mean (unbiased: divides by n − 1); NaN when too few.</summary>
    public static double Variance(Tensor x, Tensor mask, Communicator comm, bool unbiased = true) => MeanVariance(x, mask, comm, unbiased).Variance;

    /// <summary>The global mean and the variance around it, in two all-reduces.</summary>
    public static (double Mean, double Variance) MeanVariance(Tensor x, Tensor mask, Communicator comm, bool unbiased = true)
    {
        if (comm.Size == 1)
            return (Masked.Mean(x.Double(), mask).ItemDouble(), Masked.Variance(x.Double(), mask, unbiased).ItemDouble());
        double mean = Mean(x, mask, comm);
        var deviation = Masked.Zeroed(x.Double().Sub(mean), mask);
        Span<double> sums = [deviation.Mul(deviation).Sum().ItemDouble(), Masked.Count(mask)];
        comm.AllReduce(sums, ReduceOp.Sum, "masked variance");
        double denominator = sums[1] - (unbiased ? 1 : 0);
        return (mean, denominator <= 0 ? double.NaN : sums[0] / denominator);
    }
}
