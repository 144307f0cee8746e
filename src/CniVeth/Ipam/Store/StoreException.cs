using CniVeth.Cni;

namespace CniVeth.Ipam.Store;

/// <summary>
/// The reservation store could not do its work: a file or directory of the store could not be read,
/// written, linked or locked (code 5, I/O failure, naming the path and the errno), or the lock stayed
/// held by another process past the timeout (code 11, try again later).
/// </summary>
internal sealed class StoreException : CniFailure
{
    /// <summary>The errno of the failed call, 0 when there was none (a timeout, a file that is too large).</summary>
    public int Errno { get; }
    public bool Busy { get; }

    private StoreException(string message, int errno, bool busy) : base(message)
    {
        Errno = errno;
        Busy = busy;
    }

    public override int Code => Busy ? ErrorCode.TryAgainLater : ErrorCode.IoFailure;

    /// <summary>"cannot create /var/lib/cni/networks/n/10.88.0.5: No space left on device".</summary>
    public static StoreException Io(string what, int errno) =>
        new($"{what}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}", errno, busy: false);

    public static StoreException Io(string message) => new(message, 0, busy: false);

    public static StoreException LockTimeout(string message) => new(message, 0, busy: true);
}
