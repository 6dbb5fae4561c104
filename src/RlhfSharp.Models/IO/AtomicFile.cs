using System.Text;

namespace RlhfSharp.Models.IO;

/// <summary>Writes a file under a temporary name in the same folder, flushes it to disk, then renames it into place.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(tmp);
            }
            catch (IOException)
            {
                // the original error matters more than a leftover temporary file
            }
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => Write(path, s => s.Write(Encoding.UTF8.GetBytes(text)));
}
