using System.Runtime.InteropServices;
using System.Text;
using CniVeth.Cni;
using static Interop.Libc;

namespace CniVeth.Ipam.Store;

/// <summary>
/// A directory held open by fd; every file operation is relative to it (openat, linkat, renameat,
/// unlinkat, statx) and never follows a symlink, so a swapped-in link cannot redirect our writes.
/// </summary>
internal sealed class StoreDirectory : IDisposable
{
    private const int ENOENT = 2, EEXIST = 17, ELOOP = 40, ENOTDIR = 20;
    private const uint DirMode = 0x1ED;   // 0755
    private const uint FileMode = 0x180;  // 0600

    public int Fd { get; private set; }
    public string Path { get; }

    private StoreDirectory(int fd, string path) { Fd = fd; Path = path; }

    /// <summary>Opens (creating when asked) a directory that must not be a symlink. Null when absent
    /// and not created.</summary>
    public static StoreDirectory? Open(int parentFd, string name, string displayPath, bool create)
    {
        if (create && MkdirAt(parentFd, name, DirMode) != 0 && Errno() != EEXIST)
            throw IoError($"cannot create directory {displayPath}");
        int fd = OpenAt(parentFd, name, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Errno();
            if (errno == ENOENT && !create) return null;
            if (errno is ELOOP or ENOTDIR)
                throw new CniException(ErrorCode.IoFailure,
                    $"refusing to use {displayPath}: it is a symlink or not a directory");
            throw IoError($"cannot open directory {displayPath}", errno);
        }
        return new StoreDirectory(fd, displayPath);
    }

    /// <summary>Opens an absolute path, creating missing directories (0755) when asked.</summary>
    public static StoreDirectory? OpenPath(string absolutePath, bool create)
    {
        if (create)
        {
            // mkdir -p with 0755 (Directory.CreateDirectory would use 0777 & ~umask).
            string prefix = "";
            foreach (string part in absolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                prefix += "/" + part;
                if (MkdirAt(OpenFlags.AT_FDCWD, prefix, DirMode) != 0 && Errno() != EEXIST)
                    throw IoError($"cannot create directory {prefix}");
            }
        }
        int fd = OpenAt(OpenFlags.AT_FDCWD, absolutePath, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC, 0);
        if (fd < 0)
        {
            if (Errno() == ENOENT && !create) return null;
            throw IoError($"cannot open directory {absolutePath}");
        }
        return new StoreDirectory(fd, absolutePath);
    }

    public StoreDirectory? OpenChild(string name, bool create) =>
        Open(Fd, name, System.IO.Path.Combine(Path, name), create);

    /// <summary>Opens (or creates, 0600) a file for flock; never through a symlink.</summary>
    public int OpenLockFile(string name)
    {
        int fd = OpenAt(Fd, name, OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, FileMode);
        if (fd < 0) throw IoError($"cannot open lock file {Child(name)}");
        return fd;
    }

    /// <summary>Small text file content, or null when it does not exist or is a symlink.</summary>
    public unsafe string? ReadText(string name)
    {
        int fd = OpenAt(Fd, name, OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC, 0); // a FIFO never blocks
        if (fd < 0)
        {
            int errno = Errno();
            if (errno is ENOENT or ELOOP) return null;
            throw IoError($"cannot read {Child(name)}", errno);
        }
        try
        {
            // Store files are a few dozen bytes: read into the stack first, and only grow on the heap for
            // the rare larger one (an index rebuild reads 60,000 files; a 4 KB buffer each was 240 MB of garbage).
            Span<byte> first = stackalloc byte[512];
            int length = 0;
            while (length < first.Length && ReadSome(fd, first[length..], name) is int got and > 0) length += got;
            if (length < first.Length) return Encoding.UTF8.GetString(first[..length]); // end of file reached
            var all = new MemoryStream();
            all.Write(first);
            var buffer = new byte[4096];
            while (ReadSome(fd, buffer, name) is int n and > 0)
            {
                all.Write(buffer, 0, n);
                if (all.Length > 1 << 20) throw new CniException(ErrorCode.IoFailure, $"{Child(name)} is too large");
            }
            return Encoding.UTF8.GetString(all.GetBuffer(), 0, (int)all.Length);
        }
        finally { Close(fd); }
    }

