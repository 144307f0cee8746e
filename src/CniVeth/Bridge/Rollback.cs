namespace CniVeth.Bridge;

/// <summary>Undo steps of a half-done ADD, run in reverse order; every step runs even if others fail.</summary>
internal sealed class Rollback
{
    private readonly List<(string What, Action Undo)> _steps = new();

    public void Add(string what, Action undo) => _steps.Add((what, undo));

    public void Clear() => _steps.Clear();

    /// <summary>Runs every step; returns the failures ("undo X: reason").</summary>
    public List<string> Run()
    {
        var errors = new List<string>();
        for (int i = _steps.Count - 1; i >= 0; i--)
        {
            try { _steps[i].Undo(); }
            catch (Exception e) { errors.Add($"undo {_steps[i].What}: {e.Message}"); }
        }
        _steps.Clear();
        return errors;
    }
}
