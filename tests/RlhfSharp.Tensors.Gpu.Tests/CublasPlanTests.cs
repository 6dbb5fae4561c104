using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Gpu.Cuda;
using static RlhfSharp.Tensors.Gpu.Tests.OpCheck;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// The way products are handed to cuBLAS (column-major, transposes, leading dims, batch strides),
/// checked without a GPU: a column-major strided-batched GEMM written here from the BLAS
/// definition is run on the host arrays under each plan and must give the CPU engine's product.
/// </summary>
public sealed class CublasPlanTests
{
    public static TheoryData<string> Cases() =>
        ["plain", "a transposed", "b transposed", "both transposed", "batched", "batch broadcast", "weight shared", "permuted batch", "sliced rows", "expanded rows", "vector"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void APlanComputesTheProductTheCpuEngineDoes(string name)
    {
        var (a, b) = name switch
        {
            "plain" => (Random([3, 4], 1), Random([4, 5], 2)),
            "a transposed" => (Random([4, 3], 1).T, Random([4, 5], 2)),
            "b transposed" => (Random([3, 4], 1), Random([5, 4], 2).T),
            "both transposed" => (Random([2, 4, 3], 1).Transpose(1, 2), Random([2, 5, 4], 2).Transpose(1, 2)),
            "batched" => (Random([2, 3, 3, 4], 1), Random([2, 3, 4, 5], 2)),
            "batch broadcast" => (Random([2, 1, 3, 4], 1), Random([3, 4, 2], 2)),
            "weight shared" => (Random([6, 3, 4], 1), Random([1, 4, 5], 2)),
            "permuted batch" => (Random([3, 2, 3, 4], 1).Transpose(0, 1), Random([2, 3, 4, 5], 2)),
            "sliced rows" => (Random([5, 8], 1).Narrow(1, 2, 4), Random([4, 6], 2).Narrow(1, 1, 5)),
            "expanded rows" => (Random([1, 4], 1).Expand(3, 4), Random([4, 5], 2)),
            _ => (Random([1, 4], 1), Random([4, 1], 2)),
        };
        var expected = a.Matmul(b);
        var got = ViaPlan(a, b);
        AssertClose(expected, got, 1e-5f, 1e-6f, name);
    }

    private static Tensor ViaPlan(Tensor a, Tensor b)
    {
        int m = a.Size(-2), k = a.Size(-1), n = b.Size(-1);
        ShapeUtil.TryBroadcast(a.Shape[..^2], b.Shape[..^2], out var batchShape);
        var plan = GemmPlan.For(a.ShapeArr, a.StridesArr, b.ShapeArr, b.StridesArr, batchShape, m, n, k);
        if (plan.NeedsCopyOfOurA || plan.NeedsCopyOfOurB)
        {
            a = plan.NeedsCopyOfOurA ? a.Contiguous() : a;
            b = plan.NeedsCopyOfOurB ? b.Contiguous() : b;
            plan = GemmPlan.For(a.ShapeArr, a.StridesArr, b.ShapeArr, b.StridesArr, batchShape, m, n, k);
            Assert.False(plan.NeedsCopyOfOurA || plan.NeedsCopyOfOurB);
        }
        Assert.True(plan.Lda >= Math.Max(1, plan.TransA ? plan.K : plan.M), "lda below the BLAS minimum");
        Assert.True(plan.Ldb >= Math.Max(1, plan.TransB ? plan.N : plan.K), "ldb below the BLAS minimum");
        var c = new float[plan.BatchCount * m * n];
        if (plan.Uniform)
        {
            ColumnMajorGemm(plan, b.F!, b.Offset, a.F!, a.Offset, c, 0);
        }
        else
        {
            var la = Layout.OfBatch(a, batchShape);
            var lb = Layout.OfBatch(b, batchShape);
            for (int i = 0; i < plan.BatchCount; i++)
                ColumnMajorGemm(plan with { BatchCount = 1 }, b.F!, lb.At(i), a.F!, la.At(i), c, i * m * n);
        }
        return Tensor.FromArray(c, [.. batchShape, m, n]);
    }

    // The BLAS definition: C_i = op(A_i)·op(B_i), column-major, element (r, c) of X at x[r + c·ld].
    private static void ColumnMajorGemm(GemmPlan p, float[] a, long oa, float[] b, long ob, float[] c, long oc)
    {
        for (int batch = 0; batch < p.BatchCount; batch++)
        {
            long ba = oa + (batch * p.StrideA), bb = ob + (batch * p.StrideB), bc = oc + (batch * p.StrideC);
            for (int i = 0; i < p.M; i++)
            {
                for (int j = 0; j < p.N; j++)
                {
                    float s = 0f;
                    for (int q = 0; q < p.K; q++)
                    {
                        float x = p.TransA ? a[ba + q + (i * p.Lda)] : a[ba + i + (q * p.Lda)];
                        float y = p.TransB ? b[bb + j + (q * p.Ldb)] : b[bb + q + (j * p.Ldb)];
                        s += x * y;
                    }
                    c[bc + i + (j * p.Ldc)] = s;
                }
            }
        }
    }

    [Fact]
    public void StatusCodesHaveTheirHeaderNames()
    {
        Assert.Equal("CUBLAS_STATUS_INVALID_VALUE", Cublas.StatusName(7));
        Assert.Equal("CUBLAS_STATUS_ARCH_MISMATCH", Cublas.StatusName(8));
        Assert.Equal("unknown status", Cublas.StatusName(42));
    }

    [Fact]
    public void CublasLoadsOrItsAbsenceIsAClearErrorNamingWhereItLooked()
    {
        if (Cublas.IsAvailable())
        {
            // Where cuBLAS is installed (the device run) the same call loads it and makes a handle.
            using var loaded = Cublas.Create(IntPtr.Zero);
            return;
        }
        var e = Assert.Throws<GpuUnavailableException>(() => Cublas.Create(IntPtr.Zero));
        Assert.Contains("libcublas.so.13", e.Message);
        Assert.Contains(Cublas.PathVariable, e.Message);
    }
}
