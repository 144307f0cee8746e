internal static partial class Interop
{
    internal static class Libraries
    {
        internal const string Libc = "libc";
    }
}
