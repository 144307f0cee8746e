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

    /// <summary>stderr for diagnostics, opened on the first write: most calls never write to it, and
    /// System.Console's writer probes the terminal and the encoding when it is created (~1% of an ADD).</summary>
    public static TextWriter Stderr() => new LazyStderr();

    private sealed class LazyStderr : TextWriter
    {
        private TextWriter? _inner;

        private TextWriter Inner => _inner ??= Console.Error;

        public override System.Text.Encoding Encoding => Inner.Encoding;
        public override void Write(char value) => Inner.Write(value);
        public override void Write(string? value) => Inner.Write(value);
        public override void WriteLine(string? value) => Inner.WriteLine(value);
        public override void Flush() => _inner?.Flush();
    }
}
