using System.Text;
using CniVeth.Cni;
using Tmds.Linux;
using static Interop.Libc;

namespace CniVeth.Ipam.Store;

/// <summary>What a name in a store directory held when it was read.</summary>
internal enum EntryKind
{
    /// <summary>Nothing by that name.</summary>
    Missing,
    /// <summary>A regular file within the size cap; its text was read.</summary>
    File,
    /// <summary>A directory, symlink, socket, FIFO or device: never read, never ours.</summary>
    NotAFile,
    /// <summary>A regular file larger than the cap: never read whole.</summary>
    TooLarge,
}

/// <summary>The outcome of reading one store file; Text is empty unless Kind is File.</summary>
internal readonly record struct StoreFile(EntryKind Kind, string Text)
{
    public bool IsFile => Kind == EntryKind.File;
}

/// <summary>
/// A directory held open by fd; every file operation is relative to it (openat, linkat, renameat,
/// unlinkat, statx) and never follows a symlink, so a swapped-in link cannot redirect our writes.
/// Every read is bounded: opened O_NONBLOCK (a FIFO never blocks), checked to be a regular file, and
/// read up to a cap, so no entry can make a call hang or grow without bound.
/// </summary>
internal sealed class StoreDirectory : IDisposable
{
    private const uint DirMode = 0x1ED;   // 0755
    private const uint FileMode = 0x180;  // 0600
    private const int MaxTreeDepth = 8;

    public SafeFd Fd { get; }
    public string Path { get; }

    private StoreDirectory(SafeFd fd, string path) { Fd = fd; Path = path; }

