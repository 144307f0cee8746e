namespace CniVeth.Cni;

/// <summary>The error object every failure prints on stdout (libcni parses stdout, not stderr).</summary>
internal static class ErrorReply
{
    public static byte[] ToJson(string cniVersion, int code, string message, string details) =>
        CniJsonWriter.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("cniVersion", cniVersion);
            w.WriteNumber("code", code);
            w.WriteString("msg", message);
            w.WriteString("details", details);
            w.WriteEndObject();
        });

    /// <summary>Any exception as a CNI error: CniException keeps its code, everything else is 999 with
    /// the exception's message and type only (never a stack trace).</summary>
    public static byte[] FromException(string cniVersion, Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
            e = aggregate.InnerExceptions[0];
        return e switch
        {
            CniException cni => ToJson(cniVersion, cni.Code, cni.Message, cni.Details),
            // Our own typed failures (a kernel errno from netlink, a namespace that cannot be entered, a
            // sysctl or store file that cannot be written) already say what failed and why.
            IOException or UnauthorizedAccessException => ToJson(cniVersion, ErrorCode.Internal, e.Message, ""),
            _ when e.GetType().Namespace?.StartsWith("CniVeth", StringComparison.Ordinal) == true =>
                ToJson(cniVersion, ErrorCode.Internal, e.Message, ""),
            _ => ToJson(cniVersion, ErrorCode.Internal, $"internal error: {e.Message}", e.GetType().Name),
        };
    }
}
