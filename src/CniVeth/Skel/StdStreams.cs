namespace CniVeth.Skel;

/// <summary>
/// stdin, stdout and stderr as plain read(2)/write(2) streams over fds 0, 1 and 2. Not System.Console: it would
/// start .NET's terminal and signal machinery (a thread and a pipe) on every call, and on a terminal it reads
/// the terminfo database, looking up the user's home directory through NSS, which a static executable must
/// not do (see Native/static_glibc.c). Not FileStream either: on a
/// regular file it reads with pread at offset 0 and writes with pwrite without moving the shared file
/// offset, so a reply redirected to a file was overwritten by the next writer of that file.
/// </summary>
internal static class StdStreams
{
    public static Stream Stdout() => new FdStream(1, "stdout");

    /// <summary>Empty when stdin is a terminal: VERSION typed at a shell must not wait for input.</summary>
    public static Stream Stdin() => Interop.Libc.IsATty(0) ? Stream.Null : new FdStream(0, "stdin");

    /// <summary>stderr for diagnostics (UTF-8, every write goes straight out), its writer made on the first
    /// write: most calls never write to it.</summary>
    public static TextWriter Stderr() => new LazyStderr();

    /// <summary>One direction of an inherited descriptor; failures are IOExceptions naming the stream and errno,
    /// or with <paramref name="dropWriteErrors"/> (stderr) dropped: a diagnostic that cannot be written (stderr
    /// closed, or a pipe nobody reads) must not fail the call it describes.</summary>
    private sealed class FdStream(int fd, string name, bool dropWriteErrors = false) : Stream
    {
        private readonly SafeFd _fd = SafeFd.Borrowed(fd);

        public override bool CanRead => fd == 0;
        public override bool CanWrite => fd != 0;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (true)
            {
                nint n = Interop.Libc.Read(_fd, buffer);
                if (n >= 0) return (int)n;
                if (Errno.Last != Errno.EINTR) throw Failure("reading from");
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                nint n = Interop.Libc.Write(_fd, buffer);
                if (n >= 0) { buffer = buffer[(int)n..]; continue; }
                if (Errno.Last == Errno.EINTR) continue;
                if (dropWriteErrors) return;
                throw Failure("writing to");
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private IOException Failure(string what) => new($"{what} {name}: {Errno.Describe(Errno.Last)}");
    }

    private sealed class LazyStderr : TextWriter
    {
        private TextWriter? _inner;

        private TextWriter Inner => _inner ??= new StreamWriter(new FdStream(2, "stderr", dropWriteErrors: true), new System.Text.UTF8Encoding(false)) { AutoFlush = true };

        public override System.Text.Encoding Encoding => Inner.Encoding;
        public override void Write(char value) => Inner.Write(value);
        public override void Write(string? value) => Inner.Write(value);
        public override void WriteLine(string? value) => Inner.WriteLine(value);
        public override void Flush() => _inner?.Flush();
    }
}
