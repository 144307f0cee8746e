using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int SIGINT = 2, SIGTERM = 15;
        internal static readonly nint SIG_IGN = 1;

        /// <summary>signal(2): process-wide disposition (used to ignore SIGTERM/SIGINT during DEL).</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "signal")]
        internal static partial nint Signal(int signum, nint handler);
    }
}
