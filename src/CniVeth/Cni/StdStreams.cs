using Microsoft.Win32.SafeHandles;

namespace CniVeth.Cni;

/// <summary>stdin/stdout as plain streams over fds 0 and 1. System.Console would also start .NET's
/// terminal and signal-handling machinery (a thread and a pipe) on every plugin call.</summary>
internal static class StdStreams
{
    public static Stream Stdout() =>
        new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);

    /// <summary>Empty when stdin is a terminal: VERSION typed at a shell must not wait for input.</summary>
    public static Stream Stdin() => Interop.Libc.IsATty(0) == 1
        ? Stream.Null
        : new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
}
