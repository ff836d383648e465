using System.Net;
using System.Text.Json;
using Bridge.Tests.DeadLetters;
using static Bridge.Tests.Ingress.DoorRequests;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Review1;

/// <summary>REVIEW1: adversarial review of 6e2ce3f at the HTTP door. Fails today.</summary>
[Collection(DeadLetterCollection.Name)]
public sealed class Review1DoorTests(DeadLetterFixture fixture)
{
    /// <summary>
    /// REVIEW1 (6e2ce3f, bad input): AmbiguousMember now reads the name of every member at every depth, and
    /// JsonProperty.Name throws InvalidOperationException for an escaped unpaired surrogate ("\ud800"), which JsonDocument.Parse
    /// accepts. A body with such a name anywhere (here inside a member Bridge does not even know) is answered 500 instead of
    /// the door's 400 "not valid JSON / send each member once" — the brief's "bad input gets a clear validation rejection".
    /// </summary>
    [Fact]
    public async Task a_member_name_with_an_unpaired_surrogate_deep_in_the_body_is_a_400_not_a_500()
    {
        var json = JsonSerializer.Serialize(Document(NewKey(), revision: 1, accountId: NewAccount()), WebJson);
        json = json[..^1] + ",\"erpExtra\":{\"note\\ud800\":1}}";
        using var door = fixture.Door();

        using var answer = await door.PostAsync(new Uri("api/messages/SendClosingDocument", UriKind.Relative), JsonBody(json, NewKey()));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
    }
}
