namespace CniVeth.Cni;

/// <summary>
/// Best-effort teardown (DEL, GC, and IPAM's own GC) carries on past failures and reports them together at
/// the end. The reported code is the failures' own when they agree (e.g. 11 "try again later" for a busy
/// store lock, 5 for an I/O error), 999 when they differ.
/// </summary>
internal sealed class TeardownErrors
{
    private readonly List<CniError> _errors = new();

    public bool Any => _errors.Count > 0;

    public void Add(Exception e) => _errors.Add(CniError.From(e));

    /// <summary>Runs one step; a failure is recorded and the teardown goes on.</summary>
    public void Try(Action step)
    {
        try { step(); }
        catch (Exception e) { Add(e); }
    }

    public void ThrowIfAny(string what, string details)
    {
        if (_errors.Count == 0) return;
        int code = _errors.TrueForAll(e => e.Code == _errors[0].Code) ? _errors[0].Code : ErrorCode.Internal;
        throw new CniException(code, what + ": " + string.Join("; ", _errors.Select(e => e.Message)), details);
    }
}
