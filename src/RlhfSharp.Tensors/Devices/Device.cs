using System.Globalization;

namespace RlhfSharp.Tensors;

/// <summary>What kind of machine holds a tensor's storage.</summary>
public enum DeviceKind
{
    /// <summary>Host memory, computed by the CPU engine.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU, computed by the GPU engine's kernels.</summary>
    Cuda,

    /// <summary>
    /// The GPU engine's kernels run on host threads by ILGPU's CPU accelerator: the same code path
    /// as <see cref="Cuda"/> without a GPU (slow; for tests and for checking a run before renting a GPU).
    /// </summary>
    CpuAccelerator,
}

/// <summary>
/// Where a tensor lives: <c>cpu</c>, <c>cuda:N</c> (or <c>cuda</c> for <c>cuda:0</c>), or
/// <c>cpu-accelerator</c>. Device tensors are computed by the <see cref="DeviceBackend"/> set up for
/// their device.
/// </summary>
public readonly record struct Device(DeviceKind Kind, int Ordinal)
{
    public static Device Cpu { get; } = new(DeviceKind.Cpu, 0);

    public static Device CpuAccelerator { get; } = new(DeviceKind.CpuAccelerator, 0);

    public static Device Cuda(int ordinal = 0) => new(DeviceKind.Cuda, ordinal);

    public bool IsCpu => Kind == DeviceKind.Cpu;

    /// <summary>The names <see cref="Parse"/> accepts, for error messages.</summary>
    public const string ValidNames = "cpu, cuda, cuda:N (N = 0, 1, …) or cpu-accelerator";

    /// <summary>Reads a device name; an unknown one is a <see cref="DeviceNameException"/> listing the valid forms.</summary>
    public static Device Parse(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        if (s == "cpu")
            return Cpu;
        if (s == "cpu-accelerator")
            return CpuAccelerator;
        if (s == "cuda")
            return Cuda();
        if (s.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(s.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            return Cuda(n);
        }
        if (s.StartsWith("cpu-accelerator:", StringComparison.Ordinal)
            && int.TryParse(s.AsSpan(16), NumberStyles.None, CultureInfo.InvariantCulture, out int a))
        {
            return new Device(DeviceKind.CpuAccelerator, a);
        }
        throw new DeviceNameException($"'{text}' is not a device; use {ValidNames}");
    }

    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.CpuAccelerator => Ordinal == 0 ? "cpu-accelerator" : $"cpu-accelerator:{Ordinal}",
        _ => $"cuda:{Ordinal}",
    };
}

/// <summary>A device name that is not one of <see cref="Device.ValidNames"/>.</summary>
public sealed class DeviceNameException(string message) : ArgumentException(message), IUserError;

/// <summary>
/// A tensor on a device that was never set up, or an op given tensors on two devices, or an op the
/// device engine does not have yet: the message names the devices and what to do.
/// </summary>
public sealed class DeviceMismatchException(string message) : InvalidOperationException(message), IUserError;
