internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>The hand-written imports below (what Tmds.LibC 0.5.0 lacks). Tmds.LibC itself imports
        /// "libc.so.6"; both names are bound at link time (DirectPInvoke in the csproj).</summary>
        internal const string Libc = "libc";
    }
}
