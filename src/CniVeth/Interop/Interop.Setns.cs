using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int CLONE_NEWNET = 0x40000000;

        /// <summary>setns(2): moves only the calling thread into the namespace.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "setns", SetLastError = true)]
        internal static partial int Setns(SafeFd fd, int nstype);
    }
}
