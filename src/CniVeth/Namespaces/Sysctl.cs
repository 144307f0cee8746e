using System.Text;

namespace CniVeth.Namespaces;

/// <summary>Reads and writes /proc/sys in the calling thread's network namespace (never execs sysctl).</summary>
internal static class Sysctl
{
    public static unsafe string? Read(string key)
    {
        using SafeFd fd = Interop.Libc.OpenFd("/proc/sys/" + key, Interop.Libc.OpenFlags.O_RDONLY);
        if (fd.IsInvalid) return null;
        byte* buf = stackalloc byte[64];
        nint n = Interop.Libc.Read(fd.Fd, buf, 64);
        return n < 0 ? null : Encoding.ASCII.GetString(buf, (int)n).Trim();
    }

    /// <summary>Writes a value; throws with the key and errno on failure.</summary>
    public static unsafe void Write(string key, string value)
    {
        using SafeFd fd = Interop.Libc.OpenFd("/proc/sys/" + key, Interop.Libc.OpenFlags.O_WRONLY);
        if (fd.IsInvalid) throw new IOException($"failed to set sysctl {key}={value}: {Errno.Describe(Errno.Last)}");
        byte[] bytes = Encoding.ASCII.GetBytes(value);
        fixed (byte* p = bytes)
        {
            if (Interop.Libc.Write(fd.Fd, p, bytes.Length) < 0)
                throw new IOException($"failed to set sysctl {key}={value}: {Errno.Describe(Errno.Last)}");
        }
    }

    /// <summary>Writes only when the current value differs (a write can have side effects, e.g. forwarding resets).</summary>
    public static void Ensure(string key, string value)
    {
        if (Read(key) != value) Write(key, value);
    }

    /// <summary>Ensure, ignoring failure (for settings that only refine behaviour).</summary>
    public static void TryEnsure(string key, string value)
    {
        try { Ensure(key, value); }
        catch (IOException) { }
    }
}
