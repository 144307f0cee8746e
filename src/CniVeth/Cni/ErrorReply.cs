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
        return e is CniException cni
            ? ToJson(cniVersion, cni.Code, cni.Message, cni.Details)
            : ToJson(cniVersion, ErrorCode.Internal, $"internal error: {e.Message}", e.GetType().Name);
    }
}
