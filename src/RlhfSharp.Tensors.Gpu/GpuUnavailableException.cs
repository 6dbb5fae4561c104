namespace RlhfSharp.Tensors.Gpu;

/// <summary>
/// <c>cuda</c> was asked for where it cannot run. The message names what is missing (the NVIDIA
/// driver's libcuda, a CUDA device, cuBLAS) and what would make it work.
/// </summary>
public sealed class GpuUnavailableException(string message, Exception? inner = null) : Exception(message, inner), IUserError;
