using System.Text;

namespace CniVeth.Namespaces;

/// <summary>Reads and writes /proc/sys in the calling thread's network namespace (never execs sysctl).</summary>
internal static class Sysctl
{
    public static string? Read(string key)
    {
        using SafeFd fd = Interop.Libc.Open("/proc/sys/" + key, Interop.Libc.O_RDONLY);
        if (fd.IsInvalid) return null;
        Span<byte> buf = stackalloc byte[64];
        nint n = Interop.Libc.Read(fd, buf);
        return n < 0 ? null : Encoding.ASCII.GetString(buf[..(int)n]).Trim();
    }

    /// <summary>Writes a value; throws with the key and errno on failure.</summary>
    public static void Write(string key, string value)
    {
        using SafeFd fd = Interop.Libc.Open("/proc/sys/" + key, Interop.Libc.O_WRONLY);
        if (fd.IsInvalid) throw new IOException($"failed to set sysctl {key}={value}: {Errno.Describe(Errno.Last)}");
        if (Interop.Libc.Write(fd, Encoding.ASCII.GetBytes(value)) < 0)
            throw new IOException($"failed to set sysctl {key}={value}: {Errno.Describe(Errno.Last)}");
    }

    /// <summary>Writes only when the current value differs (a write can have side effects, e.g. forwarding resets).</summary>
    public static void Ensure(string key, string value)
    {
        if (Read(key) != value) Write(key, value);
    }

    /// <summary>Write, ignoring failure (a key that does not exist here, e.g. IPv6 turned off at boot).</summary>
    public static void TryWrite(string key, string value)
    {
        try { Write(key, value); }
        catch (IOException) { }
    }

    /// <summary>Ensure, ignoring failure (for settings that only refine behaviour).</summary>
    public static void TryEnsure(string key, string value)
    {
        try { Ensure(key, value); }
        catch (IOException) { }
    }
}
