using System.Text;
using static Interop.Libc;

namespace CniVeth.Ipam.Config;

/// <summary>
/// Reads a small file named by an absolute path (resolvConf, the boot id) in bounded time and memory:
/// opened O_NONBLOCK (a FIFO answers at once), accepted only when it is a regular file (not /dev/zero, a
/// FIFO or a directory), and read up to a cap. Symlinks are followed: /etc/resolv.conf usually is one.
/// /proc files are regular files of size 0 and are read to their end like any other.
/// </summary>
internal static class BoundedFile
{
    public enum Outcome { Text, Missing, NotAFile, TooLarge, Failed }

    public readonly record struct Result(Outcome Outcome, string Text, int Errno);

    public static Result Read(string path, int cap)
    {
        using SafeFd fd = Open(path, O_RDONLY | O_NONBLOCK);
        if (fd.IsInvalid)
        {
            int errno = Errno.Last;
            return new Result(errno == Errno.ENOENT ? Outcome.Missing : errno == Errno.ENXIO ? Outcome.NotAFile : Outcome.Failed, "", errno);
        }
        if (StatX(fd, "", AT_EMPTY_PATH, out var st) != 0) return new Result(Outcome.Failed, "", Errno.Last);
        if ((st.stx_mode & S_IFMT) != S_IFREG) return new Result(Outcome.NotAFile, "", 0);
        if ((long)st.stx_size > cap) return new Result(Outcome.TooLarge, "", 0);
        byte[] buffer = new byte[Math.Min(cap + 1, Math.Max((int)st.stx_size + 1, 256))];
        int length = 0;
        while (length <= cap)
        {
            if (length == buffer.Length) Array.Resize(ref buffer, Math.Min(cap + 1, buffer.Length * 2));
            nint n = Interop.Libc.Read(fd, buffer.AsSpan(length));
            if (n < 0)
            {
                if (Errno.Last == Errno.EINTR) continue;
                return new Result(Outcome.Failed, "", Errno.Last);
            }
            if (n == 0) break;
            length += (int)n;
        }
        if (length > cap) return new Result(Outcome.TooLarge, "", 0);
        return new Result(Outcome.Text, Encoding.UTF8.GetString(buffer, 0, length), 0);
    }
}
