using System.Diagnostics;
using CniVeth.Cni;
using static Interop.Libc;

namespace CniVeth.Ipam.Store;

/// <summary>
/// flock(LOCK_EX) on &lt;network&gt;/lock, the same lock the reference plugin takes, held for a whole
/// verb (every range set). Waiting is bounded: a wedged holder yields "try again later" (code 11)
/// instead of hanging the runtime. Lock errors are errors.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private const int EWOULDBLOCK = 11, EINTR = 4;
    private int _fd;

    private StoreLock(int fd) => _fd = fd;

    public static StoreLock Acquire(StoreDirectory dir, TimeSpan timeout)
    {
        int fd = dir.OpenLockFile("lock");
        var clock = Stopwatch.StartNew();
        int sleepMs = 1;
        while (true)
        {
            if (Flock(fd, FlockOperations.LOCK_EX | FlockOperations.LOCK_NB) == 0) return new StoreLock(fd);
            int errno = StoreDirectory.Errno();
            if (errno != EWOULDBLOCK && errno != EINTR)
            {
                Close(fd);
                throw StoreDirectory.IoError($"cannot lock {dir.Child("lock")}", errno);
            }
            if (clock.Elapsed >= timeout)
            {
                Close(fd);
                throw new CniException(ErrorCode.TryAgainLater,
                    $"timed out after {timeout.TotalSeconds:0} s waiting for the lock {dir.Child("lock")}; try again later");
            }
            Thread.Sleep(sleepMs);
            sleepMs = Math.Min(sleepMs * 2, 20);
        }
    }

    public void Dispose()
    {
        if (_fd < 0) return;
        Close(_fd); // closing the only fd releases the flock
        _fd = -1;
    }
}
