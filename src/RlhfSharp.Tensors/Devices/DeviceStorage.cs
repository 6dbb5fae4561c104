namespace RlhfSharp.Tensors;

/// <summary>
/// A tensor's elements in a device's memory: a flat buffer of <see cref="Length"/> elements of one
/// dtype, owned by the backend that made it. Views share it; it is freed with the backend's rules
/// (when <see cref="Dispose"/> is called, or else when it is collected).
/// </summary>
public abstract class DeviceStorage(DeviceBackend backend, DType dtype, long length) : IDisposable
{
    public DeviceBackend Backend { get; } = backend;

    public Device Device => Backend.Device;

    public DType Dtype { get; } = dtype;

    public long Length { get; } = length;

    public abstract void Dispose();
}

/// <summary>
/// Host↔device copies since the process started (or <see cref="Reset"/>): the test and benchmark
/// check of "no hidden round trips on the hot path".
/// </summary>
public static class DeviceTransfers
{
    private static long _toDevice;
    private static long _toHost;

    public static long ToDevice => Interlocked.Read(ref _toDevice);

    public static long ToHost => Interlocked.Read(ref _toHost);

    public static long Total => ToDevice + ToHost;

    public static void Reset()
    {
        Interlocked.Exchange(ref _toDevice, 0);
        Interlocked.Exchange(ref _toHost, 0);
    }

    /// <summary>Counted by backends on every copy from host memory to a device.</summary>
    public static void CountToDevice() => Interlocked.Increment(ref _toDevice);

    /// <summary>Counted by backends on every copy from a device to host memory.</summary>
    public static void CountToHost() => Interlocked.Increment(ref _toHost);
}
