namespace Bridge.Chaos.Checking;

/// <summary>One family of invariants, checked against the whole run.</summary>
public interface IFlowCheck
{
    IEnumerable<Violation> Check(MessageIndex index);
}
