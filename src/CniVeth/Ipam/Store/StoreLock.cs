using CniVeth.Cni;
using static Interop.Libc;

namespace CniVeth.Ipam.Store;

/// <summary>
/// flock on &lt;network&gt;/lock, the same lock the reference plugin takes, held for a whole verb (every
/// range set). Verbs that change the store take it exclusively (LOCK_EX, creating the file). CHECK only
/// reads, so it takes it shared (LOCK_SH) on a read-only descriptor of an existing lock file, and takes no
/// lock when there is none: it must work on a read-only store, where the file cannot be created. (A reader
/// without the lock still sees whole reservations: each is published by one link(2).) Waiting is bounded:
/// a wedged holder yields "try again later" (code 11) instead of hanging the runtime. Lock errors are errors.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private const int LOCK_SH = 1;
    private readonly SafeFd _fd;

    private StoreLock(SafeFd fd) => _fd = fd;

    public static StoreLock Acquire(StoreDirectory dir, TimeSpan timeout) =>
        Acquire(dir, dir.OpenLockFile("lock"), LOCK_EX, timeout);

    /// <summary>A shared lock for readers; null when the store has no lock file.</summary>
    public static StoreLock? AcquireShared(StoreDirectory dir, TimeSpan timeout) =>
        dir.OpenLockFileForReading("lock") is { } fd ? Acquire(dir, fd, LOCK_SH, timeout) : null;

    private static StoreLock Acquire(StoreDirectory dir, SafeFd fd, int operation, TimeSpan timeout)
    {
        if (Flock(fd, operation | LOCK_NB) == 0) return new StoreLock(fd);
        int errno = Errno.Last;
        if (errno != Errno.EAGAIN && errno != Errno.EINTR) throw Failed(dir, fd, errno);

        // Contended: block in the kernel (woken the moment the holder releases, unlike a sleep-and-retry
        // loop, which made bursts of ADDs queue up), on a helper thread so the wait stays bounded.
        int result = -1, waitErrno = 0;
        var waiter = new Thread(() =>
        {
            while ((result = Flock(fd, operation)) != 0 && (waitErrno = Errno.Last) == Errno.EINTR) { }
        }) { IsBackground = true, Name = "store-lock" };
        waiter.Start();
        if (!waiter.Join(timeout))
        {
            // The waiter still uses fd: it is left open and released when this short-lived process exits.
            throw StoreException.LockTimeout(
                $"timed out after {timeout.TotalSeconds:0} s waiting for the lock {dir.Child("lock")}; try again later");
        }
        if (result != 0) throw Failed(dir, fd, waitErrno);
        return new StoreLock(fd);
    }

    private static Exception Failed(StoreDirectory dir, SafeFd fd, int errno)
    {
        fd.Dispose();
        return StoreDirectory.IoError($"cannot lock {dir.Child("lock")}", errno);
    }

    /// <summary>Closing the only fd releases the flock.</summary>
    public void Dispose() => _fd.Dispose();
}