    private unsafe int ReadSome(int fd, Span<byte> into, string name)
    {
        nint n;
        fixed (byte* p = into) n = Interop.Libc.Read(fd, p, into.Length);
        if (n < 0) throw IoError($"cannot read {Child(name)}");
        return (int)n;
    }

    /// <summary>Writes a fresh file (0600), replacing a leftover of the same name. Not fsynced: see
    /// HostLocalStore for why durability across power loss is not needed.</summary>
    public unsafe void WriteNewFile(string name, string content, bool replace = true)
    {
        if (replace) Unlink(name);
        int fd = OpenAt(Fd, name, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, FileMode);
        if (fd < 0) throw IoError($"cannot create {Child(name)}");
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(content);
            int offset = 0;
            while (offset < bytes.Length)
            {
                nint n;
                fixed (byte* p = &bytes[offset]) n = Interop.Libc.Write(fd, p, bytes.Length - offset);
                if (n < 0) throw IoError($"cannot write {Child(name)}");
                offset += (int)n;
            }
        }
        finally { Close(fd); }
    }

    /// <summary>Publishes <paramref name="from"/>/<paramref name="fromName"/> as <paramref name="toName"/>
    /// here; false when that name is already taken (the O_EXCL guarantee, with the content already in place).</summary>
    public bool TryLinkFrom(StoreDirectory from, string fromName, string toName)
    {
        if (LinkAt(from.Fd, fromName, Fd, toName, 0) == 0) return true;
        if (Errno() == EEXIST) return false;
        throw IoError($"cannot create {Child(toName)}");
    }

    /// <summary>Atomically replaces <paramref name="toName"/> here with a file of <paramref name="from"/>.</summary>
    public void RenameFrom(StoreDirectory from, string fromName, string toName)
    {
        if (RenameAt(from.Fd, fromName, Fd, toName) != 0) throw IoError($"cannot replace {Child(toName)}");
    }

    /// <summary>Removes a name (a symlink itself, never its target); false when it did not exist.</summary>
    public bool Unlink(string name)
    {
        if (UnlinkAt(Fd, name, 0) == 0) return true;
        if (Errno() == ENOENT) return false;
        throw IoError($"cannot remove {Child(name)}");
    }

    /// <summary>lstat-like: null when absent.</summary>
    public Statx? Stat(string name)
    {
        if (StatX(Fd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out var st) == 0) return st;
        if (Errno() == ENOENT) return null;
        throw IoError($"cannot stat {Child(name)}");
    }

    public Statx StatSelf()
    {
        if (StatX(Fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, out var st) != 0) throw IoError($"cannot stat {Path}");
        return st;
    }

    /// <summary>Sets this directory's mtime (atime untouched).</summary>
    public unsafe void SetModifyTime(long seconds, long nanoseconds)
    {
        TimeSpec* times = stackalloc TimeSpec[2];
        times[0] = new TimeSpec { Seconds = 0, Nanoseconds = UTIME_OMIT };
        times[1] = new TimeSpec { Seconds = seconds, Nanoseconds = nanoseconds };
        if (Futimens(Fd, times) != 0) throw IoError($"cannot set the modification time of {Path}");
    }

    /// <summary>Entry names (no "." or ".."), read through our fd, so a renamed path cannot mislead us.</summary>
    public List<string> ListNames()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/self/fd/{Fd}")
                .Select(p => System.IO.Path.GetFileName(p)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(ErrorCode.IoFailure, $"cannot list {Path}: {e.Message}");
        }
    }

    public string Child(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Fd >= 0) Close(Fd);
        Fd = -1;
    }

    internal static int Errno() => Marshal.GetLastPInvokeError();

    internal static CniException IoError(string what, int errno = -1)
    {
        if (errno < 0) errno = Errno();
        return new CniException(ErrorCode.IoFailure, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }
}
