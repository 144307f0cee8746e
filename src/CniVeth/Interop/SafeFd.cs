using System.Runtime.InteropServices;

/// <summary>A file descriptor owned by this process; closed exactly once.</summary>
internal sealed class SafeFd : SafeHandle
{
    public SafeFd() : base(new IntPtr(-1), ownsHandle: true) { }
    public SafeFd(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Interop.Libc.Close((int)handle.ToInt64()) == 0;
}
