namespace RlhfSharp.Tensors.Kernels;

/// <summary>Portable fallback: 4×4 tile in scalar registers.</summary>
internal readonly struct GemmKernelScalar : IMicroKernel
{
    public static int MR => 4;
    public static int NR => 4;

    // packed A [kc,4] · packed B [kc,4] -> C tile [4,4] (row stride ldc)
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        float c0_0 = 0; float c0_1 = 0; float c0_2 = 0; float c0_3 = 0;
        float c1_0 = 0; float c1_1 = 0; float c1_2 = 0; float c1_3 = 0;
        float c2_0 = 0; float c2_1 = 0; float c2_2 = 0; float c2_3 = 0;
        float c3_0 = 0; float c3_1 = 0; float c3_2 = 0; float c3_3 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0]; float b1 = b[1]; float b2 = b[2]; float b3 = b[3];
            float a0 = a[0];
            c0_0 += a0 * b0; c0_1 += a0 * b1; c0_2 += a0 * b2; c0_3 += a0 * b3;
            float a1 = a[1];
            c1_0 += a1 * b0; c1_1 += a1 * b1; c1_2 += a1 * b2; c1_3 += a1 * b3;
            float a2 = a[2];
            c2_0 += a2 * b0; c2_1 += a2 * b1; c2_2 += a2 * b2; c2_3 += a2 * b3;
            float a3 = a[3];
            c3_0 += a3 * b0; c3_1 += a3 * b1; c3_2 += a3 * b2; c3_3 += a3 * b3;
            a += 4;
            b += 4;
        }
        float* r0 = c + 0 * ldc;
        r0[0] = GemmTile.Combine(c0_0, r0[0], alpha, beta); r0[1] = GemmTile.Combine(c0_1, r0[1], alpha, beta); r0[2] = GemmTile.Combine(c0_2, r0[2], alpha, beta); r0[3] = GemmTile.Combine(c0_3, r0[3], alpha, beta);
        float* r1 = c + 1 * ldc;
        r1[0] = GemmTile.Combine(c1_0, r1[0], alpha, beta); r1[1] = GemmTile.Combine(c1_1, r1[1], alpha, beta); r1[2] = GemmTile.Combine(c1_2, r1[2], alpha, beta); r1[3] = GemmTile.Combine(c1_3, r1[3], alpha, beta);
        float* r2 = c + 2 * ldc;
        r2[0] = GemmTile.Combine(c2_0, r2[0], alpha, beta); r2[1] = GemmTile.Combine(c2_1, r2[1], alpha, beta); r2[2] = GemmTile.Combine(c2_2, r2[2], alpha, beta); r2[3] = GemmTile.Combine(c2_3, r2[3], alpha, beta);
        float* r3 = c + 3 * ldc;
        r3[0] = GemmTile.Combine(c3_0, r3[0], alpha, beta); r3[1] = GemmTile.Combine(c3_1, r3[1], alpha, beta); r3[2] = GemmTile.Combine(c3_2, r3[2], alpha, beta); r3[3] = GemmTile.Combine(c3_3, r3[3], alpha, beta);
    }
}
