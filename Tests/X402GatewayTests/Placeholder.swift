import Testing

@Test func placeholder_X402GatewayTests() {}
