using System.Runtime.InteropServices;
using System.Text;

namespace RlhfSharp.Models.IO;

/// <summary>
/// Writes a file under a temporary name in the same folder, flushes it to disk, then renames it
/// into place; on failure the temporary file is deleted, so the file's name holds either the old
/// content or the new, never part of it. A full disk is a <see cref="DiskFullException"/> naming the file.
/// </summary>
public static partial class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(dir);
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e)
        {
            try
            {
                File.Delete(tmp);
            }
            catch (IOException)
            {
                // the original error matters more than a leftover temporary file
            }
            if (e is not DiskFullException && DiskFullException.IsDiskFull(e))
                throw new DiskFullException(path, e);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// <see cref="Write"/>, then <see cref="SyncDirectory"/>: once this returns, the new content is
    /// what a power cut leaves behind, not only what other processes see.
    /// </summary>
    public static void WriteDurable(string path, Action<Stream> write)
    {
        Write(path, write);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// Flushes a folder's entries (a file created or renamed in it) to disk with fsync, on Linux and
    /// macOS; elsewhere a no-op. A rename is only durable once its folder is.
    /// </summary>
    public static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return;
        int fd = Open(dir, 0); // O_RDONLY
        if (fd < 0)
            throw new IOException($"{dir}: cannot open the folder to flush it to disk (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"{dir}: fsync of the folder failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
