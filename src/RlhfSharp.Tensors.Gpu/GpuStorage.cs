using ILGPU;
using ILGPU.Runtime;

namespace RlhfSharp.Tensors.Gpu;

/// <summary>A tensor's elements in one ILGPU buffer: float32, int32 or bf16 bits (as ushort).</summary>
internal sealed class GpuStorage<T>(GpuEngine engine, DType dtype, MemoryBuffer1D<T, Stride1D.Dense> buffer) : DeviceStorage(engine, dtype, buffer.Length)
    where T : unmanaged
{
    public MemoryBuffer1D<T, Stride1D.Dense> Buffer { get; } = buffer;

    public ArrayView<T> View => Buffer.View;

    public override void Dispose() => Buffer.Dispose();
}
