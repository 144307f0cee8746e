namespace CniVeth.Cni;

/// <summary>
/// The one mapping from an exception to what the runtime is told (code, msg, details), shared by the
/// error reply, the log line and teardown's combined error, so all three always agree.
/// </summary>
internal readonly record struct CniError(int Code, string Message, string Details)
{
    public static CniError From(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
            e = aggregate.InnerExceptions[0];
        return e switch
        {
            CniFailure f => new CniError(f.Code, f.Message, f.Details),
            // A file or stream the runtime handed us (stdin, a path in the config) failed: the message says which.
            IOException or UnauthorizedAccessException => new CniError(ErrorCode.Internal, e.Message, ""),
            // Anything else is a bug of ours: say so, without a stack trace.
            _ => new CniError(ErrorCode.Internal, "internal error: " + e.Message, e.GetType().Name),
        };
    }
}