    /// <summary>Opens (creating when asked) a directory that must not be a symlink. Null when absent
    /// and not created.</summary>
    public static StoreDirectory? Open(SafeFd parent, string name, string displayPath, bool create)
    {
        // Opened first: it exists on every call but the first, and a mkdir that fails with EEXIST is a
        // system call for nothing.
        SafeFd fd = OpenAt(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd.IsInvalid && create && Errno.Last == Errno.ENOENT)
        {
            fd.Dispose();
            if (MkdirAt(parent, name, DirMode) != 0 && Errno.Last != Errno.EEXIST)
                throw IoError($"cannot create directory {displayPath}");
            fd = OpenAt(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        }
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
        SafeFd fd = Interop.Libc.Open(absolutePath, O_RDONLY | O_DIRECTORY);
        if (fd.IsInvalid && create && Errno.Last == Errno.ENOENT)
        {
            fd.Dispose();
            // mkdir -p with 0755 (Directory.CreateDirectory would use 0777 & ~umask), only when missing.
            string prefix = "";
            foreach (string part in absolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                prefix += "/" + part;
                if (MkdirAt(null, prefix, DirMode) != 0 && Errno.Last != Errno.EEXIST)
                    throw IoError($"cannot create directory {prefix}");
            }
            fd = Interop.Libc.Open(absolutePath, O_RDONLY | O_DIRECTORY);
        }
        if (fd.IsInvalid)
        {
            if (Errno.Last == Errno.ENOENT && !create) return null;
            throw IoError($"cannot open directory {absolutePath}");
        }
        return new StoreDirectory(fd, absolutePath);
    }

    public StoreDirectory? OpenChild(string name, bool create) =>
        Open(Fd, name, System.IO.Path.Combine(Path, name), create);

    /// <summary>
    /// Opens a subdirectory that belongs to us (.cniveth and what is inside it): whatever else sits at that
    /// name (a file, a symlink, a FIFO) is ours to replace, and is replaced when <paramref name="create"/>.
    /// Null when it is missing (or not a directory) and was not or could not be created; the reason is in
    /// <paramref name="failure"/> (null when creation was not asked for).
    /// </summary>
    public StoreDirectory? OpenOwnChild(string name, bool create, out StoreException? failure, out bool replaced)
    {
        failure = null;
        replaced = false;
        string display = Child(name);
        SafeFd fd = OpenAt(Fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (!fd.IsInvalid) return new StoreDirectory(fd, display);
        int errno = Errno.Last;
        if (errno != Errno.ENOENT && errno != Errno.ENOTDIR && errno != Errno.ELOOP)
        {
            failure = IoError($"cannot open directory {display}", errno);
            return null;
        }
        if (!create) return null;
        try
        {
            if (errno != Errno.ENOENT) replaced = RemoveAny(name);
            if (MkdirAt(Fd, name, DirMode) != 0 && Errno.Last != Errno.EEXIST)
                throw IoError($"cannot create directory {display}");
            fd = OpenAt(Fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (fd.IsInvalid) throw IoError($"cannot open directory {display}");
            return new StoreDirectory(fd, display);
        }
        catch (StoreException e)
        {
            failure = e;
            return null;
        }
    }

    /// <summary>Opens (or creates, 0600) a file for an exclusive flock; never through a symlink.</summary>
    public SafeFd OpenLockFile(string name)
    {
        SafeFd fd = OpenAt(Fd, name, O_RDWR | O_CREAT | O_NOFOLLOW, FileMode);
        if (fd.IsInvalid) throw IoError($"cannot open lock file {Child(name)}");
        return fd;
    }

    /// <summary>Opens an existing lock file read-only (a shared flock needs no write access); null when
    /// there is none.</summary>
    public SafeFd? OpenLockFileForReading(string name)
    {
        SafeFd fd = OpenAt(Fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        if (!fd.IsInvalid) return fd;
        if (Errno.Last == Errno.ENOENT) return null;
        throw IoError($"cannot open lock file {Child(name)}");
    }

    /// <summary>Opens a name for reading without following a symlink or blocking on a FIFO. Missing or
    /// NotAFile (a symlink, a socket) come back with an invalid fd.</summary>
    public (SafeFd Fd, EntryKind Kind) OpenForReading(string name)
    {
        SafeFd fd = OpenAt(Fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        if (!fd.IsInvalid) return (fd, EntryKind.File);
        int errno = Errno.Last;
        if (errno == Errno.ENOENT) return (fd, EntryKind.Missing);
        // ELOOP: a symlink (O_NOFOLLOW); ENXIO: a socket; ENODEV/EOPNOTSUPP: a special file.
        if (errno == Errno.ELOOP || errno == Errno.ENXIO || errno == Errno.ENODEV || errno == Errno.EOPNOTSUPP)
            return (fd, EntryKind.NotAFile);
        throw IoError($"cannot read {Child(name)}", errno);
    }

    /// <summary>Reads a file of this directory: its text when it is a regular file of at most
    /// <paramref name="cap"/> bytes, otherwise what it is.</summary>
    public StoreFile Read(string name, int cap)
    {
        var (fd, kind) = OpenForReading(name);
        using (fd)
            return kind == EntryKind.File ? ReadOpened(fd, name, cap) : new StoreFile(kind, "");
    }

    /// <summary>Reads an open entry: regular files up to <paramref name="cap"/> bytes only.</summary>
    public StoreFile ReadOpened(SafeFd fd, string name, int cap)
    {
        if (StatOpened(fd, out var st) != 0) throw IoError($"cannot stat {Child(name)}");
        if ((st.stx_mode & S_IFMT) != S_IFREG) return new StoreFile(EntryKind.NotAFile, "");
        if ((long)st.stx_size > cap) return new StoreFile(EntryKind.TooLarge, "");
        // Store files are a few dozen bytes: read into the stack first, and only grow on the heap for
        // the rare larger one (an index rebuild reads 60,000 files; a 4 KB buffer each was 240 MB of garbage).
        // A regular file returns less than asked only at its end, so a file of the size statx gave (or
        // smaller) costs one read(2); one more byte is asked for to notice a file that grew meanwhile.
        Span<byte> first = stackalloc byte[512];
        int want = (int)Math.Min((long)st.stx_size + 1, first.Length);
        int length = ReadSome(fd, first[..want], name);
        if (length < want) return new StoreFile(EntryKind.File, Encoding.UTF8.GetString(first[..length]));
        int got;
        byte[] all = new byte[Math.Min(cap + 1, Math.Max((int)st.stx_size + 1, first.Length * 2))];
        first[..length].CopyTo(all);
        while (length <= cap)
        {
            if (length == all.Length) Array.Resize(ref all, Math.Min(cap + 1, all.Length * 2));
            if ((got = ReadSome(fd, all.AsSpan(length), name)) == 0) break;
            length += got;
        }
        if (length > cap) return new StoreFile(EntryKind.TooLarge, "");
        return new StoreFile(EntryKind.File, Encoding.UTF8.GetString(all, 0, length));
    }

    /// <summary>statx of an open fd (AT_EMPTY_PATH), without marshalling a path: a rebuild does it per file.</summary>
    private static unsafe int StatOpened(SafeFd fd, out statx result)
    {
        statx st;
        int rc;
        fixed (byte* empty = "\0"u8) rc = LibC.statx(fd.Fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &st);
        result = st;
        return rc;
    }

    private int ReadSome(SafeFd fd, Span<byte> into, string name)
    {
        while (true)
        {
            nint n = Interop.Libc.Read(fd, into);
            if (n >= 0) return (int)n;
            if (Errno.Last != Errno.EINTR) throw IoError($"cannot read {Child(name)}");
        }
    }

    /// <summary>Writes a fresh file (0600), replacing whatever had that name (it is ours: a scratch or
    /// index file). With <paramref name="tag"/>, the file carries it as the boot tag (see BootTag).
    /// A failed write removes the partial file. Not fsynced: see HostLocalStore for why durability
    /// across power loss is not needed.</summary>
    public void WriteNewFile(string name, string content, bool replace = true, byte[]? tag = null)
    {
        // Created first; what holds the name (a leftover scratch file after a crash, or damage) is removed
        // only when the exclusive create finds it, instead of an unlink that fails with ENOENT every time.
        SafeFd fd = OpenAt(Fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FileMode);
        if (fd.IsInvalid && replace && Errno.Last == Errno.EEXIST)
        {
            fd.Dispose();
            RemoveAny(name);
            fd = OpenAt(Fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FileMode);
        }
        using var owned = fd;
        if (fd.IsInvalid) throw IoError($"cannot create {Child(name)}");
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(content);
            int offset = 0;
            while (offset < bytes.Length)
            {
                nint n = Write(fd, bytes.AsSpan(offset));
                if (n < 0)
                {
                    if (Errno.Last == Errno.EINTR) continue;
                    throw IoError($"cannot write {Child(name)}");
                }
                offset += (int)n;
            }
        }
        catch (StoreException)
        {
            UnlinkAt(Fd, name); // frees the space a full disk needs back; a leftover is replaced next time anyway
            throw;
        }
        if (tag is not null) BootTag.TrySet(fd, tag, onlyIfAbsent: false);
    }

    /// <summary>Publishes <paramref name="from"/>/<paramref name="fromName"/> as <paramref name="toName"/>
    /// here; false when that name is already taken (the O_EXCL guarantee, with the content already in place).</summary>
    public bool TryLinkFrom(StoreDirectory from, string fromName, string toName)
    {
        if (LinkAt(from.Fd, fromName, Fd, toName) == 0) return true;
        if (Errno.Last == Errno.EEXIST) return false;
        throw IoError($"cannot create {Child(toName)}");
    }

    /// <summary>Atomically replaces <paramref name="toName"/> here with <paramref name="from"/>/<paramref name="fromName"/>.</summary>
    public void RenameFrom(StoreDirectory from, string fromName, string toName)
    {
        if (RenameAt(from.Fd, fromName, Fd, toName) != 0) throw IoError($"cannot replace {Child(toName)}");
    }

    /// <summary>Removes a name (a symlink itself, never its target); false when it did not exist.
    /// A directory is not removed (EISDIR is an error).</summary>
    public bool Unlink(string name)
    {
        if (UnlinkAt(Fd, name) == 0) return true;
        if (Errno.Last == Errno.ENOENT) return false;
        throw IoError($"cannot remove {Child(name)}");
    }

    /// <summary>Removes whatever a name of OUR state holds, a directory tree included (never following a
    /// symlink, at most a few levels deep). Only for names under .cniveth/. False when nothing was there.</summary>
    public bool RemoveAny(string name) => RemoveAny(name, 0);

    private bool RemoveAny(string name, int depth)
    {
        if (UnlinkAt(Fd, name) == 0) return true;
        int errno = Errno.Last;
        if (errno == Errno.ENOENT) return false;
        if (errno != Errno.EISDIR && errno != Errno.EPERM) throw IoError($"cannot remove {Child(name)}", errno);
        if (depth >= MaxTreeDepth) throw StoreException.Io($"cannot remove {Child(name)}: nested too deeply");
        using (var sub = Open(Fd, name, Child(name), create: false))
        {
            if (sub is null) return false;
            foreach (string child in sub.ListNames()) sub.RemoveAny(child, depth + 1);
        }
        if (UnlinkAt(Fd, name, LibC.AT_REMOVEDIR) != 0 && Errno.Last != Errno.ENOENT)
            throw IoError($"cannot remove directory {Child(name)}");
        return true;
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
            var names = new List<string>();
            foreach (string p in Directory.EnumerateFileSystemEntries("/proc/self/fd/" + Fd.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                names.Add(System.IO.Path.GetFileName(p));
            return names;
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
