using System.Text;
using CniVeth.Cni;
using Tmds.Linux;
using static Interop.Libc;

namespace CniVeth.Ipam.Store;

/// <summary>
/// A directory held open by fd; every file operation is relative to it (openat, linkat, renameat,
/// unlinkat, statx) and never follows a symlink, so a swapped-in link cannot redirect our writes.
/// </summary>
internal sealed class StoreDirectory : IDisposable
{
    private const uint DirMode = 0x1ED;   // 0755
    private const uint FileMode = 0x180;  // 0600

    public SafeFd Fd { get; }
    public string Path { get; }

    private StoreDirectory(SafeFd fd, string path) { Fd = fd; Path = path; }

    /// <summary>Opens (creating when asked) a directory that must not be a symlink. Null when absent
    /// and not created.</summary>
    public static StoreDirectory? Open(SafeFd parent, string name, string displayPath, bool create)
    {
        if (create && MkdirAt(parent, name, DirMode) != 0 && Errno.Last != Errno.EEXIST)
            throw IoError($"cannot create directory {displayPath}");
        SafeFd fd = OpenAt(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd.IsInvalid)
        {
            int errno = Errno.Last;
            if (errno == Errno.ENOENT && !create) return null;
            if (errno == Errno.ELOOP || errno == Errno.ENOTDIR)
                throw StoreException.Io($"refusing to use {displayPath}: it is a symlink or not a directory");
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
                if (MkdirAt(null, prefix, DirMode) != 0 && Errno.Last != Errno.EEXIST)
                    throw IoError($"cannot create directory {prefix}");
            }
        }
        SafeFd fd = Interop.Libc.Open(absolutePath, O_RDONLY | O_DIRECTORY);
        if (fd.IsInvalid)
        {
            if (Errno.Last == Errno.ENOENT && !create) return null;
            throw IoError($"cannot open directory {absolutePath}");
        }
        return new StoreDirectory(fd, absolutePath);
    }

    public StoreDirectory? OpenChild(string name, bool create) =>
        Open(Fd, name, System.IO.Path.Combine(Path, name), create);

    /// <summary>Opens (or creates, 0600) a file for flock; never through a symlink.</summary>
    public SafeFd OpenLockFile(string name)
    {
        SafeFd fd = OpenAt(Fd, name, O_RDWR | O_CREAT | O_NOFOLLOW, FileMode);
        if (fd.IsInvalid) throw IoError($"cannot open lock file {Child(name)}");
        return fd;
    }

    /// <summary>Small text file content, or null when it does not exist or is a symlink.</summary>
    public string? ReadText(string name)
    {
        using SafeFd fd = OpenAt(Fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK); // a FIFO never blocks
        if (fd.IsInvalid)
        {
            int errno = Errno.Last;
            if (errno == Errno.ENOENT || errno == Errno.ELOOP) return null;
            throw IoError($"cannot read {Child(name)}", errno);
        }
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
                if (all.Length > 1 << 20) throw StoreException.Io($"{Child(name)} is too large");
            }
            return Encoding.UTF8.GetString(all.GetBuffer(), 0, (int)all.Length);
        }
    }

    private int ReadSome(SafeFd fd, Span<byte> into, string name)
    {
        nint n = Read(fd, into);
        if (n < 0) throw IoError($"cannot read {Child(name)}");
        return (int)n;
    }

    /// <summary>Writes a fresh file (0600), replacing a leftover of the same name. Not fsynced: see
    /// HostLocalStore for why durability across power loss is not needed.</summary>
    public void WriteNewFile(string name, string content, bool replace = true)
    {
        if (replace) Unlink(name);
        using SafeFd fd = OpenAt(Fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FileMode);
        if (fd.IsInvalid) throw IoError($"cannot create {Child(name)}");
        byte[] bytes = Encoding.UTF8.GetBytes(content);
        int offset = 0;
        while (offset < bytes.Length)
        {
            nint n = Write(fd, bytes.AsSpan(offset));
            if (n < 0) throw IoError($"cannot write {Child(name)}");
            offset += (int)n;
        }
    }

    /// <summary>Publishes <paramref name="from"/>/<paramref name="fromName"/> as <paramref name="toName"/>
    /// here; false when that name is already taken (the O_EXCL guarantee, with the content already in place).</summary>
    public bool TryLinkFrom(StoreDirectory from, string fromName, string toName)
    {
        if (LinkAt(from.Fd, fromName, Fd, toName) == 0) return true;
        if (Errno.Last == Errno.EEXIST) return false;
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
        if (UnlinkAt(Fd, name) == 0) return true;
        if (Errno.Last == Errno.ENOENT) return false;
        throw IoError($"cannot remove {Child(name)}");
    }

    /// <summary>lstat-like: null when absent.</summary>
    public statx? Stat(string name)
    {
        if (StatX(Fd, name, AT_SYMLINK_NOFOLLOW, out var st) == 0) return st;
        if (Errno.Last == Errno.ENOENT) return null;
        throw IoError($"cannot stat {Child(name)}");
    }

    public statx StatSelf()
    {
        if (StatX(Fd, "", AT_EMPTY_PATH, out var st) != 0) throw IoError($"cannot stat {Path}");
        return st;
    }

    /// <summary>Sets this directory's mtime (atime untouched).</summary>
    public void SetModifyTime(long seconds, long nanoseconds)
    {
        if (Interop.Libc.SetModifyTime(Fd, seconds, nanoseconds) != 0) throw IoError($"cannot set the modification time of {Path}");
    }

    /// <summary>Entry names (no "." or ".."), read through our fd, so a renamed path cannot mislead us.</summary>
    public List<string> ListNames()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd/" + Fd.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Select(p => System.IO.Path.GetFileName(p)).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StoreException.Io($"cannot list {Path}: {e.Message}");
        }
    }

    public string Child(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Fd.Dispose();

    internal static StoreException IoError(string what, int errno = -1) => StoreException.Io(what, errno < 0 ? Errno.Last : errno);
}
