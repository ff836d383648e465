using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Bridge.Tests.Storage;

/// <summary>
/// A store test. It is reported skipped when its (concrete) test class carries a
/// <see cref="RequiresEnvironmentVariableAttribute"/> whose variable is unset: the one suite is written once in an
/// abstract base, so the attribute on the method cannot know which database it will run against.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("Bridge.Tests.Storage.StoreFactDiscoverer", "Bridge.Tests")]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>Skips every store test of the class it marks unless <paramref name="name"/> is set.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresEnvironmentVariableAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        yield return new StoreTestCase(
            diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod);
    }
}

public sealed class StoreTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public StoreTestCase()
    {
    }

    public StoreTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay methodDisplay, TestMethodDisplayOptions methodDisplayOptions, ITestMethod testMethod)
        : base(diagnosticMessageSink, methodDisplay, methodDisplayOptions, testMethod)
    {
    }

    // Evaluated again after de-serialization, from the class and the environment, so nothing extra is serialized.
    protected override string GetSkipReason(IAttributeInfo factAttribute)
    {
        var requirement = TestMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresEnvironmentVariableAttribute)).FirstOrDefault();
        var variable = requirement?.GetConstructorArguments().FirstOrDefault() as string;
        if (variable is not null && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable)))
        {
            return $"{variable} is not set: no SQL Server to run against (set it to a connection string to run these).";
        }

        return base.GetSkipReason(factAttribute);
    }
}
